//! J-Quants V2 `/markets/margin-alert`: daily margin balances of the issues the TSE publishes
//! daily (jquants-api.md §2.2, V1 `daily_margin_interest`). Keyed by (code, publication date).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A daily margin publication (shares; ratios in percent). The reference lists no V2 fields for it; names and types are the sandbox's (V1 fields renamed the
/// official way).
/// The reasons are a nested object of `"0"`/`"1"` flags under `PubReason`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct MarginAlert {
    /// Publication date.
    #[serde(rename = "PubDate", with = "wire::date")]
    pub pub_date: NaiveDate,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Application date (the balances' day).
    #[serde(rename = "AppDate", with = "wire::date")]
    pub app_date: NaiveDate,
    /// Why the issue is published.
    #[serde(rename = "PubReason")]
    pub pub_reason: PubReason,
    /// Short balance.
    #[serde(rename = "ShrtOut")]
    pub short_out: Option<f64>,
    /// Change of the short balance from the previous publication.
    #[serde(rename = "ShrtOutChg")]
    pub short_out_chg: Option<f64>,
    /// Short balance to listed shares (%).
    #[serde(rename = "ShrtOutRatio")]
    pub short_out_ratio: Option<f64>,
    /// Long balance.
    #[serde(rename = "LongOut")]
    pub long_out: Option<f64>,
    /// Change of the long balance.
    #[serde(rename = "LongOutChg")]
    pub long_out_chg: Option<f64>,
    /// Long balance to listed shares (%).
    #[serde(rename = "LongOutRatio")]
    pub long_out_ratio: Option<f64>,
    /// Short-to-long ratio (%).
    #[serde(rename = "SLRatio")]
    pub sl_ratio: Option<f64>,
    /// Short balance, negotiable margin.
    #[serde(rename = "ShrtNegOut")]
    pub short_neg_out: Option<f64>,
    /// Its change.
    #[serde(rename = "ShrtNegOutChg")]
    pub short_neg_out_chg: Option<f64>,
    /// Short balance, standard margin.
    #[serde(rename = "ShrtStdOut")]
    pub short_std_out: Option<f64>,
    /// Its change.
    #[serde(rename = "ShrtStdOutChg")]
    pub short_std_out_chg: Option<f64>,
    /// Long balance, negotiable margin.
    #[serde(rename = "LongNegOut")]
    pub long_neg_out: Option<f64>,
    /// Its change.
    #[serde(rename = "LongNegOutChg")]
    pub long_neg_out_chg: Option<f64>,
    /// Long balance, standard margin.
    #[serde(rename = "LongStdOut")]
    pub long_std_out: Option<f64>,
    /// Its change.
    #[serde(rename = "LongStdOutChg")]
    pub long_std_out_chg: Option<f64>,
    /// TSE margin regulation class (blank if none).
    #[serde(rename = "TSEMrgnRegCls")]
    pub tse_mrgn_reg_cls: String,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for MarginAlert {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        (self.code.clone(), wire::day(self.pub_date))
    }
}

/// The publication reasons, each a `"0"`/`"1"` flag.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct PubReason {
    /// Under margin trading restrictions.
    #[serde(rename = "Restricted", with = "wire::flag", default)]
    pub restricted: Option<bool>,
    /// Published daily.
    #[serde(rename = "DailyPublication", with = "wire::flag", default)]
    pub daily_publication: Option<bool>,
    /// Under monitoring.
    #[serde(rename = "Monitoring", with = "wire::flag", default)]
    pub monitoring: Option<bool>,
    /// Restricted by the Japan Securities Finance Co. (JSF).
    #[serde(rename = "RestrictedByJSF", with = "wire::flag", default)]
    pub restricted_by_jsf: Option<bool>,
    /// Precaution by the JSF.
    #[serde(rename = "PrecautionByJSF", with = "wire::flag", default)]
    pub precaution_by_jsf: Option<bool>,
    /// Unclear, or the issue is on securities alert.
    #[serde(rename = "UnclearOrSecOnAlert", with = "wire::flag", default)]
    pub unclear_or_sec_on_alert: Option<bool>,
    /// Reasons newer than this type.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}
