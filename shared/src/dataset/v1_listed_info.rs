//! J-Quants V1 `/listed/info` (rows under `info`): one row per listed issue as of a date
//! (jquants-api.md §8.3), keyed by (code, date) so each day's snapshot of an issue is kept.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A listed issue: names, sectors, market segment, size class and, on Standard and above, the
/// margin type.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ListedInfo {
    /// The day the information applies to.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Company name (Japanese).
    #[serde(rename = "CompanyName")]
    pub co_name: String,
    /// Company name (English).
    #[serde(rename = "CompanyNameEnglish")]
    pub co_name_en: String,
    /// 17-sector code.
    #[serde(rename = "Sector17Code")]
    pub s17: String,
    /// 17-sector name.
    #[serde(rename = "Sector17CodeName")]
    pub s17_name: String,
    /// 33-sector code.
    #[serde(rename = "Sector33Code")]
    pub s33: String,
    /// 33-sector name.
    #[serde(rename = "Sector33CodeName")]
    pub s33_name: String,
    /// TOPIX size class (e.g. `TOPIX Large70`).
    #[serde(rename = "ScaleCategory")]
    pub scale_cat: String,
    /// Market segment code (e.g. `0111` Prime).
    #[serde(rename = "MarketCode")]
    pub mkt: String,
    /// Market segment name.
    #[serde(rename = "MarketCodeName")]
    pub mkt_name: String,
    /// Margin type code: `1` margin, `2` loanable, `3` other (Standard and Premium only: the
    /// outer `None` when the row omits it).
    #[serde(
        rename = "MarginCode",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub margin: Option<Option<String>>,
    /// Margin type name (Standard and Premium only).
    #[serde(
        rename = "MarginCodeName",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub margin_name: Option<Option<String>>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for ListedInfo {
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

#[cfg(test)]
mod tests {
    use crate::dataset::DatasetKind;
    use crate::dataset::tests::round_trips;

    /// jquants-api.md §8.3, the V1 sample (Standard and above), and a Free-plan row with a
    /// compact date.
    const SAMPLE: &str = r#"[{"Date": "2022-11-11", "Code": "86970",
      "CompanyName": "日本取引所グループ", "CompanyNameEnglish": "Japan Exchange Group,Inc.",
      "Sector17Code": "16", "Sector17CodeName": "金融（除く銀行）", "Sector33Code": "7200",
      "Sector33CodeName": "その他金融業", "ScaleCategory": "TOPIX Large70", "MarketCode": "0111",
      "MarketCodeName": "プライム", "MarginCode": "1", "MarginCodeName": "信用"},
      {"Date": "20221111", "Code": "13010", "CompanyName": "極洋", "CompanyNameEnglish": "",
      "Sector17Code": "1", "Sector17CodeName": "食品", "Sector33Code": "0050",
      "Sector33CodeName": "水産・農林業", "ScaleCategory": "-", "MarketCode": "0112",
      "MarketCodeName": "スタンダード"}]"#;

    #[test]
    fn the_reference_sample_keeps_every_field() {
        let recs = round_trips(DatasetKind::V1ListedInfo, SAMPLE, &["Date"]);
        assert_eq!((recs[0].fields.len(), recs[1].fields.len()), (13, 11));
        assert_eq!(
            (recs[1].partition.as_str(), recs[1].sort.as_str()),
            ("13010", "2022-11-11")
        );
    }
}
