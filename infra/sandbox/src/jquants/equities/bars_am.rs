//! `GET /v2/equities/bars/daily/am`: today's morning session per issue, from about 12:00 JST
//! until 06:00 the next morning (reference §5.2, V1 `prices_am`); at any other time, or for
//! a code that does not exist, 210 with the reference's message.

use chrono::{Duration, NaiveDate, Timelike};

use crate::calendar::is_trading_day;
use crate::clock::jst;
use crate::config::Plan;
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day};
use crate::market::trades;
use crate::params::IssueCode;

pub(crate) const ENDPOINT: Endpoint = Endpoint::new("/equities/bars/daily/am", Plan::Premium, list);

const KEYS: [&str; 8] = ["Date", "Code", "MO", "MH", "ML", "MC", "MVo", "MVa"];

/// The session whose morning bars are served at `q.now`, if any.
fn session_date(q: &Query) -> Option<NaiveDate> {
    let local = jst(q.now);
    let date = match local.hour() {
        12.. => local.date(),
        0..6 => (local - Duration::days(1)).date(),
        _ => return None,
    };
    is_trading_day(date).then_some(date)
}

fn list(q: &Query) -> Result<Listing, ApiError> {
    let date = session_date(q).ok_or_else(ApiError::no_content)?;
    let codes = q.codes()?;
    if codes.is_empty() {
        return Err(ApiError::no_content());
    }
    Ok(Listing::new(codes.len(), move |i| {
        Some(am_row(&codes[i], date))
    }))
}

fn am_row(code: &IssueCode, date: NaiveDate) -> Record {
    let morning = trades(code, date).map(|t| t.morning);
    let mut row = Record::with_capacity(KEYS.len());
    row.push(KEYS[0], day(date));
    row.push(KEYS[1], code.as_str());
    let values = morning.map(|b| [b.o, b.h, b.l, b.c, b.vo, b.va]);
    for (i, key) in KEYS[2..].iter().enumerate() {
        row.num(key, values.map(|v| v[i]));
    }
    row
}
