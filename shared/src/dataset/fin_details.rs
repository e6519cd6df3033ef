//! J-Quants V2 `/fins/details` (V1 `fs_details`): the statement items (BS/PL/CF) of each
//! disclosure (jquants-api.md §2.2). Keyed like `/fins/summary`: code and `DiscDate#DiscNo`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A disclosure's statement items. The items are a nested object under `FS`, label → value; the
/// labels carry the accounting standard (e.g. `Goodwill (IFRS)`) and change with the filer, so they
/// stay a map. Values are kept as sent (text in V1 and in the sandbox; the V2 type is UNVERIFIED).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct FinDetails {
    /// Disclosure date.
    #[serde(rename = "DiscDate", with = "wire::date")]
    pub disc_date: NaiveDate,
    /// Disclosure time.
    #[serde(rename = "DiscTime")]
    pub disc_time: String,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Disclosure number.
    #[serde(rename = "DiscNo")]
    pub disc_no: String,
    /// Document type.
    #[serde(rename = "DocType")]
    pub doc_type: String,
    /// Statement items, label → value.
    #[serde(rename = "FS")]
    pub fs: BTreeMap<String, Value>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for FinDetails {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        (
            self.code.clone(),
            format!("{}#{}", wire::day(self.disc_date), self.disc_no),
        )
    }
}
