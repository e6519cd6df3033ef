//! J-Quants V2 `/equities/bars/daily`: one row per issue and trading day (jquants-api.md §8.4).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use super::record::{FieldValue, Record};
use super::wire;

/// A daily bar. Prices and volumes are `None` on a day without trades; the morning/afternoon
/// fields of the Premium plan and any field newer than this type are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DailyBar {
    /// Trading day.
    #[serde(rename = "Date", deserialize_with = "wire::date")]
    pub date: NaiveDate,
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
    /// Closed at the daily upper price limit.
    #[serde(rename = "UL", deserialize_with = "wire::flag", default)]
    pub upper_limit: Option<bool>,
    /// Closed at the daily lower price limit.
    #[serde(rename = "LL", deserialize_with = "wire::flag", default)]
    pub lower_limit: Option<bool>,
    /// Volume.
    #[serde(rename = "Vo")]
    pub volume: Option<f64>,
    /// Turnover value.
    #[serde(rename = "Va")]
    pub turnover_value: Option<f64>,
    /// Split adjustment factor on the ex-date (1.0 otherwise).
    #[serde(rename = "AdjFactor")]
    pub adjustment_factor: Option<f64>,
    /// Adjusted open.
    #[serde(rename = "AdjO")]
    pub adj_open: Option<f64>,
    /// Adjusted high.
    #[serde(rename = "AdjH")]
    pub adj_high: Option<f64>,
    /// Adjusted low.
    #[serde(rename = "AdjL")]
    pub adj_low: Option<f64>,
    /// Adjusted close.
    #[serde(rename = "AdjC")]
    pub adj_close: Option<f64>,
    /// Adjusted volume.
    #[serde(rename = "AdjVo")]
    pub adj_volume: Option<f64>,
    /// Every other field, under its provider name.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

fn num(v: Option<f64>) -> FieldValue {
    v.map_or(FieldValue::Null, FieldValue::Number)
}

fn flag(v: Option<bool>) -> FieldValue {
    // Stored in the provider's own form, so an export reads like the source.
    v.map_or(FieldValue::Text(String::new()), |b| {
        FieldValue::Text(if b { "1" } else { "0" }.into())
    })
}

impl DailyBar {
    /// The stored form, keyed by (code, date).
    pub fn into_record(self) -> Record {
        let date = self.date.format("%Y-%m-%d").to_string();
        let mut fields = vec![
            ("Date".to_owned(), FieldValue::Text(date.clone())),
            ("Code".to_owned(), FieldValue::Text(self.code.clone())),
            ("O".to_owned(), num(self.open)),
            ("H".to_owned(), num(self.high)),
            ("L".to_owned(), num(self.low)),
            ("C".to_owned(), num(self.close)),
            ("UL".to_owned(), flag(self.upper_limit)),
            ("LL".to_owned(), flag(self.lower_limit)),
            ("Vo".to_owned(), num(self.volume)),
            ("Va".to_owned(), num(self.turnover_value)),
            ("AdjFactor".to_owned(), num(self.adjustment_factor)),
            ("AdjO".to_owned(), num(self.adj_open)),
            ("AdjH".to_owned(), num(self.adj_high)),
            ("AdjL".to_owned(), num(self.adj_low)),
            ("AdjC".to_owned(), num(self.adj_close)),
            ("AdjVo".to_owned(), num(self.adj_volume)),
        ];
        fields.extend(
            self.extra
                .iter()
                .map(|(k, v)| (k.clone(), FieldValue::from(v))),
        );
        Record {
            partition: self.code,
            sort: date,
            fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dataset::DatasetKind;

    const SAMPLE: &str = r#"[{"Date":"2023-03-24","Code":"86970","O":2047.0,"H":2069.0,"L":2035.0,"C":2045.0,
        "UL":"0","LL":"0","Vo":2202500.0,"Va":4507051850.0,"AdjFactor":1.0,"AdjO":2047.0,"AdjH":2069.0,
        "AdjL":2035.0,"AdjC":2045.0,"AdjVo":2202500.0,"MO":2047.0,"MktCap":null},
        {"Date":"20201001","Code":"86970","O":null,"H":null,"L":null,"C":null,"UL":"0","LL":"1",
        "Vo":null,"Va":null,"AdjFactor":1.0,"AdjO":null,"AdjH":null,"AdjL":null,"AdjC":null,"AdjVo":null}]"#;

    #[test]
    fn rows_keep_every_field_and_nulls() {
        let raw = serde_json::value::RawValue::from_string(SAMPLE.into()).unwrap();
        let recs = DatasetKind::EqBarsDaily.parse_rows(&raw).unwrap();
        assert_eq!(recs[0].partition, "86970");
        assert_eq!(recs[0].sort, "2023-03-24");
        let first = recs[0].to_json();
        assert_eq!(first["C"], 2045.0);
        assert_eq!(first["UL"], "0");
        assert_eq!(first["MO"], 2047.0, "premium fields survive");
        assert!(first["MktCap"].is_null(), "unknown fields survive");
        let second = recs[1].to_json();
        assert_eq!(second["Date"], "2020-10-01", "compact dates are normalised");
        assert!(second["C"].is_null(), "null prices stay null, not 0");
        assert_eq!(second["LL"], "1");
    }

    #[test]
    fn a_wrongly_typed_field_is_an_error() {
        let raw = serde_json::value::RawValue::from_string(
            r#"[{"Date":"2023-03-24","Code":"86970","O":"abc"}]"#.into(),
        )
        .unwrap();
        assert!(DatasetKind::EqBarsDaily.parse_rows(&raw).is_err());
    }
}
