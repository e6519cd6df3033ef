//! `GET /v2/equities/investor-types`: weekly trading by investor type per market section,
//! published on the fourth trading day of the following week. `section`, `from` and `to`
//! (on the publication date) are optional; rows are ordered by (PubDate, Section).

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::calendar::is_trading_day;
use crate::config::Plan;
use crate::hash::{hash_bytes, mix, unit};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day};

pub(crate) const ENDPOINT: Endpoint = Endpoint::new("/equities/investor-types", Plan::Light, list);

/// Sections before and after the 2022-04-04 reorganisation (reference §2.2 list).
const OLD_SECTIONS: [&str; 5] = ["TSE1st", "TSE2nd", "TSEMothers", "TSEJASDAQ", "TokyoNagoya"];
const NEW_SECTIONS: [&str; 4] = ["TSEPrime", "TSEStandard", "TSEGrowth", "TokyoNagoya"];

/// Each investor type's four columns: sales, purchases, total, balance.
const VALUE_KEYS: [&str; 52] = [
    "PropSell",
    "PropBuy",
    "PropTot",
    "PropBal",
    "BrkSell",
    "BrkBuy",
    "BrkTot",
    "BrkBal",
    "TotSell",
    "TotBuy",
    "TotTot",
    "TotBal",
    "IndSell",
    "IndBuy",
    "IndTot",
    "IndBal",
    "FrgnSell",
    "FrgnBuy",
    "FrgnTot",
    "FrgnBal",
    "SecCoSell",
    "SecCoBuy",
    "SecCoTot",
    "SecCoBal",
    "InvTrSell",
    "InvTrBuy",
    "InvTrTot",
    "InvTrBal",
    "BusCoSell",
    "BusCoBuy",
    "BusCoTot",
    "BusCoBal",
    "OthCoSell",
    "OthCoBuy",
    "OthCoTot",
    "OthCoBal",
    "InsCoSell",
    "InsCoBuy",
    "InsCoTot",
    "InsCoBal",
    "BankSell",
    "BankBuy",
    "BankTot",
    "BankBal",
    "TrstBnkSell",
    "TrstBnkBuy",
    "TrstBnkTot",
    "TrstBnkBal",
    "OthFinSell",
    "OthFinBuy",
    "OthFinTot",
    "OthFinBal",
];

fn sections(week_start: NaiveDate) -> &'static [&'static str] {
    let reorganised = NaiveDate::from_ymd_opt(2022, 4, 4).is_some_and(|d| week_start >= d);
    if reorganised {
        &NEW_SECTIONS
    } else {
        &OLD_SECTIONS
    }
}

/// The fourth trading day after the week ending `friday`.
fn publication(friday: NaiveDate) -> Option<NaiveDate> {
    let mut day = friday;
    let mut count = 0;
    while count < 4 {
        day = day.succ_opt()?;
        count += usize::from(is_trading_day(day));
    }
    Some(day)
}

fn list(q: &Query) -> Result<Listing, ApiError> {
    let section = q.get("section").map(str::to_owned);
    if let Some(s) = &section
        && !OLD_SECTIONS.contains(&s.as_str())
        && !NEW_SECTIONS.contains(&s.as_str())
    {
        return Err(ApiError::invalid("section"));
    }
    let (from, to) = q.range(q.window())?;
    let first_monday = from.checked_sub_days(Days::new(21)).unwrap_or(from);
    let first_monday = first_monday.week(Weekday::Mon).first_day();
    let mut rows = Vec::new();
    for week in first_monday.iter_weeks().take_while(|w| *w <= to) {
        let friday = week + Days::new(4);
        let traded = week.iter_days().take(5).any(is_trading_day);
        let Some(published) = publication(friday).filter(|p| traded && (from..=to).contains(p))
        else {
            continue;
        };
        for name in sections(week) {
            if section.as_deref().is_none_or(|s| s == *name) {
                rows.push(row(week, friday, published, name));
            }
        }
    }
    Ok(Listing::rows(rows))
}

fn row(week: NaiveDate, friday: NaiveDate, published: NaiveDate, section: &'static str) -> Record {
    let seed = mix(&[
        hash_bytes(section.as_bytes()),
        u64::from(week.num_days_from_ce().unsigned_abs()),
    ]);
    let scale =
        if section.starts_with("TSEPrime") || section == "TSE1st" || section == "TokyoNagoya" {
            1.0e9
        } else {
            4.0e7
        };
    // Sales and purchases (thousand yen) for the ten brokerage types, then proprietary.
    let pair = |salt: u64, share: f64| {
        let sell = (scale * share * (0.8 + 0.4 * unit(mix(&[seed, salt, 0])))).round();
        let buy = (scale * share * (0.8 + 0.4 * unit(mix(&[seed, salt, 1])))).round();
        (sell, buy)
    };
    let shares = [0.22, 0.58, 0.01, 0.03, 0.03, 0.005, 0.005, 0.01, 0.02, 0.01];
    let brokerage: Vec<(f64, f64)> = shares
        .iter()
        .zip(10_u64..)
        .map(|(s, salt)| pair(salt, *s))
        .collect();
    let prop = pair(1, 0.3);
    let brk = brokerage
        .iter()
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    let total = (prop.0 + brk.0, prop.1 + brk.1);
    let mut groups = vec![prop, brk, total];
    groups.extend(brokerage);
    let mut row = Record::with_capacity(56);
    row.push("PubDate", day(published));
    row.push("StDate", day(week));
    row.push("EnDate", day(friday));
    row.push("Section", section);
    for ((sell, buy), keys) in groups.into_iter().zip(VALUE_KEYS.chunks(4)) {
        for (key, value) in keys.iter().zip([sell, buy, sell + buy, buy - sell]) {
            row.push(key, value);
        }
    }
    row
}
