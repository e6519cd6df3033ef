//! Syncing against a fake API, and the pure steps: which years travel, the state file,
//! the report.

use std::fs::File;
use std::sync::{Arc, Mutex};

use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;

use super::partitions::Listed;
use super::*;
use crate::config::Config;
use crate::fake_api::{Seen, fake};
use crate::to_parquet::{Column, Kind};

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
                "{\"Date\":\"2023-12-28\",\"Code\":\"72030\",\"C\":1.5,\"Div\":null}\n".to_owned(),
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
        &std::fs::read_to_string(dir.join(".moomoo-sync/jquants-v2__eq-bars-daily.json")).unwrap(),
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
