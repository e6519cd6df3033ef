//! `moomoo data sync`: mirrors what the user holds of one dataset as Hive-partitioned Parquet,
//! `DIR/dataset=<endpoint>/year=YYYY/part-0.parquet`, for pandas, polars and DuckDB to read in
//! place.
//!
//! `GET /v1/data/{data_source}/{endpoint}/partitions` lists the years held, each with a version
//! that changes whenever its rows do. `DIR/.moomoo-sync/<data_source>__<endpoint>.json` keeps
//! the versions written and the dataset's schema, so only a year whose version moved (or whose
//! file is gone) travels: its rows are read with `held=only` (never from the provider) and its
//! file replaced atomically (written beside it, then renamed). Years no longer listed are
//! removed. Every file has the dataset's one schema ([`crate::schema`]); a new column or a
//! widened type rewrites every year.

mod files;
mod partitions;
mod report;
mod state;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use reqwest::Method;

use crate::api::Api;
use crate::args::Dataset;
use crate::error::CliError;
use crate::output::Cleanup;
use crate::rows::{dataset_path, query_string};
use crate::schema::{Observed, merge};

use files::{download_year, remove_year, write_year};
use partitions::{Listing, gone, stale};
pub use report::{Action, Outcome, Report, describe};
pub use state::{State, Written};
use state::{load, refuse_another_source, save};

/// The folder of the state files, inside the mirrored directory.
pub const STATE_DIR: &str = ".moomoo-sync";

/// Mirrors what the user holds of `dataset` (with `params`) into `dir`.
///
/// # Errors
/// The API's refusal; [`CliError::Usage`] when the directory mirrors the same endpoint of
/// another data source; [`CliError::Io`] for local files.
pub async fn sync(
    api: &Api,
    dataset: &Dataset,
    dir: &Path,
    params: &[(String, String)],
) -> Result<Report, CliError> {
    let state_dir = dir.join(STATE_DIR);
    std::fs::create_dir_all(&state_dir)
        .map_err(CliError::io(format!("creating {}", state_dir.display())))?;
    refuse_another_source(&state_dir, dataset)?;
    let state_path = state_dir.join(format!(
        "{}__{}.json",
        dataset.data_source, dataset.endpoint
    ));
    let params: BTreeMap<String, String> = params.iter().cloned().collect();
    let prior = match load(&state_path)? {
        Some(s) if s.params == params => s,
        // Another series under the same folder: none of its files can be kept.
        _ => State {
            data_source: dataset.data_source.clone(),
            endpoint: dataset.endpoint.clone(),
            params: params.clone(),
            ..State::default()
        },
    };

    let mut path = format!("{}/partitions", dataset_path(dataset));
    if !params.is_empty() {
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        path = format!("{path}?{}", query_string(&pairs));
    }
    let listing: Listing = api.call(Method::GET, &path, None).await?;
    let data_dir = dir.join(format!("dataset={}", dataset.endpoint));
    let file_of = |year: i32| data_dir.join(format!("year={year}")).join("part-0.parquet");

    let mut todo = stale(&prior, &listing.partitions, |y| file_of(y).is_file());
    let mut scratch = Cleanup::default();
    let mut fetched: BTreeMap<i32, (PathBuf, Observed)> = BTreeMap::new();
    let schema = loop {
        for &year in todo.keys() {
            if fetched.contains_key(&year) {
                continue;
            }
            let file = state_dir.join(format!(
                "{}__{}.{year}.ndjson.part",
                dataset.data_source, dataset.endpoint
            ));
            scratch.0.push(file.clone());
            let observed = download_year(api, dataset, &params, year, &file).await?;
            fetched.insert(year, (file, observed));
        }
        let observed: Vec<&Observed> = fetched.values().map(|(_, o)| o).collect();
        let schema = merge(&prior.schema, &observed);
        if schema != prior.schema && todo.len() < listing.partitions.len() {
            // A new column or a widened type: the files kept would disagree with it.
            for l in &listing.partitions {
                todo.entry(l.year).or_insert("schema changed");
            }
            continue;
        }
        break schema;
    };

    let mut state = State {
        schema: schema.clone(),
        ..prior.clone()
    };
    if schema != prior.schema {
        // Until every file has the new schema, none counts as written.
        state.partitions.clear();
        save(&state_path, &state)?;
    }
    let mut outcomes = Vec::new();
    let mut transferred = 0;
    for l in &listing.partitions {
        match fetched.get(&l.year) {
            Some((ndjson, _)) => {
                let rows = write_year(ndjson, &schema, &file_of(l.year))?;
                transferred += rows;
                state.partitions.insert(
                    l.year,
                    Written {
                        version: l.version.clone(),
                        rows,
                    },
                );
                outcomes.push(Outcome {
                    year: l.year,
                    action: Action::Written,
                    reason: todo.get(&l.year).copied(),
                    rows: Some(rows),
                });
            }
            None => outcomes.push(Outcome {
                year: l.year,
                action: Action::Unchanged,
                reason: None,
                rows: prior.partitions.get(&l.year).map(|w| w.rows),
            }),
        }
    }
    for year in gone(&prior, &listing.partitions, &data_dir)? {
        remove_year(&file_of(year))?;
        state.partitions.remove(&year);
        outcomes.push(Outcome {
            year,
            action: Action::Removed,
            reason: None,
            rows: None,
        });
    }
    save(&state_path, &state)?;
    outcomes.sort_by_key(|o| o.year);
    let count = |a: Action| outcomes.iter().filter(|o| o.action == a).count();
    Ok(Report {
        dataset: dataset.to_string(),
        dir: data_dir.clone(),
        written: count(Action::Written),
        unchanged: count(Action::Unchanged),
        removed: count(Action::Removed),
        partitions: outcomes,
        rows_transferred: transferred,
        schema,
    })
}
