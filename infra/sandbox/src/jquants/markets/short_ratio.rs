//! `GET /v2/markets/short-ratio`: daily short-selling turnover per 33-sector. `s33` or `date`
//! is required; rows are ordered by (Date, S33).

use chrono::{Datelike, NaiveDate};

use crate::calendar::trading_days;
use crate::config::Plan;
use crate::corporate::SECTORS_33;
use crate::hash::{hash_bytes, mix, unit};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day};

pub(crate) const ENDPOINT: Endpoint = Endpoint::new("/markets/short-ratio", Plan::Standard, list);

fn list(q: &Query) -> Result<Listing, ApiError> {
    q.require_one_of(&["date", "s33"])?;
    let sectors: Vec<&'static str> = SECTORS_33[..33]
        .iter()
        .map(|s| s.code)
        .filter(|code| q.get("s33").is_none_or(|want| want == *code))
        .collect();
    let (from, to) = q.range(q.window())?;
    let days: Vec<NaiveDate> = trading_days(from, to).collect();
    let per_day = sectors.len().max(1);
    let total = sectors.len() * days.len();
    Ok(Listing::new(total, move |i| {
        Some(row(days[i / per_day], sectors[i % per_day]))
    }))
}

fn row(date: NaiveDate, sector: &'static str) -> Record {
    let seed = mix(&[
        hash_bytes(sector.as_bytes()),
        u64::from(date.num_days_from_ce().unsigned_abs()),
    ]);
    let size = 2.0e10 * (0.2 + 2.0 * unit(mix(&[hash_bytes(sector.as_bytes()), 1])));
    let long = (size * (0.7 + 0.6 * unit(mix(&[seed, 1])))).round();
    let short_ratio = 0.35 + 0.15 * unit(mix(&[seed, 2]));
    let short = long * short_ratio / (1.0 - short_ratio);
    let restricted = (short * (0.85 + 0.1 * unit(mix(&[seed, 3])))).round();
    let mut row = Record::with_capacity(5);
    row.push("Date", day(date));
    row.push("S33", sector);
    row.push("SellExShortVa", long);
    row.push("ShrtWithResVa", restricted);
    row.push("ShrtNoResVa", (short - restricted).round());
    row
}
