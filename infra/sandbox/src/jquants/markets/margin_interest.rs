//! `GET /v2/markets/margin-interest`: weekly margin balances (as of each week's last trading
//! day) of the margin-eligible issues (`Mrgn` 1 or 2). `code` or `date` is required.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::calendar::{is_trading_day, trading_days};
use crate::config::Plan;
use crate::corporate::issuer;
use crate::hash::{hash_bytes, mix, unit};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day};
use crate::params::IssueCode;
use crate::price_level::base_price;

pub(crate) const ENDPOINT: Endpoint =
    Endpoint::new("/markets/margin-interest", Plan::Standard, list);

const KEYS: [&str; 9] = [
    "Date",
    "Code",
    "ShrtVol",
    "LongVol",
    "ShrtNegVol",
    "LongNegVol",
    "ShrtStdVol",
    "LongStdVol",
    "IssType",
];

/// Whether `date` is the last trading day of its Monday–Friday week.
pub(crate) fn ends_week(date: NaiveDate) -> bool {
    let to_friday = u64::from(Weekday::Fri.num_days_from_monday())
        .saturating_sub(u64::from(date.weekday().num_days_from_monday()));
    is_trading_day(date)
        && (1..=to_friday).all(|n| {
            !date
                .checked_add_days(Days::new(n))
                .is_some_and(is_trading_day)
        })
}

fn list(q: &Query) -> Result<Listing, ApiError> {
    q.require_one_of(&["date", "code"])?;
    let codes: Vec<IssueCode> = q
        .codes()?
        .into_iter()
        .filter(|c| issuer(c).margin != 3)
        .collect();
    let (from, to) = q.range(q.window())?;
    let days = trading_days(from, to).filter(|d| ends_week(*d)).collect();
    Ok(Listing::grid(codes, days, |code, date| {
        Some(row(code, date))
    }))
}

fn row(code: &IssueCode, date: NaiveDate) -> Record {
    let seed = mix(&[
        hash_bytes(code.as_str().as_bytes()),
        u64::from(date.num_days_from_ce().unsigned_abs()),
    ]);
    let shares = (2.0e8 / base_price(code)).max(1000.0);
    let lots = |salt: u64, scale: f64| {
        (shares * scale * (0.5 + unit(mix(&[seed, salt]))) / 100.0).round() * 100.0
    };
    let (long_neg, long_std) = (lots(1, 0.2), lots(2, 0.8));
    let (short_neg, short_std) = (lots(3, 0.05), lots(4, 0.25));
    let margin = issuer(code).margin;
    let mut row = Record::with_capacity(KEYS.len());
    row.extend(
        KEYS,
        [
            day(date),
            code.as_str().into(),
            (short_neg + short_std).into(),
            (long_neg + long_std).into(),
            short_neg.into(),
            long_neg.into(),
            short_std.into(),
            long_std.into(),
            margin.to_string().into(),
        ],
    );
    row
}
