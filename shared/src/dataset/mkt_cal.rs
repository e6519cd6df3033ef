//! J-Quants V2 `/markets/calendar`: one row per calendar day (jquants-api.md §8.5). One
//! partition (`TSE`), sorted by date.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Row;
use super::wire;

/// A calendar day.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CalendarDay {
    /// The day.
    #[serde(rename = "Date", with = "wire::date")]
    pub date: NaiveDate,
    /// Holiday division: `"0"` closed, `"1"` business day, `"2"` half-day session, `"3"`
    /// closed with OSE holiday trading.
    #[serde(rename = "HolDiv")]
    pub hol_div: String,
    /// Fields newer than this type, under their provider names.
    #[serde(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Row for CalendarDay {
    fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }

    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.extra
    }

    fn key(&self) -> (String, String) {
        ("TSE".to_owned(), wire::day(self.date))
    }
}

#[cfg(test)]
mod tests {
    use crate::dataset::DatasetKind;
    use crate::dataset::tests::round_trips;

    /// jquants-api.md §8.5, the official V2 sample, and a compact date.
    const SAMPLE: &str =
        r#"[{"Date": "2015-04-01", "HolDiv": "1"}, {"Date": "20150402", "HolDiv": "0"}]"#;

    #[test]
    fn the_reference_sample_keeps_every_field() {
        let recs = round_trips(DatasetKind::MktCal, SAMPLE, &["Date"]);
        assert_eq!(
            (recs[0].partition.as_str(), recs[0].sort.as_str()),
            ("TSE", "2015-04-01")
        );
        assert_eq!(recs[1].sort, "2015-04-02");
    }
}
