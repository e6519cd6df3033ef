//! Yahoo `/v7/finance/quote` (yahoo-api.md §1.2; cookie + crumb): the latest quote of an
//! issue, one row per issue and Tokyo trading date, so a later quote of the same session
//! replaces the earlier one. Names as Yahoo's quote object has them.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// The latest quote of one issue on one trading date.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteRow {
    /// J-Quants code (`72030`).
    pub code: String,
    /// Yahoo symbol (`7203.T`).
    pub symbol: String,
    /// Tokyo trading date of the last price.
    #[serde(with = "wire::date")]
    pub date: NaiveDate,
    /// Last price.
    pub regular_market_price: Option<f64>,
    /// When it traded, in Tokyo time.
    pub regular_market_time: Option<DateTime<FixedOffset>>,
    /// Session open.
    pub regular_market_open: Option<f64>,
    /// Session high.
    pub regular_market_day_high: Option<f64>,
    /// Session low.
    pub regular_market_day_low: Option<f64>,
    /// Shares traded in the session.
    pub regular_market_volume: Option<u64>,
    /// The close before.
    pub regular_market_previous_close: Option<f64>,
    /// Change from the close before.
    pub regular_market_change: Option<f64>,
    /// The same, in percent.
    pub regular_market_change_percent: Option<f64>,
    /// `REGULAR`, `CLOSED`, `PRE` or `POST`.
    pub market_state: Option<String>,
    /// Price currency.
    pub currency: Option<String>,
    /// Fields newer than this type.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for QuoteRow {
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
