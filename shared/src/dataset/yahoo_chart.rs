//! Yahoo `/v8/finance/chart/{symbol}` bars (yahoo-api.md §2): one row per bar, on its Tokyo
//! trading date, with a still-open last bar already dropped by the parser
//! ([`crate::yahoo::parse_chart`]). Partition: the J-Quants code; sort: date, start time and
//! interval, so daily and intraday bars of one issue never overwrite each other.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// One bar. Prices as Yahoo serves them: split-adjusted; `adjclose` also dividend-adjusted.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ChartBar {
    /// J-Quants code (`72030`).
    pub code: String,
    /// Yahoo symbol (`7203.T`).
    pub symbol: String,
    /// Tokyo trading date.
    #[serde(with = "wire::date")]
    pub date: NaiveDate,
    /// When the bar opened, in Tokyo time.
    pub start: DateTime<FixedOffset>,
    /// Yahoo's interval (`1d`, `5m`, ...).
    pub interval: String,
    /// Open.
    pub open: Option<f64>,
    /// High.
    pub high: Option<f64>,
    /// Low.
    pub low: Option<f64>,
    /// Close.
    pub close: Option<f64>,
    /// Close adjusted for splits and dividends (daily bars only).
    pub adjclose: Option<f64>,
    /// Shares traded.
    pub volume: Option<u64>,
    /// Fields newer than this type.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for ChartBar {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        (
            self.code.clone(),
            format!(
                "{} {} {}",
                wire::day(self.date),
                self.start.format("%H:%M"),
                self.interval
            ),
        )
    }
}
