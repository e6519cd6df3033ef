//! `GET /v2/markets/margin-alert`: the issues the TSE publishes margin balances for daily
//! (about one in 50 margin-eligible issues on a given day), with the reasons as the nested
//! `PubReason` object. `code` or `date` (publication date) is required.

use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value};

use crate::calendar::{is_trading_day, trading_days};
use crate::config::Plan;
use crate::corporate::issuer;
use crate::hash::{hash_bytes, mix, unit};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day, text};
use crate::params::IssueCode;
use crate::price_level::base_price;

pub(crate) const ENDPOINT: Endpoint = Endpoint::new("/markets/margin-alert", Plan::Standard, list);

const REASONS: [&str; 6] = [
    "Restricted",
    "DailyPublication",
    "Monitoring",
    "RestrictedByJSF",
    "PrecautionByJSF",
    "UnclearOrSecOnAlert",
];

fn seed(code: &IssueCode, date: NaiveDate) -> u64 {
    mix(&[
        hash_bytes(code.as_str().as_bytes()),
        u64::from(date.num_days_from_ce().unsigned_abs()),
        0xA1,
    ])
}

fn published(code: &IssueCode, date: NaiveDate) -> bool {
    seed(code, date).is_multiple_of(50) && issuer(code).margin != 3
}

fn list(q: &Query) -> Result<Listing, ApiError> {
    q.require_one_of(&["date", "code"])?;
    let codes = q.codes()?;
    let (from, to) = q.range(q.window())?;
    let days: Vec<NaiveDate> = trading_days(from, to).collect();
    let found: Vec<(IssueCode, NaiveDate)> = codes
        .iter()
        .flat_map(|c| days.iter().map(move |d| (c, *d)))
        .filter(|(c, d)| published(c, *d))
        .map(|(c, d)| (c.clone(), d))
        .collect();
    Ok(Listing::new(found.len(), move |i| {
        found.get(i).map(|(c, d)| row(c, *d))
    }))
}

fn row(code: &IssueCode, date: NaiveDate) -> Record {
    let h = seed(code, date);
    let u = |salt: u64| unit(mix(&[h, salt]));
    let mut application = date.pred_opt().unwrap_or(date);
    while !is_trading_day(application) {
        application = application.pred_opt().unwrap_or(application);
    }
    let reason = (h >> 8) as usize % REASONS.len();
    let reasons: Map<String, Value> = REASONS
        .iter()
        .enumerate()
        .map(|(i, r)| ((*r).to_owned(), text(if i == reason { "1" } else { "0" })))
        .collect();
    let listed = (2.0e9 / base_price(code)).max(1.0e5);
    let lots = |x: f64| (x / 100.0).round() * 100.0;
    let (short_neg, short_std) = (lots(listed * 0.002 * u(1)), lots(listed * 0.01 * u(2)));
    let (long_neg, long_std) = (lots(listed * 0.01 * u(3)), lots(listed * 0.04 * u(4)));
    let change = |x: f64, salt: u64| lots(x * 0.2 * (u(salt) - 0.5));
    let (short, long) = (short_neg + short_std, long_neg + long_std);
    let ratio = |x: f64| (x / listed * 1.0e4).round() / 100.0;
    let mut row = Record::with_capacity(20);
    row.push("PubDate", day(date));
    row.push("Code", code.as_str());
    row.push("AppDate", day(application));
    row.push("PubReason", Value::Object(reasons));
    row.push("ShrtOut", short);
    row.push("ShrtOutChg", change(short, 5));
    row.push("ShrtOutRatio", ratio(short));
    row.push("LongOut", long);
    row.push("LongOutChg", change(long, 6));
    row.push("LongOutRatio", ratio(long));
    row.push(
        "SLRatio",
        if short > 0.0 {
            (short / long.max(1.0) * 1.0e4).round() / 100.0
        } else {
            0.0
        },
    );
    row.push("ShrtNegOut", short_neg);
    row.push("ShrtNegOutChg", change(short_neg, 7));
    row.push("ShrtStdOut", short_std);
    row.push("ShrtStdOutChg", change(short_std, 8));
    row.push("LongNegOut", long_neg);
    row.push("LongNegOutChg", change(long_neg, 9));
    row.push("LongStdOut", long_std);
    row.push("LongStdOutChg", change(long_std, 10));
    row.push("TSEMrgnRegCls", if reason == 0 { "001" } else { "" });
    row
}
