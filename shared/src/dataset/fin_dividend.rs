//! J-Quants V2 `/fins/dividend`: cash dividends as announced (jquants-api.md §2.2). Keyed by
//! code and `PubDate#RefNo`; a revision has its own reference number.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire;
use super::{NumText, Row};

/// A dividend announcement. The names are the official client's `FINS_DIVIDEND_COLUMNS_V2` as the
/// sandbox serves them; all values are text, amounts [`NumText`], dates `""` when not set.
/// Whether J-Quants writes undecided dates as `"-"` is UNVERIFIED: such a row is refused, not
/// guessed at.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Dividend {
    /// Announcement date.
    #[serde(rename = "PubDate", with = "wire::date")]
    pub pub_date: NaiveDate,
    /// Announcement time (`HH:MM`).
    #[serde(rename = "PubTime")]
    pub pub_time: String,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Reference number of the announcement.
    #[serde(rename = "RefNo")]
    pub ref_no: String,
    /// Status code (`1` new, `2` revision, `3` cancellation).
    #[serde(rename = "StatCode")]
    pub stat_code: String,
    /// Date of the board resolution.
    #[serde(rename = "BoardDate", with = "wire::opt_date")]
    pub board_date: Option<NaiveDate>,
    /// Interim/final code (`1` interim, `2` year end).
    #[serde(rename = "IFCode")]
    pub if_code: String,
    /// Forecast/result code (`1` result, `2` forecast).
    #[serde(rename = "FRCode")]
    pub fr_code: String,
    /// Interim/final term (`YYYY-MM`).
    #[serde(rename = "IFTerm")]
    pub if_term: String,
    /// Dividend per share.
    #[serde(rename = "DivRate")]
    pub div_rate: NumText,
    /// Record date.
    #[serde(rename = "RecDate", with = "wire::opt_date")]
    pub rec_date: Option<NaiveDate>,
    /// Ex-rights date.
    #[serde(rename = "ExDate", with = "wire::opt_date")]
    pub ex_date: Option<NaiveDate>,
    /// Actual record date.
    #[serde(rename = "ActRecDate", with = "wire::opt_date")]
    pub act_rec_date: Option<NaiveDate>,
    /// Payment start date.
    #[serde(rename = "PayDate", with = "wire::opt_date")]
    pub pay_date: Option<NaiveDate>,
    /// Reference number of the corporate action.
    #[serde(rename = "CARefNo")]
    pub ca_ref_no: String,
    /// Distribution amount per share.
    #[serde(rename = "DistAmt")]
    pub dist_amt: NumText,
    /// Retained earnings per share.
    #[serde(rename = "RetEarn")]
    pub ret_earn: NumText,
    /// Deemed dividend per share.
    #[serde(rename = "DeemDiv")]
    pub deem_div: NumText,
    /// Deemed capital gains per share.
    #[serde(rename = "DeemCapGains")]
    pub deem_cap_gains: NumText,
    /// Net asset decrease ratio.
    #[serde(rename = "NetAssetDecRatio")]
    pub net_asset_dec_ratio: NumText,
    /// Commemorative/special code (`0` neither).
    #[serde(rename = "CommSpecCode")]
    pub comm_spec_code: String,
    /// Commemorative dividend per share.
    #[serde(rename = "CommDivRate")]
    pub comm_div_rate: NumText,
    /// Special dividend per share.
    #[serde(rename = "SpecDivRate")]
    pub spec_div_rate: NumText,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for Dividend {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        (
            self.code.clone(),
            format!("{}#{}", wire::day(self.pub_date), self.ref_no),
        )
    }
}
