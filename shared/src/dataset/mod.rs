//! Datasets: one file per dataset with its typed row, its natural key and its mapping to a
//! stored [`Record`]. Stores know only records, so adding a dataset touches no adapter.

mod eq_bars_daily;
mod record;
mod wire;

pub use eq_bars_daily::DailyBar;
pub use record::{FieldValue, Record};

use serde::{Deserialize, Serialize};

/// The datasets the catalog's endpoints return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// J-Quants V2 `/equities/bars/daily`.
    EqBarsDaily,
}

impl DatasetKind {
    /// The stored name, part of every record key.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetKind::EqBarsDaily => "eq-bars-daily",
        }
    }

    /// Parses one page's `data` array into records, typed on the way through so a field of the
    /// wrong type is caught here rather than stored.
    pub fn parse_rows(self, data: &serde_json::value::RawValue) -> Result<Vec<Record>, String> {
        match self {
            DatasetKind::EqBarsDaily => {
                let rows: Vec<DailyBar> =
                    serde_json::from_str(data.get()).map_err(|e| e.to_string())?;
                Ok(rows.into_iter().map(DailyBar::into_record).collect())
            }
        }
    }
}
