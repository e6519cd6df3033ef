//! `GET /v2/equities/master`: the listed issues with name, sectors, segment, size class and
//! margin type, as of a date.
//!
//! No parameters means every issue as of today; a non-trading `date` means the next trading
//! day; future dates are clamped to the next trading day after today (reference §2.2), dates
//! before 2008-05-07 to that day.

use chrono::NaiveDate;

use crate::calendar::is_trading_day;
use crate::config::Plan;
use crate::corporate::{issuer, margin_name, market, sector17_name};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day};
use crate::params::IssueCode;

pub(crate) const ENDPOINT: Endpoint = Endpoint::new("/equities/master", Plan::Free, list);

/// The V2 keys, in wire order (the V1 `listed/info` names map onto them one to one).
pub(crate) const KEYS: [&str; 13] = [
    "Date", "Code", "CoName", "CoNameEn", "S17", "S17Nm", "S33", "S33Nm", "ScaleCat", "Mkt",
    "MktNm", "Mrgn", "MrgnNm",
];

fn next_trading_day(mut date: NaiveDate) -> NaiveDate {
    while !is_trading_day(date) {
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    date
}

fn list(q: &Query) -> Result<Listing, ApiError> {
    let window = q.window();
    let horizon = next_trading_day(q.today.succ_opt().unwrap_or(q.today));
    let asked = q.date("date")?;
    if let Some(date) = asked
        && (date < window.from || (date > window.to && q.plan == Plan::Free))
    {
        return Err(ApiError::outside_subscription(window));
    }
    let first = NaiveDate::from_ymd_opt(2008, 5, 7).unwrap_or(NaiveDate::MIN);
    let date = next_trading_day(
        asked
            .unwrap_or(window.to.min(q.today))
            .clamp(first, horizon),
    );
    let codes = q.codes()?;
    Ok(Listing::new(codes.len(), move |i| {
        Some(master_row(&codes[i], date))
    }))
}

/// The master row of `code` on `date`.
pub(crate) fn master_row(code: &IssueCode, date: NaiveDate) -> Record {
    let who = issuer(code);
    let (mkt, mkt_name) = market(&who, date);
    let mut row = Record::with_capacity(KEYS.len());
    row.extend(
        KEYS,
        [
            day(date),
            code.as_str().into(),
            who.name_ja.into(),
            who.name_en.into(),
            who.sector.s17.into(),
            sector17_name(who.sector.s17).into(),
            who.sector.code.into(),
            who.sector.name.into(),
            who.scale.into(),
            mkt.into(),
            mkt_name.into(),
            who.margin.to_string().into(),
            margin_name(who.margin).into(),
        ],
    );
    row
}
