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

/// The README's promise: `moomoo fetch` creates the group, draws a live progress bar in the
/// terminal, and writes exactly the provider's rows; the same rows as Parquet, read back by
/// pyarrow; `--json` gives scripts one document and no control sequences.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_draws_progress_in_a_terminal_and_writes_exactly_the_rows() {
    // Premium, so two groups of ~25 page requests each are not paced by the rate limiter.
    let mut w = World::on_plan(7, Default::default(), &[], sandbox::Plan::Premium).await;
    w.stack.start_pollers(3);
    let user = User::new(&w);
    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .step_by(97)
        .take(6)
        .map(String::as_str)
        .collect();
    let (from, to) = window();
    let (from_s, to_s, codes) = (from.to_string(), to.to_string(), symbols.join(","));
    let fetch = |out: &str| {
        vec![
            "fetch",
            "eq-bars-daily",
            "--symbols",
            &codes,
            "--from",
            &from_s,
            "--to",
            &to_s,
            "--out",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([out.to_owned()])
        .collect::<Vec<String>>()
    };
    let expected = expected_rows(&symbols, from, to, &w);
    assert!(expected.len() > 6 * 14, "every job spans pages");

    let mut in_terminal = user.command(python());
    in_terminal
        .arg(here().join("tests/pty_run.py"))
        .arg(MOOMOO)
        .args(fetch("rows.csv"));
    let out = run(in_terminal).await;
    let screen = text(&out.stdout);
    assert!(out.status.success(), "moomoo fetch failed:\n{screen}");
    assert!(
        screen.contains("6/6 jobs"),
        "the last frame shows every job done:\n{screen}"
    );
    assert!(
        screen.contains(&format!("[{}]", "=".repeat(30))),
        "a full bar:\n{screen}"
    );
    assert!(
        screen.matches(" jobs · ").count() >= 2,
        "the bar is redrawn as the group runs:\n{screen}"
    );
    assert!(
        screen.contains("jobs/s") && screen.contains("ETA"),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("wrote {} rows to rows.csv (csv)", expected.len())),
        "{screen}"
    );
    assert_csv_holds(&user.dir.join("rows.csv"), &expected);
    assert!(!user.dir.join("rows.csv.part").exists());

    let out = run(user.moomoo(
        ["--json".to_owned()]
            .into_iter()
            .chain(fetch("rows.parquet")),
    ))
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(
        (
            &summary["group"]["status"],
            &summary["rows"],
            &summary["format"]
        ),
        (
            &Value::from("completed"),
            &Value::from(expected.len()),
            &Value::from("parquet")
        ),
        "{summary}"
    );
    assert!(
        !text(&out.stderr).contains('\u{1b}'),
        "no progress bar drawn when stderr is not a terminal"
    );
    assert_parquet_holds(&user.dir.join("rows.parquet"), &expected).await;
    assert!(!user.dir.join("rows.parquet.ndjson.part").exists());

    // The first group's rows again, now as Parquet through `export`.
    let first = screen
        .split("job group ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .expect("fetch names its group");
    assert_ne!(first, summary["group"]["id"]);
    let out = run(user.moomoo(["export", first, "--out", "again.parquet"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_parquet_holds(&user.dir.join("again.parquet"), &expected).await;

    // The user's groups, newest first, a page at a time.
    let second = summary["group"]["id"].as_str().unwrap();
    let page = |args: &[&str]| {
        let mut words = vec!["--json", "groups", "list"];
        words.extend(args);
        user.moomoo(words)
    };
    let out = run(page(&["--limit", "1"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let one: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(one["job_groups"][0]["id"], second, "{one}");
    let cursor = one["next_cursor"].as_str().expect("a next page");
    let out = run(page(&["--limit", "1", "--cursor", cursor])).await;
    let two: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(two["job_groups"][0]["id"], first, "{two}");
    let out = run(page(&["--all"])).await;
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = all["job_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        (ids, &all["next_cursor"]),
        (vec![second, first], &Value::Null)
    );
    let out = run(user.moomoo(["groups", "list"])).await;
    let listing = text(&out.stdout);
    assert!(
        listing.lines().count() == 2 && listing.contains(second) && listing.contains("completed"),
        "{listing}"
    );
}

/// Ctrl-C stops following, never the group: the CLI exits 130 and says how to reattach, the
/// group runs on, and `groups watch` follows it to the end. Failures carry the API's detail
/// and an exit code per kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_leaves_the_group_running_and_errors_have_distinct_exit_codes() {
    let mut w = World::on_plan(50, Default::default(), &[], sandbox::Plan::Premium).await;
    let user = User::new(&w);
    let (from, to) = window();
    let (from, to) = (from.to_string(), to.to_string());
    let fetch = [
        "fetch",
        "eq-bars-daily",
        "--symbols",
        "72030,67580",
        "--from",
        &from,
        "--to",
        &to,
        "--out",
        "rows.csv",
    ];

    // No pollers yet: the group stays pending while the CLI follows it.
    let mut child = user
        .moomoo(fetch)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (id, stderr) = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let id = line
            .strip_prefix("job group ")
            .and_then(|l| l.split(':').next())
            .unwrap_or_else(|| panic!("no group line: {line}"))
            .to_owned();
        (id, stderr)
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (status, rest) = tokio::task::spawn_blocking(move || {
        let rest: Vec<String> = stderr.lines().map(Result::unwrap).collect();
        (child.wait().unwrap(), rest.join("\n"))
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("keeps running on the server"), "{rest}");
    assert!(
        rest.contains(&format!("moomoo groups watch {id}")),
        "{rest}"
    );
    assert!(!user.dir.join("rows.csv").exists() && !user.dir.join("rows.csv.part").exists());
    let g = w
        .user
        .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
        .await
        .unwrap();
    assert_eq!(
        (&g["status"], &g["error_message"]),
        (&Value::from("pending"), &Value::Null)
    );

    w.stack.start_pollers(2);
    let out = run(user.moomoo(["groups", "watch", &id, "--json"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let g: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&g["status"], &g["completed_jobs"]),
        (&Value::from("completed"), &Value::from(2))
    );
    let out = run(user.moomoo(["export", &id, "--format", "ndjson"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ndjson = text(&out.stdout);
    let (from, to) = window();
    assert_eq!(
        ndjson.lines().count(),
        expected_rows(&["72030", "67580"], from, to, &w).len()
    );

    // Each failure: its exit code and the API's own words.
    let failure = |out: &Output| (out.status.code(), text(&out.stderr));
    let missing = uuid::Uuid::new_v4().to_string();
    let (code, err) = failure(&run(user.moomoo(["groups", "show", &missing])).await);
    assert_eq!(
        (code, err.trim()),
        (Some(4), "error: job group not found (HTTP 404)")
    );
    let (code, err) = failure(&run(user.moomoo(["fetch", "eq-nope", "--symbols", "72030"])).await);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("has no endpoint `eq-nope`: use one of"),
        "{err}"
    );
    let mut wrong_key = user.moomoo(["groups", "show", &id]);
    wrong_key.env("MOOMOO_API_KEY", "not-a-key");
    let (code, err) = failure(&run(wrong_key).await);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("missing or invalid API key"), "{err}");
    let mut nowhere = user.moomoo(["groups", "show", &id]);
    nowhere.env("MOOMOO_API_URL", "http://127.0.0.1:9");
    let (code, err) = failure(&run(nowhere).await);
    assert_eq!(code, Some(6), "{err}");
    assert!(
        err.contains("cannot reach the API at http://127.0.0.1:9"),
        "{err}"
    );
    let mut unconfigured = user.moomoo(["groups", "show", &id]);
    unconfigured
        .env_remove("MOOMOO_CONFIG")
        .env_remove("MOOMOO_API_KEY");
    let (code, err) = failure(&run(unconfigured).await);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no API URL: set MOOMOO_API_URL"), "{err}");

    // Credentials: without one a fetch is refused with what to do; set reads stdin.
    let out = run(user.moomoo(["credentials", "delete", "jquants-v2"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, err) = failure(&run(user.moomoo(fetch)).await);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("no credential stored for `jquants-v2`"),
        "{err}"
    );
    let set = user.moomoo([
        "credentials",
        "set",
        "jquants-v2",
        "--plan",
        "premium",
        "--verify",
    ]);
    let out = run_with_stdin(set, format!("{KEY}\n")).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(user.moomoo(["credentials", "show", "jquants-v2", "--json"])).await;
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(meta["plan"], "premium", "{meta}");
    assert!(!text(&out.stdout).contains(KEY), "the key never comes back");

    // J-Quants V1: the mail address on the command line, the password on stdin; verifying
    // signs in, and the tokens it got are stored.
    w.sandbox.add_v1_user(
        "cli-v1@example.com",
        "cli-v1-password",
        sandbox::Plan::Light,
    );
    let set = user.moomoo([
        "credentials",
        "set",
        "jquants-v1",
        "--mail-address",
        "cli-v1@example.com",
        "--plan",
        "light",
        "--verify",
    ]);
    let out = run_with_stdin(set, "cli-v1-password\n".to_owned()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(user.moomoo(["credentials", "show", "jquants-v1", "--json"])).await;
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (meta["refresh_token"].as_str(), meta["id_token"].as_str()),
        (Some("valid"), Some("valid")),
        "{meta}"
    );
    assert!(!text(&out.stdout).contains("cli-v1-password"));
}

/// `moomoo schedules …`, `moomoo keys …` and `moomoo groups jobs …` against the stack: each
/// change visible through the API, secrets printed once and never listed, refusals with the
/// API's words and their exit codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_keys_and_jobs_from_the_command_line() {
    let mut w = World::new(100, Default::default()).await;
    w.stack.start_pollers(1);
    let user = User::new(&w);
    let failure = |out: &Output| (out.status.code(), text(&out.stderr));
    let json_of = |out: &Output| -> Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("one JSON document")
    };

    // Jobs of a group, filtered and paged.
    let (from, to) = window();
    let g = w
        .user
        .expect(
            Method::POST,
            "/v1/job-groups",
            Some(&serde_json::json!({
                "data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                "symbols": ["72030", "67580"],
                "params": {"from": from.to_string(), "to": to.to_string()},
            })),
            202,
        )
        .await
        .unwrap();
    let group = g["id"].as_str().unwrap().to_owned();
    w.user
        .wait_for_group(&group, Duration::from_secs(120))
        .await
        .unwrap();
    let done = json_of(
        &run(user.moomoo(["--json", "groups", "jobs", &group, "--status", "completed"])).await,
    );
    let symbols: Vec<&str> = done["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["72030", "67580"], "{done}");
    let none = json_of(
        &run(user.moomoo(["--json", "groups", "jobs", &group, "--status", "failed"])).await,
    );
    assert_eq!(none["jobs"], serde_json::json!([]), "{none}");
    let out = run(user.moomoo(["groups", "jobs", &group, "--limit", "1"])).await;
    let listing = text(&out.stdout);
    assert!(
        out.status.success() && listing.contains("completed") && listing.contains("72030"),
        "{listing}"
    );
    assert!(
        listing.contains(&format!(
            "more: moomoo groups jobs {group} --cursor {group}.0"
        )),
        "{listing}"
    );
    let (code, err) =
        failure(&run(user.moomoo(["groups", "jobs", &group, "--status", "done"])).await);
    assert_eq!(code, Some(2), "{err}");

    // Schedules: create, list, disable, enable, update, show, delete.
    let created = json_of(
        &run(user.moomoo([
            "--json",
            "schedules",
            "create",
            "eq-bars-daily",
            "--name",
            "close",
            "--cron",
            "0 18 * * 1-5",
            "--symbols",
            "72030",
            "--window",
            "previous-trading-day",
        ]))
        .await,
    );
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&created["enabled"], &created["time_zone"]),
        (&Value::from(true), &Value::from("Asia/Tokyo"))
    );
    let listed = json_of(&run(user.moomoo(["--json", "schedules", "list"])).await);
    assert_eq!(listed["schedules"][0]["id"], id.as_str(), "{listed}");
    let off = json_of(&run(user.moomoo(["--json", "schedules", "disable", &id])).await);
    assert_eq!(
        (&off["enabled"], &off["next_fire_at"]),
        (&Value::from(false), &Value::Null)
    );
    let on = json_of(&run(user.moomoo(["--json", "schedules", "enable", &id])).await);
    assert_eq!(on["enabled"], true);
    let changed = json_of(
        &run(user.moomoo([
            "--json",
            "schedules",
            "update",
            &id,
            "--cron",
            "30 18 * * 1-5",
            "--window",
            "last-trading-days:3",
        ]))
        .await,
    );
    assert_eq!(
        (
            &changed["cron"],
            &changed["name"],
            &changed["template"]["window"],
            &changed["template"]["symbols"]
        ),
        (
            &Value::from("30 18 * * 1-5"),
            &Value::from("close"),
            &serde_json::json!({"kind": "last-trading-days", "days": 3}),
            &serde_json::json!(["72030"])
        ),
        "what the update does not name stays"
    );
    let out = run(user.moomoo(["schedules", "show", &id])).await;
    let shown = text(&out.stdout);
    assert!(
        shown.contains("30 18 * * 1-5 (Asia/Tokyo)") && shown.contains("last-trading-days:3"),
        "{shown}"
    );
    let out = run(user.moomoo(["schedules", "list"])).await;
    assert!(text(&out.stdout).contains(&id), "{}", text(&out.stdout));
    let (code, err) = failure(
        &run(user.moomoo([
            "schedules",
            "create",
            "eq-nope",
            "--name",
            "x",
            "--cron",
            "0 18 * * *",
            "--window",
            "previous-trading-day",
        ]))
        .await,
    );
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("has no endpoint `eq-nope`"), "{err}");
    let (code, err) = failure(
        &run(user.moomoo([
            "schedules",
            "create",
            "eq-bars-daily",
            "--name",
            "x",
            "--cron",
            "0 18 * * *",
            "--window",
            "yesterday",
        ]))
        .await,
    );
    assert_eq!(code, Some(2), "{err}");
    let out = run(user.moomoo(["schedules", "delete", &id])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, err) = failure(&run(user.moomoo(["schedules", "show", &id])).await);
    assert_eq!(
        (code, err.trim()),
        (Some(4), "error: schedule not found (HTTP 404)")
    );

    // Keys: create (secret once), use, rotate, revoke; the last one stays.
    let keys = json_of(&run(user.moomoo(["--json", "keys", "list"])).await);
    let first = keys["api_keys"][0]["id"].as_str().unwrap().to_owned();
    let out = run(user.moomoo(["keys", "create", "--name", "laptop"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let secret = printed
        .lines()
        .find(|l| l.starts_with("mmk_"))
        .unwrap_or_else(|| panic!("the secret is printed: {printed}"))
        .to_owned();
    assert!(text(&out.stderr).contains("shown once"));
    let as_laptop = |args: &[&str]| {
        let mut c = user.moomoo(args);
        c.env("MOOMOO_API_KEY", &secret);
        c
    };
    let keys = json_of(&run(as_laptop(&["--json", "keys", "list"])).await);
    let listed = keys["api_keys"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{keys}");
    assert!(!keys.to_string().contains(&secret), "never listed: {keys}");
    let laptop = listed[1]["id"].as_str().unwrap().to_owned();
    let rotated = json_of(&run(as_laptop(&["--json", "keys", "rotate", &laptop])).await);
    let (code, err) = failure(&run(as_laptop(&["keys", "list"])).await);
    assert_eq!(code, Some(3), "the old secret stops at once: {err}");
    let new_secret = rotated["api_key"].as_str().unwrap().to_owned();
    let new_id = rotated["id"].as_str().unwrap().to_owned();
    let as_new = |args: &[&str]| {
        let mut c = user.moomoo(args);
        c.env("MOOMOO_API_KEY", &new_secret);
        c
    };
    let out = run(as_new(&["keys", "revoke", &first])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, _) = failure(&run(user.moomoo(["keys", "list"])).await);
    assert_eq!(code, Some(3), "the revoked first key is refused");
    let (code, err) = failure(&run(as_new(&["keys", "revoke", &new_id])).await);
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("only active API key"), "{err}");
    let out = run(as_new(&["keys", "list"])).await;
    let listing = text(&out.stdout);
    assert!(
        listing.contains("laptop") && listing.matches("revoked ").count() == 2,
        "{listing}"
    );
}

/// `moomoo admin …` as an operator runs it: a second bootstrap is refused (409, exit 5) and the
/// old secret after a rotation too (401, exit 3); an administrator lists users, disables one
/// (their commands fail at once), enables them, revokes all their keys and issues a new one.
#[tokio::test]
async fn administration_from_the_command_line() {
    let w = World::new(100, Default::default()).await;
    let user = User::new(&w);
    let secret = w.stack.admin_secret().await.unwrap();
    let json_of = |out: &Output| -> Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("one JSON document")
    };
    let operator = |args: &[&str]| {
        let mut c = user.moomoo(args);
        c.env("MOOMOO_API_KEY", w.admin.key().unwrap());
        c
    };

    let mut boot = user.moomoo(["admin", "bootstrap", "--name", "ops"]);
    boot.env_remove("MOOMOO_API_KEY");
    let out = run(boot).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "no secret: {}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("MOOMOO_ADMIN_SECRET"));
    let mut boot = user.moomoo(["admin", "bootstrap", "--name", "ops"]);
    boot.env("MOOMOO_ADMIN_SECRET", &secret);
    let out = run(boot).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("bootstrapped already"));

    let users = json_of(&run(operator(&["--json", "admin", "users", "ls"])).await);
    let me = w
        .user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    let id = me["user_id"].as_str().unwrap().to_owned();
    assert!(
        users["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["user_id"] == me["user_id"]),
        "{users}"
    );
    let out = run(operator(&["admin", "users", "ls"])).await;
    assert!(
        text(&out.stdout).contains(&format!("{id}  user   enabled")),
        "{}",
        text(&out.stdout)
    );

    let (code, err) = {
        let out = run(user.moomoo(["admin", "users", "ls"])).await;
        (out.status.code(), text(&out.stderr))
    };
    assert_eq!(
        code,
        Some(3),
        "a user's key is not an administrator's: {err}"
    );

    let out = run(operator(&["admin", "users", "disable", &id])).await;
    assert!(
        text(&out.stdout).contains("disabled"),
        "{}",
        text(&out.stdout)
    );
    let out = run(user.moomoo(["keys", "list"])).await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "refused at once: {}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("disabled"));
    json_of(&run(operator(&["--json", "admin", "users", "enable", &id])).await);
    assert!(run(user.moomoo(["keys", "list"])).await.status.success());

    let revoked = json_of(&run(operator(&["--json", "admin", "users", "revoke-keys", &id])).await);
    assert_eq!(revoked["revoked"], 1);
    assert_eq!(
        run(user.moomoo(["keys", "list"])).await.status.code(),
        Some(3)
    );
    let out = run(operator(&["admin", "users", "issue-key", &id])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let issued = text(&out.stdout)
        .lines()
        .find(|l| l.starts_with("mmk_"))
        .expect("the key is printed")
        .to_owned();
    let mut back = user.moomoo(["keys", "list"]);
    back.env("MOOMOO_API_KEY", &issued);
    assert!(run(back).await.status.success());

    // After a rotation of the admin secret, the old one is refused.
    w.stack
        .aws
        .secrets
        .put_secret_value()
        .secret_id(&w.stack.api_config.admin_secret_id)
        .secret_string("rotated-admin-secret-0123456789")
        .send()
        .await
        .unwrap();
    let mut boot = user.moomoo(["admin", "bootstrap"]);
    boot.env("MOOMOO_ADMIN_SECRET", &secret);
    assert_eq!(run(boot).await.status.code(), Some(3));
}

/// Rows of an NDJSON file, in the file's order.
fn ndjson_rows(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Rows sorted by `Code`, then `Date`, as the DuckDB script sorts them.
fn by_code_and_date(mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by(|a, b| {
        (a["Code"].as_str(), a["Date"].as_str()).cmp(&(b["Code"].as_str(), b["Date"].as_str()))
    });
    rows
}

/// What `duckdb_sync.py` computes, computed here from rows the API returned: the count, and
/// the SHA-256 of `Date,Code,<bits of C>` lines sorted by Code then Date.
fn checksum(rows: &[Value]) -> (usize, String) {
    let lines: Vec<String> = by_code_and_date(rows.to_vec())
        .iter()
        .map(|r| {
            let c = r["C"]
                .as_f64()
                .map_or_else(|| "null".to_owned(), |c| format!("{:016x}", c.to_bits()));
            format!(
                "{},{},{c}",
                r["Date"].as_str().unwrap(),
                r["Code"].as_str().unwrap()
            )
        })
        .collect();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, lines.join("\n").as_bytes());
    let hex = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    (rows.len(), hex)
}

/// DuckDB (PyPI, from the test virtualenv) reads `dir` as an analyst would:
/// `read_parquet('dir/**/*.parquet', hive_partitioning = true)`.
async fn duckdb_reads(dir: &Path) -> Value {
    let mut cmd = Command::new(python());
    cmd.arg(here().join("tests/duckdb_sync.py")).arg(dir);
    let out = run(cmd).await;
    assert!(out.status.success(), "duckdb: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The columns DuckDB sees are typed as the issue asks: Date and Code first, dates as DATE,
/// codes as VARCHAR, prices as DOUBLE.
fn assert_typed_columns(read: &Value) {
    let columns: Vec<(&str, &str)> = read["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_str().unwrap(), c[1].as_str().unwrap()))
        .collect();
    assert_eq!(
        columns[..2],
        [("Date", "DATE"), ("Code", "VARCHAR")],
        "{columns:?}"
    );
    for (name, kind) in &columns {
        if [
            "O",
            "H",
            "L",
            "C",
            "AdjO",
            "AdjH",
            "AdjL",
            "AdjC",
            "AdjFactor",
        ]
        .contains(name)
        {
            assert_eq!(*kind, "DOUBLE", "{name}: {columns:?}");
        }
    }
    assert!(columns.iter().any(|c| c.0 == "AdjC"), "{columns:?}");
}

/// `moomoo data …` (#20): the second `data get` of the same rows asks the provider nothing;
/// `data sync` mirrors the holdings as Hive-partitioned Parquet that DuckDB reads back as
/// exactly the rows the API returned (count and checksum), typed; a second sync transfers
/// nothing, one more month rewrites only its year, and a deletion empties the mirror.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_get_twice_asks_the_provider_once_and_sync_feeds_duckdb() {
    let mut w = World::on_plan(100, Default::default(), &[], sandbox::Plan::Premium).await;
    w.stack.start_pollers(2);
    let user = User::new(&w);
    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .step_by(131)
        .take(3)
        .map(String::as_str)
        .collect();
    let codes = symbols.join(",");
    // Last year's: every month of it is over, whenever the test runs.
    let this_year = Utc::now().date_naive().year() - 1;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    // Across a new year, so the mirror has two partitions.
    let (from, to) = (day(this_year - 1, 11, 1), day(this_year, 1, 31));
    let get = |from: NaiveDate, to: NaiveDate, extra: &[&str]| {
        let mut words: Vec<String> = [
            "data",
            "get",
            "jquants-v2/eq-bars-daily",
            "--symbols",
            &codes,
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
        ]
        .map(str::to_owned)
        .to_vec();
        words.extend(extra.iter().map(|s| (*s).to_owned()));
        user.moomoo(words)
    };
    let requests = || w.sandbox.stats().requests(integration_tests::KEY);

    let before = requests();
    let out = run(get(
        from,
        to,
        &["--format", "ndjson", "--out", "first.ndjson"],
    ))
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(
        said.contains("fetching what you do not hold yet (3 pieces)"),
        "{said}"
    );
    let fetched = requests() - before;
    assert!(fetched >= 3, "one request a symbol at least: {fetched}");
    let first = ndjson_rows(&user.dir.join("first.ndjson"));
    let want: Vec<Map<String, Value>> = by_code_and_date(expected_rows(&symbols, from, to, &w))
        .iter()
        .map(normalized)
        .collect();
    let got: Vec<Map<String, Value>> = by_code_and_date(first.clone())
        .iter()
        .map(normalized)
        .collect();
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want, "exactly the provider's rows");
    let keys: Vec<&String> = first[0].as_object().unwrap().keys().collect();
    assert_eq!(keys[..2], ["Date", "Code"], "Date and Code first: {keys:?}");

    let before = requests();
    let out = run(get(
        from,
        to,
        &["--format", "ndjson", "--out", "second.ndjson"],
    ))
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        requests() - before,
        0,
        "the second read asks the provider nothing"
    );
    assert!(
        !text(&out.stderr).contains("fetching"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read(user.dir.join("second.ndjson")).unwrap(),
        std::fs::read(user.dir.join("first.ndjson")).unwrap()
    );

    // CSV on stdout, header first with Date and Code.
    let out = run(get(from, to, &[])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv_text = text(&out.stdout);
    assert!(
        csv_text.starts_with("Date,Code,"),
        "{}",
        &csv_text[..80.min(csv_text.len())]
    );
    assert_eq!(csv_text.lines().count(), first.len() + 1);

    // Parquet from `data get`, typed, read by DuckDB.
    let single = user.dir.join("single");
    std::fs::create_dir_all(&single).unwrap();
    let out = run(get(from, to, &["--out", "single/rows.parquet"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let read = duckdb_reads(&single).await;
    assert_typed_columns(&read);
    let (count, sum) = checksum(&first);
    assert_eq!(
        (read["count"].as_u64(), read["checksum"].as_str()),
        (Some(count as u64), Some(sum.as_str()))
    );

    // What is held.
    let out = run(user.moomoo(["--json", "data", "ls"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let held: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(held["holdings"].as_array().unwrap().len(), 3, "{held}");
    let out = run(user.moomoo(["data", "ls"])).await;
    let listing = text(&out.stdout);
    assert!(
        listing.starts_with("jquants-v2 eq-bars-daily: 3 symbols, ")
            && symbols.iter().all(|s| listing.contains(s))
            && listing.contains(&format!("{from}..")),
        "{listing}"
    );

    // The mirror: two years, read back by DuckDB as exactly the rows the API returned.
    let sync = || {
        user.moomoo([
            "--json",
            "data",
            "sync",
            "jquants-v2/eq-bars-daily",
            "--dir",
            "mirror",
        ])
    };
    let synced = |out: &Output| -> Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = requests();
    let report = synced(&run(sync()).await);
    assert_eq!(
        (&report["written"], &report["unchanged"], &report["removed"]),
        (&Value::from(2), &Value::from(0), &Value::from(0)),
        "{report}"
    );
    assert_eq!(requests() - before, 0, "a sync never asks the provider");
    let mirror = user.dir.join("mirror");
    for year in [this_year - 1, this_year] {
        let file = mirror.join(format!("dataset=eq-bars-daily/year={year}/part-0.parquet"));
        assert!(file.is_file(), "{}", file.display());
    }
    assert!(
        mirror
            .join(".moomoo-sync/jquants-v2__eq-bars-daily.json")
            .is_file()
    );
    let read = duckdb_reads(&mirror).await;
    assert_typed_columns(&read);
    assert_eq!(
        (read["count"].as_u64(), read["checksum"].as_str()),
        (Some(count as u64), Some(sum.as_str()))
    );

    let report = synced(&run(sync()).await);
    assert_eq!(
        (
            &report["written"],
            &report["unchanged"],
            &report["rows_transferred"]
        ),
        (&Value::from(0), &Value::from(2), &Value::from(0)),
        "nothing new, nothing travels: {report}"
    );

    // One more month: only its year is rewritten.
    let (march_1, march_31) = (day(this_year, 3, 1), day(this_year, 3, 31));
    let out = run(get(
        march_1,
        march_31,
        &["--format", "ndjson", "--out", "march.ndjson"],
    ))
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = synced(&run(sync()).await);
    let actions: Vec<(i64, &str)> = report["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["year"].as_i64().unwrap(), p["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            (i64::from(this_year) - 1, "unchanged"),
            (i64::from(this_year), "written")
        ],
        "{report}"
    );
    let mut all = first.clone();
    all.extend(ndjson_rows(&user.dir.join("march.ndjson")));
    let read = duckdb_reads(&mirror).await;
    let (count, sum) = checksum(&all);
    assert_eq!(
        (read["count"].as_u64(), read["checksum"].as_str()),
        (Some(count as u64), Some(sum.as_str()))
    );
    let out = run(user.moomoo([
        "data",
        "sync",
        "jquants-v2/eq-bars-daily",
        "--dir",
        "mirror",
    ]))
    .await;
    let said = text(&out.stdout);
    assert!(
        said.contains(&format!("year={this_year}  unchanged"))
            && said.contains("0 written, 2 unchanged, 0 removed; 0 rows transferred"),
        "{said}"
    );

    // Deleting the dataset empties the mirror at its next sync.
    let out = run(user.moomoo(["--json", "data", "rm", "jquants-v2/eq-bars-daily"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let deleted: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(deleted["holdings_changed"], 3, "{deleted}");
    let report = synced(&run(sync()).await);
    assert_eq!(
        (&report["written"], &report["removed"]),
        (&Value::from(0), &Value::from(2)),
        "{report}"
    );
    assert!(
        !mirror
            .join(format!("dataset=eq-bars-daily/year={this_year}"))
            .exists()
    );
}
