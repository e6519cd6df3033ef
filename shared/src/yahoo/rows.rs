//! Yahoo's parsed answers as the dataset rows we store (`crate::dataset`'s Yahoo files): the
//! row types know nothing of the client, the client turns what it parsed into them.

use std::collections::BTreeMap;

use super::{Bar, Dividend, Interval, Quote, Split};
use crate::dataset::{ChartBar, ChartEvent, QuoteRow};

impl ChartBar {
    /// The row of a parsed bar of `symbol` at `interval`.
    pub fn from_bar(bar: &Bar, symbol: &str, interval: Interval) -> Self {
        Self {
            code: bar.code.as_str().to_owned(),
            symbol: symbol.to_owned(),
            date: bar.date,
            start: bar.start,
            interval: interval.as_str().to_owned(),
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            adjclose: bar.adj_close,
            volume: bar.volume,
            extra: BTreeMap::new(),
        }
    }
}

impl ChartEvent {
    /// The row of a dividend of `symbol`.
    pub fn dividend(d: &Dividend, symbol: &str) -> Self {
        Self {
            code: d.code.as_str().to_owned(),
            symbol: symbol.to_owned(),
            date: d.ex_date,
            kind: "dividend".to_owned(),
            amount: Some(d.amount),
            currency: d.currency.clone(),
            numerator: None,
            denominator: None,
            extra: BTreeMap::new(),
        }
    }

    /// The row of a split of `symbol`.
    pub fn split(s: &Split, symbol: &str) -> Self {
        Self {
            code: s.code.as_str().to_owned(),
            symbol: symbol.to_owned(),
            date: s.ex_date,
            kind: "split".to_owned(),
            amount: None,
            currency: None,
            numerator: Some(s.numerator),
            denominator: Some(s.denominator),
            extra: BTreeMap::new(),
        }
    }
}

impl QuoteRow {
    /// The row of a parsed quote; `None` for an issue with no trade yet (no trading date to
    /// file it under).
    pub fn from_quote(q: &Quote) -> Option<Self> {
        Some(Self {
            code: q.code.as_str().to_owned(),
            symbol: q.symbol.clone(),
            date: q.trading_date?,
            regular_market_price: q.price,
            regular_market_time: q.market_time,
            regular_market_open: q.open,
            regular_market_day_high: q.high,
            regular_market_day_low: q.low,
            regular_market_volume: q.volume,
            regular_market_previous_close: q.previous_close,
            regular_market_change: q.change,
            regular_market_change_percent: q.change_percent,
            market_state: q.market_state.clone(),
            currency: q.currency.clone(),
            extra: BTreeMap::new(),
        })
    }
}
