//! J-Quants V2 `/equities/earnings-calendar`: results announcements scheduled for the next
//! business day (jquants-api.md §8.7, V1 `announcement`). Keyed by code and date; a date not yet
//! decided (`""`) gets the sort key `undecided`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A scheduled results announcement (March and September fiscal year ends only).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct EarningsAnnouncement {
    /// Announcement date; `None` when undecided (`""` on the wire).
    #[serde(rename = "Date", with = "wire::opt_date")]
    pub date: Option<NaiveDate>,
    /// 5-character issue code.
    #[serde(rename = "Code")]
    pub code: String,
    /// Company name.
    #[serde(rename = "CoName")]
    pub co_name: String,
    /// Fiscal year end, as text (e.g. `9月30日`).
    #[serde(rename = "FY")]
    pub fiscal_year: String,
    /// Sector name.
    #[serde(rename = "SectorNm")]
    pub sector_name: String,
    /// Fiscal quarter, as text (e.g. `第１四半期`).
    #[serde(rename = "FQ")]
    pub fiscal_quarter: String,
    /// Market section name.
    #[serde(rename = "Section")]
    pub section: String,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for EarningsAnnouncement {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        let sort = self.date.map_or_else(|| "undecided".to_owned(), wire::day);
        (self.code.clone(), sort)
    }
}

#[cfg(test)]
mod tests {
    use crate::dataset::DatasetKind;
    use crate::dataset::tests::round_trips;

    /// jquants-api.md §8.7: the V1 sample's values under the V2 names the reference lists.
    const SAMPLE: &str = r#"[{"Date": "2022-02-14", "Code": "43760", "CoName": "くふうカンパニー",
      "FY": "9月30日", "SectorNm": "情報・通信業", "FQ": "第１四半期", "Section": "マザーズ"},
      {"Date": "", "Code": "43760", "CoName": "くふうカンパニー", "FY": "9月30日",
      "SectorNm": "情報・通信業", "FQ": "第１四半期", "Section": "マザーズ"}]"#;

    #[test]
    fn the_reference_sample_keeps_every_field_and_undecided_dates() {
        let recs = round_trips(DatasetKind::EqEarningsCal, SAMPLE, &[]);
        assert_eq!(recs[0].sort, "2022-02-14");
        assert_eq!(recs[1].sort, "undecided");
        assert_eq!(
            recs[1].to_json()["Date"],
            "",
            "an undecided date stays blank"
        );
    }
}
