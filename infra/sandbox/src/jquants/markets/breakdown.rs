//! `GET /v2/markets/breakdown`: each issue's daily trading split into long/short/margin
//! sells and long/margin buys (data from 2015-04-01). The sells and the buys each add up to
//! the day's volume; the values split the day's turnover in the same shares. `code` or `date`
//! is required; days without trades have no row.

use chrono::{Datelike, NaiveDate};

use crate::calendar::trading_days;
use crate::config::Plan;
use crate::hash::{hash_bytes, mix, unit};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day};
use crate::market::trades;
use crate::params::IssueCode;

pub(crate) const ENDPOINT: Endpoint = Endpoint::new("/markets/breakdown", Plan::Premium, list);

const VALUE_KEYS: [&str; 7] = [
    "LongSellVa",
    "ShrtNoMrgnVa",
    "MrgnSellNewVa",
    "MrgnSellCloseVa",
    "LongBuyVa",
    "MrgnBuyNewVa",
    "MrgnBuyCloseVa",
];
const VOLUME_KEYS: [&str; 7] = [
    "LongSellVo",
    "ShrtNoMrgnVo",
    "MrgnSellNewVo",
    "MrgnSellCloseVo",
    "LongBuyVo",
    "MrgnBuyNewVo",
    "MrgnBuyCloseVo",
];

fn list(q: &Query) -> Result<Listing, ApiError> {
    q.require_one_of(&["date", "code"])?;
    let codes = q.codes()?;
    let (from, to) = q.range(q.window())?;
    let first = NaiveDate::from_ymd_opt(2015, 4, 1).unwrap_or(from);
    let days = trading_days(from.max(first), to).collect();
    Ok(Listing::grid(codes, days, row))
}

/// Splits `total` lots of 100 into shares by `weights`; the last takes the remainder.
fn split(total: f64, weights: &[f64]) -> Vec<f64> {
    let sum: f64 = weights.iter().sum();
    let mut parts: Vec<f64> = weights[..weights.len() - 1]
        .iter()
        .map(|w| (total * w / sum / 100.0).floor() * 100.0)
        .collect();
    parts.push(total - parts.iter().sum::<f64>());
    parts
}

fn row(code: &IssueCode, date: NaiveDate) -> Option<Record> {
    let day_bar = trades(code, date)?.day;
    let seed = mix(&[
        hash_bytes(code.as_str().as_bytes()),
        u64::from(date.num_days_from_ce().unsigned_abs()),
        0xB7,
    ]);
    let w = |salt: u64, base: f64| base * (0.6 + 0.8 * unit(mix(&[seed, salt])));
    let sells = split(day_bar.vo, &[w(1, 0.55), w(2, 0.3), w(3, 0.08), w(4, 0.07)]);
    let buys = split(day_bar.vo, &[w(5, 0.8), w(6, 0.1), w(7, 0.1)]);
    let volumes: Vec<f64> = sells.into_iter().chain(buys).collect();
    let price = day_bar.va / day_bar.vo.max(1.0);
    let mut row = Record::with_capacity(16);
    row.push("Date", day(date));
    row.push("Code", code.as_str());
    for (key, vo) in VALUE_KEYS.iter().zip(&volumes) {
        row.push(key, (vo * price).round());
    }
    for (key, vo) in VOLUME_KEYS.iter().zip(&volumes) {
        row.push(key, *vo);
    }
    Some(row)
}
