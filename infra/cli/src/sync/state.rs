//! The state file of a mirrored dataset (`DIR/.moomoo-sync/<data_source>__<endpoint>.json`):
//! the versions and schema the last sync wrote.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::args::Dataset;
use crate::error::CliError;
use crate::to_parquet::Column;

/// What a directory holds of a dataset, as the last sync left it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The data source.
    pub data_source: String,
    /// The endpoint.
    pub endpoint: String,
    /// The `--param`s naming the series.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The schema of every file.
    #[serde(default)]
    pub schema: Vec<Column>,
    /// Each year written: its version and rows.
    #[serde(default)]
    pub partitions: BTreeMap<i32, Written>,
}

/// A year as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// The API's version of the year's rows.
    pub version: String,
    /// Rows in the file.
    pub rows: u64,
}

/// Refuses to mirror `dataset` where another data source's endpoint of the same name is: both
/// would write `dataset=<endpoint>`.
pub(super) fn refuse_another_source(state_dir: &Path, dataset: &Dataset) -> Result<(), CliError> {
    let suffix = format!("__{}.json", dataset.endpoint);
    let entries = std::fs::read_dir(state_dir)
        .map_err(CliError::io(format!("reading {}", state_dir.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(other) = name.to_str().and_then(|n| n.strip_suffix(&suffix)) else {
            continue;
        };
        if other != dataset.data_source && !other.contains("__") {
            return Err(CliError::Usage(format!(
                "{} already mirrors {other}/{} into dataset={}: sync {dataset} into another directory",
                state_dir.parent().unwrap_or(state_dir).display(),
                dataset.endpoint,
                dataset.endpoint
            )));
        }
    }
    Ok(())
}

pub(super) fn load(path: &Path) -> Result<Option<State>, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CliError::io(format!("reading {}", path.display()))(e)),
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        CliError::Unexpected(format!(
            "{} is not a sync state ({e}); delete it to sync every year again",
            path.display()
        ))
    })
}

pub(super) fn save(path: &Path, state: &State) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(state)
        .map_err(|e| CliError::Unexpected(format!("rendering the sync state: {e}")))?;
    let part = path.with_extension("json.part");
    std::fs::write(&part, text).map_err(CliError::io(format!("writing {}", part.display())))?;
    std::fs::rename(&part, path).map_err(CliError::io(format!("writing {}", path.display())))
}
