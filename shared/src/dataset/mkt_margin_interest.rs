//! J-Quants V2 `/markets/margin-interest`: weekly margin balances per issue (jquants-api.md
//! §2.2, V1 `weekly_margin_interest`). Keyed by (code, date).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// Margin balances as of a week's last trading day (shares). The reference lists no V2 fields for it; names and types are the sandbox's (V1 fields renamed the
/// official way).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct MarginInterest {
    /// The week's last trading day.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Short (margin sell) balance.
    #[serde(rename = "ShrtVol")]
    pub short_vol: Option<f64>,
    /// Long (margin buy) balance.
    #[serde(rename = "LongVol")]
    pub long_vol: Option<f64>,
    /// Short balance, negotiable margin.
    #[serde(rename = "ShrtNegVol")]
    pub short_neg_vol: Option<f64>,
    /// Long balance, negotiable margin.
    #[serde(rename = "LongNegVol")]
    pub long_neg_vol: Option<f64>,
    /// Short balance, standard margin.
    #[serde(rename = "ShrtStdVol")]
    pub short_std_vol: Option<f64>,
    /// Long balance, standard margin.
    #[serde(rename = "LongStdVol")]
    pub long_std_vol: Option<f64>,
    /// Issue type (`1` margin, `2` loanable).
    #[serde(rename = "IssType")]
    pub iss_type: String,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for MarginInterest {
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
