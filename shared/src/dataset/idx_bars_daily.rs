//! J-Quants V2 `/indices/bars/daily`: daily four values per index (jquants-api.md §2.2, V1
//! `indices`). Keyed by (index code, date).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// An index's day. The reference lists no V2 fields for it; names and types are the sandbox's (V1 fields renamed the
/// official way).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct IndexBar {
    /// Trading day.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// 4-character index code (`0000` is TOPIX).
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
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for IndexBar {
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
