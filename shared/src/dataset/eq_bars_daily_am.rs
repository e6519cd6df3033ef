//! J-Quants V2 `/equities/bars/daily/am`: the current day's morning session per issue
//! (jquants-api.md §2.2, V1 `prices_am` in §8.7). Keyed by (code, date).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A morning-session bar. The reference gives only the V1 names (`MorningOpen`, ...); the V2 names
/// follow the morning columns of `/equities/bars/daily` (`MO`, ...), as the sandbox serves them.
/// Prices and volumes are `None` when the issue did not trade.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct MorningBar {
    /// Trading day.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Morning open.
    #[serde(rename = "MO")]
    pub open: Option<f64>,
    /// Morning high.
    #[serde(rename = "MH")]
    pub high: Option<f64>,
    /// Morning low.
    #[serde(rename = "ML")]
    pub low: Option<f64>,
    /// Morning close.
    #[serde(rename = "MC")]
    pub close: Option<f64>,
    /// Morning volume.
    #[serde(rename = "MVo")]
    pub volume: Option<f64>,
    /// Morning turnover value.
    #[serde(rename = "MVa")]
    pub turnover_value: Option<f64>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for MorningBar {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        (self.code.clone(), wire::day(self.date))
    }
}
