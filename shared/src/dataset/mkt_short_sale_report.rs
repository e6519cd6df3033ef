//! J-Quants V2 `/markets/short-sale-report`: reported short positions of 0.5% or more
//! (jquants-api.md §2.2, V1 `short_selling_positions`). Keyed by code and
//! `DiscDate#CalcDate#SSName#DICName#FundName`: one issue may have several reporters a day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A short position report. The reference lists no V2 fields for it; names and types are the sandbox's (V1 fields renamed the
/// official way).
/// `PrevRptRatio` is a number, or `""` when there is no previous report.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ShortSaleReport {
    /// Disclosure date.
    #[serde(rename = "DiscDate", with = "wire::date")]
    pub disc_date: NaiveDate,
    /// Calculation date of the position.
    #[serde(rename = "CalcDate", with = "wire::date")]
    pub calc_date: NaiveDate,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Name of the short seller.
    #[serde(rename = "SSName")]
    pub ss_name: String,
    /// Address of the short seller.
    #[serde(rename = "SSAddr")]
    pub ss_addr: String,
    /// Name of the discretionary investment contractor (blank if none).
    #[serde(rename = "DICName")]
    pub dic_name: String,
    /// Address of the discretionary investment contractor.
    #[serde(rename = "DICAddr")]
    pub dic_addr: String,
    /// Name of the fund (blank if none).
    #[serde(rename = "FundName")]
    pub fund_name: String,
    /// Short position as a ratio of shares outstanding.
    #[serde(rename = "ShrtPosToSO")]
    pub short_pos_to_so: Option<f64>,
    /// Short position in shares.
    #[serde(rename = "ShrtPosShares")]
    pub short_pos_shares: Option<f64>,
    /// Short position in trading units.
    #[serde(rename = "ShrtPosUnits")]
    pub short_pos_units: Option<f64>,
    /// Calculation date of the previous report.
    #[serde(rename = "PrevRptDate", with = "wire::opt_date")]
    pub prev_rpt_date: Option<NaiveDate>,
    /// Ratio in the previous report.
    #[serde(rename = "PrevRptRatio", with = "wire::num_or_blank")]
    pub prev_rpt_ratio: Option<f64>,
    /// Notes.
    #[serde(rename = "Notes")]
    pub notes: String,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for ShortSaleReport {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        let sort = format!(
            "{}#{}#{}#{}#{}",
            wire::day(self.disc_date),
            wire::day(self.calc_date),
            self.ss_name,
            self.dic_name,
            self.fund_name
        );
        (self.code.clone(), sort)
    }
}
