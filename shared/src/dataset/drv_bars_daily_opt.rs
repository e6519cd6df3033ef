//! J-Quants V2 `/derivatives/bars/daily/options`: daily bars of every listed option series
//! (jquants-api.md §2.2, V1 `derivatives/options`). Keyed by (series code, date).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// An option series' day. The reference lists no V2 fields for it; names and types are the sandbox's (V1 fields renamed the
/// official way).
/// The morning session fields are numbers until 2016-07-18 and `""` since the session split ended.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct OptionsBar {
    /// Series code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Product category (`NK225E`, `TOPIXE`, `EQOP`, ...).
    #[serde(rename = "ProdCat")]
    pub prod_cat: String,
    /// Underlying issue code of a securities option (`-` otherwise).
    #[serde(rename = "UndSSO")]
    pub underlying: String,
    /// Trading day.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// Whole-day open.
    #[serde(rename = "O")]
    pub open: Option<f64>,
    /// Whole-day high.
    #[serde(rename = "H")]
    pub high: Option<f64>,
    /// Whole-day low.
    #[serde(rename = "L")]
    pub low: Option<f64>,
    /// Whole-day close.
    #[serde(rename = "C")]
    pub close: Option<f64>,
    /// Morning session open.
    #[serde(rename = "MO", with = "wire::num_or_blank")]
    pub morning_open: Option<f64>,
    /// Morning session high.
    #[serde(rename = "MH", with = "wire::num_or_blank")]
    pub morning_high: Option<f64>,
    /// Morning session low.
    #[serde(rename = "ML", with = "wire::num_or_blank")]
    pub morning_low: Option<f64>,
    /// Morning session close.
    #[serde(rename = "MC", with = "wire::num_or_blank")]
    pub morning_close: Option<f64>,
    /// Night session open.
    #[serde(rename = "EO")]
    pub night_open: Option<f64>,
    /// Night session high.
    #[serde(rename = "EH")]
    pub night_high: Option<f64>,
    /// Night session low.
    #[serde(rename = "EL")]
    pub night_low: Option<f64>,
    /// Night session close.
    #[serde(rename = "EC")]
    pub night_close: Option<f64>,
    /// Day session open.
    #[serde(rename = "AO")]
    pub day_open: Option<f64>,
    /// Day session high.
    #[serde(rename = "AH")]
    pub day_high: Option<f64>,
    /// Day session low.
    #[serde(rename = "AL")]
    pub day_low: Option<f64>,
    /// Day session close.
    #[serde(rename = "AC")]
    pub day_close: Option<f64>,
    /// Volume.
    #[serde(rename = "Vo")]
    pub volume: Option<f64>,
    /// Open interest.
    #[serde(rename = "OI")]
    pub open_interest: Option<f64>,
    /// Turnover value.
    #[serde(rename = "Va")]
    pub turnover_value: Option<f64>,
    /// Contract month (`YYYY-MM`).
    #[serde(rename = "CM")]
    pub contract_month: String,
    /// Strike price.
    #[serde(rename = "Strike")]
    pub strike: Option<f64>,
    /// Volume traded in auctions only.
    #[serde(rename = "VoOA")]
    pub volume_only_auction: Option<f64>,
    /// Emergency margin trigger division (`001` triggered, `002` calculated).
    #[serde(rename = "EmMrgnTrgDiv")]
    pub em_mrgn_trg_div: String,
    /// Put/call division (`1` put, `2` call).
    #[serde(rename = "PCDiv")]
    pub put_call: String,
    /// Last trading day.
    #[serde(rename = "LTD", with = "wire::date")]
    pub last_trading_day: NaiveDate,
    /// Special quotation day.
    #[serde(rename = "SQD", with = "wire::date")]
    pub sq_date: NaiveDate,
    /// Settlement price.
    #[serde(rename = "Settle")]
    pub settlement_price: Option<f64>,
    /// Theoretical price.
    #[serde(rename = "Theo")]
    pub theoretical_price: Option<f64>,
    /// Base volatility (%).
    #[serde(rename = "BaseVol")]
    pub base_volatility: Option<f64>,
    /// Underlying price.
    #[serde(rename = "UnderPx")]
    pub underlying_price: Option<f64>,
    /// Implied volatility (%).
    #[serde(rename = "IV")]
    pub implied_volatility: Option<f64>,
    /// Interest rate for the theoretical price (%).
    #[serde(rename = "IR")]
    pub interest_rate: Option<f64>,
    /// Central contract month.
    #[serde(rename = "CCMFlag", with = "wire::flag", default)]
    pub central_contract_month: Option<bool>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for OptionsBar {
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
