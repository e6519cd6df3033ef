//! J-Quants V2 `/equities/master`: one row per listed issue as of a date (jquants-api.md §8.3,
//! §2.2), keyed by (code, date) so each day's snapshot of an issue is kept.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A listed issue: names, sectors, market segment, size class and margin type.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Issue {
    /// The day the information applies to.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Company name (Japanese).
    #[serde(rename = "CoName")]
    pub co_name: String,
    /// Company name (English).
    #[serde(rename = "CoNameEn")]
    pub co_name_en: String,
    /// 17-sector code.
    #[serde(rename = "S17")]
    pub s17: String,
    /// 17-sector name.
    #[serde(rename = "S17Nm")]
    pub s17_name: String,
    /// 33-sector code.
    #[serde(rename = "S33")]
    pub s33: String,
    /// 33-sector name.
    #[serde(rename = "S33Nm")]
    pub s33_name: String,
    /// TOPIX size class (e.g. `TOPIX Large70`).
    #[serde(rename = "ScaleCat")]
    pub scale_cat: String,
    /// Market segment code (e.g. `0111` Prime).
    #[serde(rename = "Mkt")]
    pub mkt: String,
    /// Market segment name.
    #[serde(rename = "MktNm")]
    pub mkt_name: String,
    /// Margin type code: `1` margin, `2` loanable, `3` other.
    #[serde(rename = "Mrgn")]
    pub margin: String,
    /// Margin type name.
    #[serde(rename = "MrgnNm")]
    pub margin_name: String,
    /// Product category. The official client reads it, so real rows carry it; its values are
    /// UNVERIFIED and the reference sample lacks it, so it may be absent (outer `None`).
    #[serde(
        rename = "ProdCat",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub prod_cat: Option<Option<String>>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for Issue {
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

    /// jquants-api.md §8.3, the V2 sample (constructed by the official rename).
    const SAMPLE: &str = r#"[{"Date": "2022-11-11", "Code": "86970", "CoName": "日本取引所グループ",
      "CoNameEn": "Japan Exchange Group,Inc.", "S17": "16", "S17Nm": "金融（除く銀行）",
      "S33": "7200", "S33Nm": "その他金融業", "ScaleCat": "TOPIX Large70", "Mkt": "0111",
      "MktNm": "プライム", "Mrgn": "1", "MrgnNm": "信用"},
      {"Date": "20221111", "Code": "13010", "CoName": "極洋", "CoNameEn": "", "S17": "1",
      "S17Nm": "食品", "S33": "0050", "S33Nm": "水産・農林業", "ScaleCat": "-", "Mkt": "0112",
      "MktNm": "スタンダード", "Mrgn": "2", "MrgnNm": "貸借", "ProdCat": null}]"#;

    #[test]
    fn the_reference_sample_keeps_every_field() {
        let recs = round_trips(DatasetKind::EqMaster, SAMPLE, &["Date"]);
        assert_eq!(
            (recs[0].partition.as_str(), recs[0].sort.as_str()),
            ("86970", "2022-11-11")
        );
        assert_eq!(recs[1].sort, "2022-11-11", "compact dates are normalised");
        assert!(
            recs[1].to_json()["ProdCat"].is_null(),
            "a null product category stays null"
        );
    }
}
