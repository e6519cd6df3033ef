//! J-Quants V2 `/equities/bars/minute` (minute-bars add-on): one row per issue and minute
//! (jquants-api.md §2.2). Keyed by code and `YYYY-MM-DDTHH:MM`, so a day's bars sort by time and
//! a date range selects whole days.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A one-minute bar. The reference lists no fields; names follow the daily bars, as the sandbox
/// serves them (`Time` as `HH:MM`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct MinuteBar {
    /// Trading day.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// Minute the bar starts, `HH:MM` (JST).
    #[serde(rename = "Time")]
    pub time: String,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Open.
    #[serde(rename = "O")]
    pub open: Option<f64>,
    /// High.
    #[serde(rename = "H")]
    pub high: Option<f64>,
    /// Low.
    #[serde(rename = "L")]
    pub low: Option<f64>,
    /// Close.
    #[serde(rename = "C")]
    pub close: Option<f64>,
    /// Volume.
    #[serde(rename = "Vo")]
    pub volume: Option<f64>,
    /// Turnover value.
    #[serde(rename = "Va")]
    pub turnover_value: Option<f64>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for MinuteBar {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        (
            self.code.clone(),
            format!("{}T{}", wire::day(self.date), self.time),
        )
    }
}
