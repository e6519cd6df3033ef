//! Yahoo chart events (yahoo-api.md §2.2 `events.dividends`, `events.splits`): one row per
//! dividend or split, on its Tokyo ex-date. Partition: the J-Quants code; sort: the ex-date
//! and the kind, so a dividend and a split on one day are two rows.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A dividend or a split.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ChartEvent {
    /// J-Quants code (`72030`).
    pub code: String,
    /// Yahoo symbol (`7203.T`).
    pub symbol: String,
    /// Tokyo ex-date.
    #[serde(with = "wire::date")]
    pub date: NaiveDate,
    /// `dividend` or `split`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Dividend per share (dividends).
    pub amount: Option<f64>,
    /// Dividend currency (dividends).
    pub currency: Option<String>,
    /// New shares per `denominator` old ones (splits).
    pub numerator: Option<f64>,
    /// Old shares (splits).
    pub denominator: Option<f64>,
    /// Fields newer than this type.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for ChartEvent {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        (
            self.code.clone(),
            format!("{} {}", wire::day(self.date), self.kind),
        )
    }
}
