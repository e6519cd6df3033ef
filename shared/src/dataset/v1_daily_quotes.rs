//! J-Quants V1 `/prices/daily_quotes` (rows under `daily_quotes`): one row per issue and
//! trading day, V2's daily bars under V1's long names (jquants-api.md §8.4). Keyed by (code,
//! date).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A daily quote. Prices and volumes are `None` on a day without trades. The 26 `Morning*` and
/// `Afternoon*` fields come on the Premium plan only: their outer `Option` is `None` when the
/// row omits them, and they are then not written back.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct DailyQuote {
    /// Trading day.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Open.
    #[serde(rename = "Open")]
    pub open: Option<f64>,
    /// High.
    #[serde(rename = "High")]
    pub high: Option<f64>,
    /// Low.
    #[serde(rename = "Low")]
    pub low: Option<f64>,
    /// Close.
    #[serde(rename = "Close")]
    pub close: Option<f64>,
    /// Closed at the upper price limit.
    #[serde(rename = "UpperLimit", with = "wire::flag", default)]
    pub upper_limit: Option<bool>,
    /// Closed at the lower price limit.
    #[serde(rename = "LowerLimit", with = "wire::flag", default)]
    pub lower_limit: Option<bool>,
    /// Volume.
    #[serde(rename = "Volume")]
    pub volume: Option<f64>,
    /// Turnover value.
    #[serde(rename = "TurnoverValue")]
    pub turnover_value: Option<f64>,
    /// Split adjustment factor on the ex-date (1.0 otherwise).
    #[serde(rename = "AdjustmentFactor")]
    pub adjustment_factor: Option<f64>,
    /// Adjusted open.
    #[serde(rename = "AdjustmentOpen")]
    pub adj_open: Option<f64>,
    /// Adjusted high.
    #[serde(rename = "AdjustmentHigh")]
    pub adj_high: Option<f64>,
    /// Adjusted low.
    #[serde(rename = "AdjustmentLow")]
    pub adj_low: Option<f64>,
    /// Adjusted close.
    #[serde(rename = "AdjustmentClose")]
    pub adj_close: Option<f64>,
    /// Adjusted volume.
    #[serde(rename = "AdjustmentVolume")]
    pub adj_volume: Option<f64>,
    /// Morning session open (Premium).
    #[serde(
        rename = "MorningOpen",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_open: Option<Option<f64>>,
    /// Morning session high (Premium).
    #[serde(
        rename = "MorningHigh",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_high: Option<Option<f64>>,
    /// Morning session low (Premium).
    #[serde(
        rename = "MorningLow",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_low: Option<Option<f64>>,
    /// Morning session close (Premium).
    #[serde(
        rename = "MorningClose",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_close: Option<Option<f64>>,
    /// Morning session closed at the upper price limit (Premium).
    #[serde(
        rename = "MorningUpperLimit",
        default,
        with = "wire::present_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_upper_limit: Option<Option<bool>>,
    /// Morning session closed at the lower price limit (Premium).
    #[serde(
        rename = "MorningLowerLimit",
        default,
        with = "wire::present_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_lower_limit: Option<Option<bool>>,
    /// Morning session volume (Premium).
    #[serde(
        rename = "MorningVolume",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_volume: Option<Option<f64>>,
    /// Morning session turnover value (Premium).
    #[serde(
        rename = "MorningTurnoverValue",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_turnover_value: Option<Option<f64>>,
    /// Morning session adjusted open (Premium).
    #[serde(
        rename = "MorningAdjustmentOpen",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_adj_open: Option<Option<f64>>,
    /// Morning session adjusted high (Premium).
    #[serde(
        rename = "MorningAdjustmentHigh",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_adj_high: Option<Option<f64>>,
    /// Morning session adjusted low (Premium).
    #[serde(
        rename = "MorningAdjustmentLow",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_adj_low: Option<Option<f64>>,
    /// Morning session adjusted close (Premium).
    #[serde(
        rename = "MorningAdjustmentClose",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_adj_close: Option<Option<f64>>,
    /// Morning session adjusted volume (Premium).
    #[serde(
        rename = "MorningAdjustmentVolume",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub morning_adj_volume: Option<Option<f64>>,
    /// Afternoon session open (Premium).
    #[serde(
        rename = "AfternoonOpen",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_open: Option<Option<f64>>,
    /// Afternoon session high (Premium).
    #[serde(
        rename = "AfternoonHigh",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_high: Option<Option<f64>>,
    /// Afternoon session low (Premium).
    #[serde(
        rename = "AfternoonLow",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_low: Option<Option<f64>>,
    /// Afternoon session close (Premium).
    #[serde(
        rename = "AfternoonClose",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_close: Option<Option<f64>>,
    /// Afternoon session closed at the upper price limit (Premium).
    #[serde(
        rename = "AfternoonUpperLimit",
        default,
        with = "wire::present_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_upper_limit: Option<Option<bool>>,
    /// Afternoon session closed at the lower price limit (Premium).
    #[serde(
        rename = "AfternoonLowerLimit",
        default,
        with = "wire::present_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_lower_limit: Option<Option<bool>>,
    /// Afternoon session volume (Premium).
    #[serde(
        rename = "AfternoonVolume",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_volume: Option<Option<f64>>,
    /// Afternoon session turnover value (Premium).
    #[serde(
        rename = "AfternoonTurnoverValue",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_turnover_value: Option<Option<f64>>,
    /// Afternoon session adjusted open (Premium).
    #[serde(
        rename = "AfternoonAdjustmentOpen",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_adj_open: Option<Option<f64>>,
    /// Afternoon session adjusted high (Premium).
    #[serde(
        rename = "AfternoonAdjustmentHigh",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_adj_high: Option<Option<f64>>,
    /// Afternoon session adjusted low (Premium).
    #[serde(
        rename = "AfternoonAdjustmentLow",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_adj_low: Option<Option<f64>>,
    /// Afternoon session adjusted close (Premium).
    #[serde(
        rename = "AfternoonAdjustmentClose",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_adj_close: Option<Option<f64>>,
    /// Afternoon session adjusted volume (Premium).
    #[serde(
        rename = "AfternoonAdjustmentVolume",
        default,
        deserialize_with = "wire::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub afternoon_adj_volume: Option<Option<f64>>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for DailyQuote {
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

    /// jquants-api.md §8.4, the V1 Premium sample (42 fields), and a no-trade day on a lower
    /// plan with a compact date.
    const SAMPLE: &str = r#"[{"Date": "2023-03-24", "Code": "86970",
      "Open": 2047.0, "High": 2069.0, "Low": 2035.0, "Close": 2045.0,
      "UpperLimit": "0", "LowerLimit": "0",
      "Volume": 2202500.0, "TurnoverValue": 4507051850.0,
      "AdjustmentFactor": 1.0,
      "AdjustmentOpen": 2047.0, "AdjustmentHigh": 2069.0, "AdjustmentLow": 2035.0,
      "AdjustmentClose": 2045.0, "AdjustmentVolume": 2202500.0,
      "MorningOpen": 2047.0, "MorningHigh": 2069.0, "MorningLow": 2040.0, "MorningClose": 2045.5,
      "MorningUpperLimit": "0", "MorningLowerLimit": "0",
      "MorningVolume": 1121200.0, "MorningTurnoverValue": 2297525850.0,
      "MorningAdjustmentOpen": 2047.0, "MorningAdjustmentHigh": 2069.0,
      "MorningAdjustmentLow": 2040.0, "MorningAdjustmentClose": 2045.5,
      "MorningAdjustmentVolume": 1121200.0,
      "AfternoonOpen": 2047.0, "AfternoonHigh": 2047.0, "AfternoonLow": 2035.0, "AfternoonClose": 2045.0,
      "AfternoonUpperLimit": "0", "AfternoonLowerLimit": "0",
      "AfternoonVolume": 1081300.0, "AfternoonTurnoverValue": 2209526000.0,
      "AfternoonAdjustmentOpen": 2047.0, "AfternoonAdjustmentHigh": 2047.0,
      "AfternoonAdjustmentLow": 2035.0, "AfternoonAdjustmentClose": 2045.0,
      "AfternoonAdjustmentVolume": 1081300.0},
      {"Date": "20201001", "Code": "72030", "Open": null, "High": null, "Low": null,
      "Close": null, "UpperLimit": "0", "LowerLimit": "1", "Volume": null, "TurnoverValue": null,
      "AdjustmentFactor": 1.0, "AdjustmentOpen": null, "AdjustmentHigh": null,
      "AdjustmentLow": null, "AdjustmentClose": null, "AdjustmentVolume": null}]"#;

    #[test]
    fn the_reference_sample_keeps_every_field() {
        let recs = round_trips(DatasetKind::V1DailyQuotes, SAMPLE, &["Date"]);
        assert_eq!((recs[0].fields.len(), recs[1].fields.len()), (42, 16));
        assert_eq!(
            (recs[1].partition.as_str(), recs[1].sort.as_str()),
            ("72030", "2020-10-01")
        );
        assert!(recs[1].to_json()["Close"].is_null(), "no trade stays null");
    }
}
