//! J-Quants V2 `/markets/breakdown`: each issue's daily trading by kind of trade
//! (jquants-api.md §2.2). Keyed by (code, date).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A day's trading split into long/short/margin sells and long/margin buys. The reference lists no V2 fields for it; names and types are the sandbox's (V1 fields renamed the
/// official way).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Breakdown {
    /// Trading day.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Long selling (value, yen).
    #[serde(rename = "LongSellVa")]
    pub long_sell_va: Option<f64>,
    /// Short selling other than margin (value, yen).
    #[serde(rename = "ShrtNoMrgnVa")]
    pub short_no_margin_va: Option<f64>,
    /// Margin selling, new positions (value, yen).
    #[serde(rename = "MrgnSellNewVa")]
    pub margin_sell_new_va: Option<f64>,
    /// Margin selling, closing positions (value, yen).
    #[serde(rename = "MrgnSellCloseVa")]
    pub margin_sell_close_va: Option<f64>,
    /// Long buying (value, yen).
    #[serde(rename = "LongBuyVa")]
    pub long_buy_va: Option<f64>,
    /// Margin buying, new positions (value, yen).
    #[serde(rename = "MrgnBuyNewVa")]
    pub margin_buy_new_va: Option<f64>,
    /// Margin buying, closing positions (value, yen).
    #[serde(rename = "MrgnBuyCloseVa")]
    pub margin_buy_close_va: Option<f64>,
    /// Long selling (shares).
    #[serde(rename = "LongSellVo")]
    pub long_sell_vo: Option<f64>,
    /// Short selling other than margin (shares).
    #[serde(rename = "ShrtNoMrgnVo")]
    pub short_no_margin_vo: Option<f64>,
    /// Margin selling, new positions (shares).
    #[serde(rename = "MrgnSellNewVo")]
    pub margin_sell_new_vo: Option<f64>,
    /// Margin selling, closing positions (shares).
    #[serde(rename = "MrgnSellCloseVo")]
    pub margin_sell_close_vo: Option<f64>,
    /// Long buying (shares).
    #[serde(rename = "LongBuyVo")]
    pub long_buy_vo: Option<f64>,
    /// Margin buying, new positions (shares).
    #[serde(rename = "MrgnBuyNewVo")]
    pub margin_buy_new_vo: Option<f64>,
    /// Margin buying, closing positions (shares).
    #[serde(rename = "MrgnBuyCloseVo")]
    pub margin_buy_close_vo: Option<f64>,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for Breakdown {
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
