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

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::api::Api;
use crate::args::{Dataset, Format};
use crate::error::CliError;
use crate::output::{Cleanup, Source};
use crate::rows::{DataRows, Query, dataset_path, query_string};
use crate::schema::{Observed, merge, observe};
use crate::to_parquet::{Column, write_rows};

/// The folder of the state files, inside the mirrored directory.
pub const STATE_DIR: &str = ".moomoo-sync";

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

/// `GET …/partitions`.
#[derive(Debug, Deserialize)]
struct Listing {
    partitions: Vec<Listed>,
}

/// A year the user holds rows of.
#[derive(Debug, Clone, Deserialize)]
struct Listed {
    year: i32,
    version: String,
}

/// What a sync did to one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The year.
    pub year: i32,
    /// `written`, `unchanged` or `removed`.
    pub action: Action,
    /// Why it was written: `new`, `changed`, `missing file` or `schema changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Rows in its file (none once removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

/// What a sync did to a year's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Downloaded and (re)written.
    Written,
    /// Kept as it was.
    Unchanged,
    /// Deleted: no longer held.
    Removed,
}

/// What a sync did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `<data_source>/<endpoint>`.
    pub dataset: String,
    /// The dataset's folder.
    pub dir: PathBuf,
    /// Each year, in order.
    pub partitions: Vec<Outcome>,
    /// Years written.
    pub written: usize,
    /// Years kept.
    pub unchanged: usize,
    /// Years removed.
    pub removed: usize,
    /// Rows downloaded.
    pub rows_transferred: u64,
    /// The schema of every file.
    pub schema: Vec<Column>,
}

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

/// The listed years whose file must be written, each with why.
fn stale(
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
fn gone(prior: &State, listed: &[Listed], data_dir: &Path) -> Result<Vec<i32>, CliError> {
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

/// The rows of `year` into `file` (NDJSON), read for their columns.
async fn download_year(
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
fn write_year(ndjson: &Path, schema: &[Column], path: &Path) -> Result<u64, CliError> {
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
fn remove_year(path: &Path) -> Result<(), CliError> {
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

/// Refuses to mirror `dataset` where another data source's endpoint of the same name is: both
/// would write `dataset=<endpoint>`.
fn refuse_another_source(state_dir: &Path, dataset: &Dataset) -> Result<(), CliError> {
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

fn load(path: &Path) -> Result<Option<State>, CliError> {
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

fn save(path: &Path, state: &State) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(state)
        .map_err(|e| CliError::Unexpected(format!("rendering the sync state: {e}")))?;
    let part = path.with_extension("json.part");
    std::fs::write(&part, text).map_err(CliError::io(format!("writing {}", part.display())))?;
    std::fs::rename(&part, path).map_err(CliError::io(format!("writing {}", path.display())))
}

/// The report as text: a line per year, then the totals.
pub fn describe(r: &Report) -> String {
    let mut text = String::new();
    for o in &r.partitions {
        let action = match o.action {
            Action::Written => "written",
            Action::Unchanged => "unchanged",
            Action::Removed => "removed",
        };
        text.push_str(&format!("year={}  {action:<9}", o.year));
        match (o.reason, o.rows) {
            (Some(reason), Some(rows)) => text.push_str(&format!("  {rows} rows ({reason})")),
            (None, Some(rows)) => text.push_str(&format!("  {rows} rows")),
            _ => {}
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "{} -> {}: {} written, {} unchanged, {} removed; {} rows transferred",
        r.dataset,
        r.dir.display(),
        r.written,
        r.unchanged,
        r.removed,
        r.rows_transferred
    ));
    text
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use parquet::file::reader::{FileReader, SerializedFileReader};
    use serde_json::Value;

    use super::*;
    use crate::config::Config;
    use crate::fake_api::{Seen, fake};
    use crate::to_parquet::Kind;

    /// The years a fake API holds: each one's version and NDJSON rows.
    type Held = Arc<Mutex<BTreeMap<i32, (String, String)>>>;

    /// A fake API serving `held`'s partitions and rows, and a scratch directory.
    async fn serving(held: &Held) -> (Api, Seen, PathBuf) {
        let years = held.clone();
        let (base, seen) = fake(move |path, _| {
            let years = years.lock().unwrap();
            if path.starts_with("/v1/data/jquants-v2/eq-bars-daily/partitions") {
                let listed: Vec<Value> = years
                    .iter()
                    .map(|(y, (v, _))| serde_json::json!({"year": y, "version": v, "symbols": 1}))
                    .collect();
                let body = serde_json::json!({ "partitions": listed }).to_string();
                return (200, String::new(), body);
            }
            assert!(path.contains("&held=only"), "{path}");
            let year: i32 = path.split("from=").nth(1).unwrap()[..4].parse().unwrap();
            let rows = years.get(&year).map(|(_, r)| r.clone()).unwrap_or_default();
            let header = format!("x-moomoo-rows: {}\r\n", rows.lines().count());
            (200, header, rows)
        })
        .await;
        let api = Api::new(&Config::new(&base, "mmk_test")).unwrap();
        let port = base.rsplit(':').next().unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("moomoo-sync-{}-{port}", std::process::id()));
        (api, seen, dir)
    }

    fn bars() -> Dataset {
        Dataset {
            data_source: "jquants-v2".into(),
            endpoint: "eq-bars-daily".into(),
        }
    }

    fn actions(r: &Report) -> Vec<(i32, Action, Option<&'static str>)> {
        r.partitions
            .iter()
            .map(|o| (o.year, o.action, o.reason))
            .collect()
    }

    /// Each column of a year's file: name and physical type.
    fn columns_of(dir: &Path, year: i32) -> Vec<String> {
        let path = dir.join(format!("dataset=eq-bars-daily/year={year}/part-0.parquet"));
        let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
        let schema = reader.metadata().file_metadata().schema_descr();
        schema
            .columns()
            .iter()
            .map(|c| format!("{}:{}", c.name(), c.physical_type()))
            .collect()
    }

    #[tokio::test]
    async fn only_moved_years_travel_and_gone_ones_are_removed() {
        let held = Held::default();
        held.lock().unwrap().extend([
            (
                2023,
                (
                    "a".to_owned(),
                    "{\"Date\":\"2023-12-28\",\"Code\":\"72030\",\"C\":1.5,\"Div\":null}\n"
                        .to_owned(),
                ),
            ),
            (
                2024,
                (
                    "b".to_owned(),
                    "{\"Date\":\"2024-01-04\",\"Code\":\"72030\",\"C\":2,\"Div\":10}\n".to_owned(),
                ),
            ),
        ]);
        let (api, seen, dir) = serving(&held).await;
        let first = sync(&api, &bars(), &dir, &[]).await.unwrap();
        assert_eq!(
            actions(&first),
            [
                (2023, Action::Written, Some("new")),
                (2024, Action::Written, Some("new"))
            ]
        );
        assert_eq!(
            columns_of(&dir, 2023),
            ["Date:INT32", "Code:BYTE_ARRAY", "C:DOUBLE", "Div:DOUBLE"],
            "2023's Div, all null, is typed as 2024's"
        );
        assert_eq!(columns_of(&dir, 2024), columns_of(&dir, 2023));

        seen.lock().unwrap().clear();
        let again = sync(&api, &bars(), &dir, &[]).await.unwrap();
        assert_eq!(
            (again.written, again.unchanged, again.rows_transferred),
            (0, 2, 0)
        );
        assert_eq!(seen.lock().unwrap().len(), 1, "the listing only");

        {
            let mut years = held.lock().unwrap();
            let y2024 = years.get_mut(&2024).unwrap();
            y2024.0 = "c".into();
            y2024
                .1
                .push_str("{\"Date\":\"2024-01-05\",\"Code\":\"72030\",\"C\":3,\"Div\":null}\n");
        }
        std::fs::remove_file(dir.join("dataset=eq-bars-daily/year=2023/part-0.parquet")).unwrap();
        let moved = sync(&api, &bars(), &dir, &[]).await.unwrap();
        assert_eq!(
            actions(&moved),
            [
                (2023, Action::Written, Some("missing file")),
                (2024, Action::Written, Some("changed"))
            ]
        );
        assert_eq!(moved.rows_transferred, 3);

        held.lock().unwrap().remove(&2023);
        let removed = sync(&api, &bars(), &dir, &[]).await.unwrap();
        assert_eq!(
            actions(&removed),
            [
                (2023, Action::Removed, None),
                (2024, Action::Unchanged, None)
            ]
        );
        assert!(!dir.join("dataset=eq-bars-daily/year=2023").exists());
        let state: State = serde_json::from_str(
            &std::fs::read_to_string(dir.join(".moomoo-sync/jquants-v2__eq-bars-daily.json"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(state.partitions.keys().copied().collect::<Vec<_>>(), [2024]);
        assert!(
            std::fs::read_dir(dir.join(STATE_DIR)).unwrap().count() == 1,
            "no scratch file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_new_column_or_a_conflict_rewrites_every_year() {
        let held = Held::default();
        held.lock().unwrap().extend([
            (
                2023,
                (
                    "a".to_owned(),
                    "{\"Date\":\"2023-12-28\",\"Code\":\"72030\",\"C\":1.5}\n".to_owned(),
                ),
            ),
            (
                2024,
                (
                    "b".to_owned(),
                    "{\"Date\":\"2024-01-04\",\"Code\":\"72030\",\"C\":2}\n".to_owned(),
                ),
            ),
        ]);
        let (api, _, dir) = serving(&held).await;
        sync(&api, &bars(), &dir, &[]).await.unwrap();

        held.lock().unwrap().insert(
            2024,
            (
                "c".to_owned(),
                "{\"Date\":\"2024-01-04\",\"Code\":\"72030\",\"O\":1,\"C\":\"n/a\"}\n".to_owned(),
            ),
        );
        let widened = sync(&api, &bars(), &dir, &[]).await.unwrap();
        assert_eq!(
            actions(&widened),
            [
                (2023, Action::Written, Some("schema changed")),
                (2024, Action::Written, Some("changed"))
            ]
        );
        for year in [2023, 2024] {
            assert_eq!(
                columns_of(&dir, year),
                ["Date:INT32", "Code:BYTE_ARRAY", "O:DOUBLE", "C:BYTE_ARRAY"],
                "{year}"
            );
        }
        assert_eq!(
            widened.schema.iter().map(|c| c.kind).collect::<Vec<_>>(),
            [Kind::Date, Kind::Text, Kind::Double, Kind::Text]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn listed(year: i32, version: &str) -> Listed {
        Listed {
            year,
            version: version.into(),
        }
    }

    fn state(years: &[(i32, &str)]) -> State {
        State {
            partitions: years
                .iter()
                .map(|&(y, v)| {
                    (
                        y,
                        Written {
                            version: v.into(),
                            rows: 1,
                        },
                    )
                })
                .collect(),
            ..State::default()
        }
    }

    #[test]
    fn only_new_changed_or_missing_years_travel() {
        let prior = state(&[(2022, "a"), (2023, "b"), (2024, "c")]);
        let now = [
            listed(2023, "b"),
            listed(2024, "d"),
            listed(2025, "e"),
            listed(2022, "a"),
        ];
        let todo = stale(&prior, &now, |y| y != 2022);
        assert_eq!(
            todo.into_iter().collect::<Vec<_>>(),
            [(2022, "missing file"), (2024, "changed"), (2025, "new")]
        );
        assert!(stale(&prior, &now[..1], |_| true).is_empty());
    }

    #[test]
    fn years_no_longer_listed_are_gone_whether_in_the_state_or_on_disk() {
        let dir = std::env::temp_dir().join(format!("moomoo-sync-{}", std::process::id()));
        let data = dir.join("dataset=eq-bars-daily");
        for d in ["year=2019", "year=2024", "notes"] {
            std::fs::create_dir_all(data.join(d)).unwrap();
        }
        let prior = state(&[(2020, "a"), (2024, "b")]);
        let years = gone(&prior, &[listed(2024, "b")], &data).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(years, [2019, 2020]);
    }

    #[test]
    fn the_state_file_round_trips_and_names_types_plainly() {
        let s = State {
            data_source: "jquants-v2".into(),
            endpoint: "eq-bars-daily".into(),
            schema: vec![Column {
                name: "Date".into(),
                kind: Kind::Date,
            }],
            ..state(&[(2024, "v1")])
        };
        let text = serde_json::to_value(&s).unwrap();
        assert_eq!(
            text["schema"][0],
            serde_json::json!({"name": "Date", "type": "date"})
        );
        assert_eq!(text["partitions"]["2024"]["version"], "v1");
        let back: State = serde_json::from_value(text).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_directory_mirrors_one_source_per_endpoint() {
        let dir = std::env::temp_dir().join(format!("moomoo-sync-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("jquants-v1__eq-bars-daily.json"), "{}").unwrap();
        let ds = |s: &str| Dataset {
            data_source: s.into(),
            endpoint: "eq-bars-daily".into(),
        };
        let refused = refuse_another_source(&dir, &ds("jquants-v2"));
        let same = refuse_another_source(&dir, &ds("jquants-v1"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(refused.unwrap_err().exit_code(), 2);
        assert!(same.is_ok());
    }

    #[test]
    fn the_report_reads_per_year_then_totals() {
        let r = Report {
            dataset: "jquants-v2/eq-bars-daily".into(),
            dir: PathBuf::from("d/dataset=eq-bars-daily"),
            partitions: vec![
                Outcome {
                    year: 2023,
                    action: Action::Unchanged,
                    reason: None,
                    rows: Some(10),
                },
                Outcome {
                    year: 2024,
                    action: Action::Written,
                    reason: Some("changed"),
                    rows: Some(12),
                },
            ],
            written: 1,
            unchanged: 1,
            removed: 0,
            rows_transferred: 12,
            schema: vec![],
        };
        assert_eq!(
            describe(&r),
            "year=2023  unchanged  10 rows\n\
             year=2024  written    12 rows (changed)\n\
             jquants-v2/eq-bars-daily -> d/dataset=eq-bars-daily: 1 written, 1 unchanged, \
             0 removed; 12 rows transferred"
        );
    }
}
