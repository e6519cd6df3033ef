//! J-Quants V2 `/equities/bars/daily`: one row per issue and trading day (jquants-api.md §8.4).
//! Keyed by (code, date).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A daily bar. Prices and volumes are `None` on a day without trades. The 26 morning/afternoon
/// fields come on the Premium plan only: their outer `Option` is `None` when the row omits them,
/// and they are then not written back. `MktCap` and `ExRT`, which a third-party client reports
/// (jquants-api.md §2.2, UNVERIFIED in type and presence), stay untyped in `extra` with any other
/// field newer than this type.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct DailyBar {
    /// Trading day.
    #[serde(rename = "Date", with = "wire::date")]
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
    /// Closed at the upper price limit.
    #[serde(rename = "UL", with = "wire::flag", default)]
    pub upper_limit: Option<bool>,
    /// Closed at the lower price limit.
    #[serde(rename = "LL", with = "wire::flag", default)]
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
    /// Morning session open (Premium).
    #[serde(
        rename = "MO",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_open: Option<Option<f64>>,
    /// Morning session high (Premium).
    #[serde(
        rename = "MH",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_high: Option<Option<f64>>,
    /// Morning session low (Premium).
    #[serde(
        rename = "ML",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_low: Option<Option<f64>>,
    /// Morning session close (Premium).
    #[serde(
        rename = "MC",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_close: Option<Option<f64>>,
    /// Morning session closed at the upper price limit (Premium).
    #[serde(
        rename = "MUL",
        default,
        with = "wire::present_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_upper_limit: Option<Option<bool>>,
    /// Morning session closed at the lower price limit (Premium).
    #[serde(
        rename = "MLL",
        default,
        with = "wire::present_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_lower_limit: Option<Option<bool>>,
    /// Morning session volume (Premium).
    #[serde(
        rename = "MVo",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_volume: Option<Option<f64>>,
    /// Morning session turnover value (Premium).
    #[serde(
        rename = "MVa",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_turnover_value: Option<Option<f64>>,
    /// Morning session adjusted open (Premium).
    #[serde(
        rename = "MAdjO",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_adj_open: Option<Option<f64>>,
    /// Morning session adjusted high (Premium).
    #[serde(
        rename = "MAdjH",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_adj_high: Option<Option<f64>>,
    /// Morning session adjusted low (Premium).
    #[serde(
        rename = "MAdjL",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_adj_low: Option<Option<f64>>,
    /// Morning session adjusted close (Premium).
    #[serde(
        rename = "MAdjC",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_adj_close: Option<Option<f64>>,
    /// Morning session adjusted volume (Premium).
    #[serde(
        rename = "MAdjVo",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_adj_volume: Option<Option<f64>>,
    /// Afternoon session open (Premium).
    #[serde(
        rename = "AO",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_open: Option<Option<f64>>,
    /// Afternoon session high (Premium).
    #[serde(
        rename = "AH",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_high: Option<Option<f64>>,
    /// Afternoon session low (Premium).
    #[serde(
        rename = "AL",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_low: Option<Option<f64>>,
    /// Afternoon session close (Premium).
    #[serde(
        rename = "AC",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_close: Option<Option<f64>>,
    /// Afternoon session closed at the upper price limit (Premium).
    #[serde(
        rename = "AUL",
        default,
        with = "wire::present_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_upper_limit: Option<Option<bool>>,
    /// Afternoon session closed at the lower price limit (Premium).
    #[serde(
        rename = "ALL",
        default,
        with = "wire::present_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_lower_limit: Option<Option<bool>>,
    /// Afternoon session volume (Premium).
    #[serde(
        rename = "AVo",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_volume: Option<Option<f64>>,
    /// Afternoon session turnover value (Premium).
    #[serde(
        rename = "AVa",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_turnover_value: Option<Option<f64>>,
    /// Afternoon session adjusted open (Premium).
    #[serde(
        rename = "AAdjO",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_adj_open: Option<Option<f64>>,
    /// Afternoon session adjusted high (Premium).
    #[serde(
        rename = "AAdjH",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_adj_high: Option<Option<f64>>,
    /// Afternoon session adjusted low (Premium).
    #[serde(
        rename = "AAdjL",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_adj_low: Option<Option<f64>>,
    /// Afternoon session adjusted close (Premium).
    #[serde(
        rename = "AAdjC",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_adj_close: Option<Option<f64>>,
    /// Afternoon session adjusted volume (Premium).
    #[serde(
        rename = "AAdjVo",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_adj_volume: Option<Option<f64>>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for DailyBar {
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

    /// jquants-api.md §8.4, the V2 Premium sample (42 fields), and a Free-plan no-trade day.
    const REFERENCE: &str = r#"[{"Date": "2023-03-24", "Code": "86970",
      "O": 2047.0, "H": 2069.0, "L": 2035.0, "C": 2045.0, "UL": "0", "LL": "0",
      "Vo": 2202500.0, "Va": 4507051850.0, "AdjFactor": 1.0,
      "AdjO": 2047.0, "AdjH": 2069.0, "AdjL": 2035.0, "AdjC": 2045.0, "AdjVo": 2202500.0,
      "MO": 2047.0, "MH": 2069.0, "ML": 2040.0, "MC": 2045.5, "MUL": "0", "MLL": "0",
      "MVo": 1121200.0, "MVa": 2297525850.0,
      "MAdjO": 2047.0, "MAdjH": 2069.0, "MAdjL": 2040.0, "MAdjC": 2045.5, "MAdjVo": 1121200.0,
      "AO": 2047.0, "AH": 2047.0, "AL": 2035.0, "AC": 2045.0, "AUL": "0", "ALL": "0",
      "AVo": 1081300.0, "AVa": 2209526000.0,
      "AAdjO": 2047.0, "AAdjH": 2047.0, "AAdjL": 2035.0, "AAdjC": 2045.0, "AAdjVo": 1081300.0},
      {"Date": "2020-10-01", "Code": "72030", "O": null, "H": null, "L": null, "C": null,
      "UL": "0", "LL": "0", "Vo": null, "Va": null, "AdjFactor": 1.0, "AdjO": null,
      "AdjH": null, "AdjL": null, "AdjC": null, "AdjVo": null}]"#;

    #[test]
    fn the_reference_sample_keeps_all_42_fields() {
        let recs = crate::dataset::tests::round_trips(DatasetKind::EqBarsDaily, REFERENCE, &[]);
        assert_eq!(recs[0].fields.len(), 42);
        assert_eq!(
            recs[1].fields.len(),
            16,
            "absent Premium fields are not invented"
        );
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
