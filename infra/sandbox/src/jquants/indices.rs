//! `GET /v2/indices/bars/daily` (index four values by `code` or `date`, Standard) and
//! `GET /v2/indices/bars/daily/topix` (TOPIX by `from`/`to`, Light); TOPIX is index `0000`
//! in the first and the same numbers in the second.

use chrono::NaiveDate;

use crate::calendar::trading_days;
use crate::config::Plan;
use crate::indices::{index_bar, index_codes};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day};

pub(crate) const DAILY: Endpoint = Endpoint::new("/indices/bars/daily", Plan::Standard, daily);
pub(crate) const TOPIX: Endpoint = Endpoint::new("/indices/bars/daily/topix", Plan::Light, topix);

fn daily(q: &Query) -> Result<Listing, ApiError> {
    q.require_one_of(&["date", "code"])?;
    let codes: Vec<String> = index_codes()
        .into_iter()
        .filter(|c| q.get("code").is_none_or(|want| want == c))
        .collect();
    let (from, to) = q.range(q.window())?;
    let days: Vec<NaiveDate> = trading_days(from, to).collect();
    let per_code = days.len().max(1);
    let total = codes.len() * days.len();
    Ok(Listing::new(total, move |i| {
        Some(row(Some(&codes[i / per_code]), days[i % per_code]))
    }))
}

fn topix(q: &Query) -> Result<Listing, ApiError> {
    let (from, to) = q.range(q.window())?;
    let days: Vec<NaiveDate> = trading_days(from, to).collect();
    Ok(Listing::new(days.len(), move |i| Some(row(None, days[i]))))
}

/// A row with `Code` (index bars) or without it (TOPIX).
fn row(code: Option<&str>, date: NaiveDate) -> Record {
    let bar = index_bar(code.unwrap_or("0000"), date);
    let mut row = Record::with_capacity(6);
    row.push("Date", day(date));
    if let Some(code) = code {
        row.push("Code", code);
    }
    row.push("O", bar.o);
    row.push("H", bar.h);
    row.push("L", bar.l);
    row.push("C", bar.c);
    row
}
