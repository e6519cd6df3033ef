//! `moomoo` against the local stack (moto + the sandbox), run as a user runs it: the built
//! binary in a child process, its progress bar drawn in a real pseudo-terminal, its files read
//! back by independent readers (the csv crate, pyarrow from the test virtualenv).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use chrono::{Datelike, Days, NaiveDate, Utc};
use integration_tests::{KEY, World, unique};
use reqwest::Method;
use serde_json::{Map, Value};

mod admin;
mod data;
mod fetch;
mod interrupts;
mod manage;

const MOOMOO: &str = env!("CARGO_BIN_EXE_moomoo");

fn window() -> (NaiveDate, NaiveDate) {
    let today = Utc::now().date_naive();
    (today - Days::new(75), today - Days::new(44))
}

fn here() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let p = here().join("../../.venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run `make venv` (it installs pyarrow)",
        p.display()
    );
    p
}

/// The user's side: a scratch directory holding a config file with the API URL (the key
/// comes from the environment, so both sources are used), and `HOME` pointed there so no
/// real configuration is read.
struct User {
    dir: PathBuf,
    key: String,
}

impl User {
    fn new(w: &World) -> Self {
        let dir = std::env::temp_dir().join(unique("moomoo-cli-"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.toml"),
            format!("api_url = \"{}\"\n", w.stack.api_url),
        )
        .unwrap();
        Self {
            dir,
            key: w.user.key().unwrap().to_owned(),
        }
    }

    /// `program args…` with the user's configuration.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_remove("MOOMOO_API_URL")
            .env("MOOMOO_API_KEY", &self.key)
            .env("MOOMOO_CONFIG", self.dir.join("config.toml"))
            .env("HOME", &self.dir)
            .env("TERM", "xterm-256color")
            .current_dir(&self.dir);
        c
    }

    fn moomoo<S: AsRef<std::ffi::OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Command {
        let mut c = self.command(MOOMOO);
        c.args(args);
        c
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs a command off the runtime's threads (the API it calls is served on them).
async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("the command starts"))
        .await
        .unwrap()
}

/// Runs a command with `input` on its stdin.
async fn run_with_stdin(mut cmd: Command, input: String) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn expected_rows(symbols: &[&str], from: NaiveDate, to: NaiveDate, w: &World) -> Vec<Value> {
    symbols
        .iter()
        .flat_map(|code| {
            sandbox::trading_days(from, to)
                .filter_map(|d| sandbox::daily_bar(code, d, w.plan))
                .map(Value::Object)
        })
        .collect()
}

/// Numbers compared as numbers (Parquet has no "integer-valued float" distinction to keep).
fn normalized(row: &Value) -> Map<String, Value> {
    row.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = match v.as_f64() {
                Some(n) => Value::from(n),
                None => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn assert_csv_holds(path: &Path, expected: &[Value]) {
    let mut csv = csv::Reader::from_path(path).unwrap();
    let header = csv.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), expected.len(), "rows in {}", path.display());
    for (record, row) in records.iter().zip(expected) {
        assert_eq!(header.len(), row.as_object().unwrap().len(), "columns");
        for (column, cell) in header.iter().zip(record.iter()) {
            let want = match &row[column] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(cell, want, "column {column}");
        }
    }
}

async fn assert_parquet_holds(path: &Path, expected: &[Value]) {
    let mut cmd = Command::new(python());
    cmd.arg(here().join("tests/read_parquet.py")).arg(path);
    let out = run(cmd).await;
    assert!(out.status.success(), "pyarrow: {}", text(&out.stderr));
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema = &read["schema"];
    assert_eq!(schema["Code"], "string", "{schema}");
    assert_eq!(schema["Date"], "string", "{schema}");
    assert_eq!(schema["C"], "double", "{schema}");
    let rows: Vec<Map<String, Value>> = read["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(normalized)
        .collect();
    let want: Vec<Map<String, Value>> = expected.iter().map(normalized).collect();
    assert_eq!(rows.len(), want.len(), "rows in {}", path.display());
    assert_eq!(rows, want);
}
