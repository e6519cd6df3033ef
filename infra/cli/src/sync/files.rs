//! A year's rows on disk: downloaded as NDJSON, written as its Parquet file, removed.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use chrono::NaiveDate;

use crate::api::Api;
use crate::args::{Dataset, Format};
use crate::error::CliError;
use crate::output::{Cleanup, Source};
use crate::rows::{DataRows, Query};
use crate::schema::{Observed, observe};
use crate::to_parquet::{Column, write_rows};

/// The rows of `year` into `file` (NDJSON), read for their columns.
pub(super) async fn download_year(
    api: &Api,
    dataset: &Dataset,
    params: &BTreeMap<String, String>,
    year: i32,
    file: &Path,
) -> Result<Observed, CliError> {
    let day = |m, d| {
        NaiveDate::from_ymd_opt(year, m, d)
            .ok_or_else(|| CliError::Unexpected(format!("the API listed year {year}")))
    };
    let query = Query {
        dataset: dataset.clone(),
        from: Some(day(1, 1)?),
        to: Some(day(12, 31)?),
        params: params.clone().into_iter().collect(),
        held_only: true,
        ..Query::default()
    };
    let mut out =
        File::create(file).map_err(CliError::io(format!("creating {}", file.display())))?;
    let rows = DataRows::new(api, query, false)
        .download(Format::Ndjson, &mut out)
        .await?;
    let observed =
        observe(File::open(file).map_err(CliError::io(format!("reading {}", file.display())))?)?;
    if observed.rows != rows {
        return Err(CliError::Unexpected(format!(
            "year {year}: {} rows read back of {rows} downloaded",
            observed.rows
        )));
    }
    Ok(observed)
}

/// Writes the rows in `ndjson` to `path` with `schema`, replacing it at once.
pub(super) fn write_year(ndjson: &Path, schema: &[Column], path: &Path) -> Result<u64, CliError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)
        .map_err(CliError::io(format!("creating {}", folder.display())))?;
    let part = path.with_extension("parquet.part");
    let _cleanup = Cleanup(vec![part.clone()]);
    let input =
        File::open(ndjson).map_err(CliError::io(format!("reading {}", ndjson.display())))?;
    let mut file =
        File::create(&part).map_err(CliError::io(format!("creating {}", part.display())))?;
    let rows = write_rows(input, schema, &mut file)?;
    file.sync_all()
        .map_err(CliError::io(format!("writing {}", part.display())))?;
    std::fs::rename(&part, path).map_err(CliError::io(format!("writing {}", path.display())))?;
    Ok(rows)
}

/// Deletes a year's file, and its folder once empty (a folder holding anything else stays).
pub(super) fn remove_year(path: &Path) -> Result<(), CliError> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(CliError::io(format!("removing {}", path.display()))(e)),
    }
    if let Some(folder) = path.parent() {
        let _ = std::fs::remove_dir(folder);
    }
    Ok(())
}
