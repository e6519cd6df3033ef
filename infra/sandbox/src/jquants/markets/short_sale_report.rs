//! `GET /v2/markets/short-sale-report`: short positions of 0.5% or more, reported on a
//! calculation date and disclosed the next trading day (data from 2013-11-07). About one
//! issue in 200 has one or two reports on a given day. `code`, `disc_date` or `calc_date` is
//! required; `disc_date_from`/`disc_date_to` narrow the disclosure dates.

use chrono::{Datelike, Days, NaiveDate};

use crate::calendar::{is_trading_day, trading_days};
use crate::config::Plan;
use crate::hash::{hash_bytes, mix, unit};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day, text};
use crate::params::IssueCode;

pub(crate) const ENDPOINT: Endpoint =
    Endpoint::new("/markets/short-sale-report", Plan::Standard, list);

const REPORTERS: [(&str, &str); 6] = [
    (
        "Goldman Sachs International",
        "Plumtree Court, 25 Shoe Lane, London EC4A 4AU, United Kingdom",
    ),
    (
        "Morgan Stanley & Co. International plc",
        "25 Cabot Square, Canary Wharf, London E14 4QA, United Kingdom",
    ),
    (
        "Merrill Lynch International",
        "2 King Edward Street, London EC1A 1HQ, United Kingdom",
    ),
    ("UBS AG", "Bahnhofstrasse 45, 8001 Zurich, Switzerland"),
    (
        "Barclays Capital Securities Limited",
        "1 Churchill Place, London E14 5HP, United Kingdom",
    ),
    (
        "Citadel Securities (Europe) Limited",
        "Level 20, 10 Bishops Square, London E1 6EG, United Kingdom",
    ),
];

fn previous_trading_day(date: NaiveDate) -> Option<NaiveDate> {
    let mut day = date.pred_opt()?;
    while !is_trading_day(day) {
        day = day.pred_opt()?;
    }
    Some(day)
}

fn next_trading_day(date: NaiveDate) -> NaiveDate {
    let mut day = date.succ_opt().unwrap_or(date);
    while !is_trading_day(day) {
        day = day.succ_opt().unwrap_or(day);
    }
    day
}

/// How many reports `code` has for calculation date `calc` (0, 1 or 2).
fn reports(issue: u64, calc: NaiveDate) -> u64 {
    let h = mix(&[
        issue,
        u64::from(calc.num_days_from_ce().unsigned_abs()),
        0x55,
    ]);
    if h.is_multiple_of(200) {
        1 + (h >> 32) % 2
    } else {
        0
    }
}

fn list(q: &Query) -> Result<Listing, ApiError> {
    q.require_one_of(&["code", "disc_date", "calc_date"])?;
    let codes = q.codes()?;
    let window = q.window();
    let calc = q.date("calc_date")?;
    if calc.is_some_and(|d| !window.contains(d)) {
        return Err(ApiError::outside_subscription(window));
    }
    let (from, to) = q.range_of(window, ["disc_date", "disc_date_from", "disc_date_to"])?;
    let first = NaiveDate::from_ymd_opt(2013, 11, 7).unwrap_or(NaiveDate::MIN);
    let calc_dates: Vec<NaiveDate> = trading_days(from, to)
        .filter_map(previous_trading_day)
        .filter(|d| *d >= first && calc.is_none_or(|c| c == *d))
        .collect();
    let mut found = Vec::new();
    for date in calc_dates {
        for code in &codes {
            let issue = hash_bytes(code.as_str().as_bytes());
            found.extend((0..reports(issue, date)).map(|n| (code.clone(), date, n)));
        }
    }
    Ok(Listing::new(found.len(), move |i| {
        found.get(i).map(|(code, date, n)| row(code, *date, *n))
    }))
}

fn row(code: &IssueCode, calc: NaiveDate, n: u64) -> Record {
    let issue = hash_bytes(code.as_str().as_bytes());
    let calc_day = u64::from(calc.num_days_from_ce().unsigned_abs());
    let seed = mix(&[issue, calc_day, n]);
    // A holder files one report per issue and calculation date, so the day's reports of one
    // issue come from distinct reporters.
    let first = mix(&[issue, calc_day]);
    let (name, address) = REPORTERS[(first.wrapping_add(n) % REPORTERS.len() as u64) as usize];
    let outstanding =
        ((1.0e7_f64.ln() + unit(mix(&[issue, 7])) * 300_f64.ln()).exp() / 1000.0).round() * 1000.0;
    let ratio = ((0.005 + 0.025 * unit(mix(&[seed, 1]))) * 1.0e4).round() / 1.0e4;
    let shares = (outstanding * ratio / 100.0).round() * 100.0;
    let previous = (seed % 10 >= 3)
        .then(|| {
            calc.checked_sub_days(Days::new(7))
                .and_then(previous_trading_day)
        })
        .flatten();
    let mut row = Record::with_capacity(14);
    row.push("DiscDate", day(next_trading_day(calc)));
    row.push("CalcDate", day(calc));
    row.push("Code", code.as_str());
    row.push("SSName", name);
    row.push("SSAddr", address);
    row.push("DICName", "");
    row.push("DICAddr", "");
    row.push("FundName", "");
    row.push("ShrtPosToSO", ratio);
    row.push("ShrtPosShares", shares);
    row.push("ShrtPosUnits", (shares / 100.0).round());
    row.push("PrevRptDate", previous.map_or_else(|| text(""), day));
    let previous_ratio = ((ratio * 0.9 * 1.0e4).round() / 1.0e4).into();
    row.push(
        "PrevRptRatio",
        previous.map_or_else(|| text(""), |_| previous_ratio),
    );
    row.push("Notes", "");
    row
}
