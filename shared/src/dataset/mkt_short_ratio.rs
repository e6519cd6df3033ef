//! J-Quants V2 `/markets/short-ratio`: daily short-selling turnover per 33-sector
//! (jquants-api.md §2.2, V1 `short_selling`). Keyed by (sector, date).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// One sector's selling on one day (yen). The reference lists no V2 fields for it; names and types are the sandbox's (V1 fields renamed the
/// official way).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ShortRatio {
    /// Trading day.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// 33-sector code.
    #[serde(rename = "S33")]
    pub s33: String,
    /// Selling other than short selling.
    #[serde(rename = "SellExShortVa")]
    pub sell_ex_short_va: Option<f64>,
    /// Short selling under the price restriction.
    #[serde(rename = "ShrtWithResVa")]
    pub short_with_res_va: Option<f64>,
    /// Short selling without the price restriction.
    #[serde(rename = "ShrtNoResVa")]
    pub short_no_res_va: Option<f64>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for ShortRatio {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        (self.s33.clone(), wire::day(self.date))
    }
}
