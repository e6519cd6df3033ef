//! The years the API lists, and which of them a sync writes or removes.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::State;
use crate::error::CliError;

/// `GET …/partitions`.
#[derive(Debug, Deserialize)]
pub(super) struct Listing {
    pub(super) partitions: Vec<Listed>,
}

/// A year the user holds rows of.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Listed {
    pub(super) year: i32,
    pub(super) version: String,
}

/// The listed years whose file must be written, each with why.
pub(super) fn stale(
    prior: &State,
    listed: &[Listed],
    has_file: impl Fn(i32) -> bool,
) -> BTreeMap<i32, &'static str> {
    listed
        .iter()
        .filter_map(|l| {
            let reason = match prior.partitions.get(&l.year) {
                None => "new",
                Some(w) if w.version != l.version => "changed",
                Some(_) if !has_file(l.year) => "missing file",
                Some(_) => return None,
            };
            Some((l.year, reason))
        })
        .collect()
}

/// Years written before (in the state, or as a `year=YYYY` folder) that are no longer listed.
pub(super) fn gone(
    prior: &State,
    listed: &[Listed],
    data_dir: &Path,
) -> Result<Vec<i32>, CliError> {
    let mut years: Vec<i32> = prior.partitions.keys().copied().collect();
    if data_dir.is_dir() {
        let entries = std::fs::read_dir(data_dir)
            .map_err(CliError::io(format!("reading {}", data_dir.display())))?;
        for entry in entries {
            let entry = entry.map_err(CliError::io(format!("reading {}", data_dir.display())))?;
            let name = entry.file_name();
            if let Some(year) = name
                .to_str()
                .and_then(|n| n.strip_prefix("year="))
                .and_then(|y| y.parse().ok())
            {
                years.push(year);
            }
        }
    }
    years.sort_unstable();
    years.dedup();
    years.retain(|y| listed.iter().all(|l| l.year != *y));
    Ok(years)
}
