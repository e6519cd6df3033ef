//! Parsing speed: a ~4,400-row V2 daily-bars page (fetched once from the sandbox, as a Premium
//! and as a Standard key gets it) read by our client, beside the official Python client turning
//! the same bytes into its DataFrame. Two figures of ours: into typed rows (`DailyBar`, the
//! issue's measure and the DataFrame's counterpart) and on into stored records (what the fetcher
//! does with every page). All offline; the three run in alternating rounds on one CPU (the
//! measuring thread is pinned and the official client's process inherits its CPU), so that load
//! on a shared machine falls on all of them alike and neither side gains from a quieter core.

use std::path::Path;
use std::time::Instant;

use chrono::{Days, Utc};
use shared::dataset::{DailyBar, DatasetKind, read_typed_page};

/// Rounds, and runs of each parser per round.
const ROUNDS: usize = 6;
const RUNS: usize = 10;

/// Prints the table rows: a Premium page (42 fields a row), then the same rows as Free, Light
/// and Standard keys get them (the first 16 fields; their plan windows hold fewer days).
pub(crate) async fn daily_bars_page() -> anyhow::Result<()> {
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig {
        keys: vec!["parse-key:premium".parse()?],
        page_size: 5000,
        today: None,
    })
    .await;
    let today = Utc::now().date_naive();
    let body = reqwest::Client::new()
        .get(format!("{}/equities/bars/daily", sandbox.base_url()))
        .header("x-api-key", "parse-key")
        .query(&[
            ("code", "72030".to_owned()),
            ("from", (today - Days::new(18 * 365)).to_string()),
            ("to", (today - Days::new(1)).to_string()),
        ])
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let standard = standard_form(&body)?;
    tokio::task::spawn_blocking(move || {
        pin_to_one_cpu();
        page("Premium", &body)?;
        page("Standard", &standard)
    })
    .await?
}

/// Keeps the calling thread, and the processes it starts, on one CPU (the last).
fn pin_to_one_cpu() {
    let last = core_affinity::get_core_ids().and_then(|ids| ids.last().copied());
    if !last.is_some_and(core_affinity::set_for_current) {
        eprintln!("parse bench: could not pin to one CPU; figures may be noisier");
    }
}

/// The page with each row cut before its Premium fields, which the sandbox (as J-Quants) sends
/// after the 16 every plan gets, from `MO` on.
fn standard_form(body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut rest = std::str::from_utf8(body)?;
    let mut out = String::with_capacity(rest.len());
    while let Some(i) = rest.find(r#","MO":"#) {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find('}')
            .ok_or_else(|| anyhow::anyhow!("a row without its end"))?;
        rest = &rest[i + end..];
    }
    out.push_str(rest);
    let page: serde_json::Value = serde_json::from_str(&out)?;
    let fields = page["data"][0].as_object().map_or(0, serde_json::Map::len);
    anyhow::ensure!(fields == 16, "a Standard row has 16 fields, not {fields}");
    Ok(out.into_bytes())
}

/// One page's rows of the table and its speed-up line.
fn page(plan: &str, body: &[u8]) -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let file = root.join(format!(
        "target/bench-daily-bars-{}.json",
        plan.to_lowercase()
    ));
    std::fs::write(&file, body)?;
    let python = root.join(".venv-bench/bin/python");
    let kind = DatasetKind::EqBarsDaily;
    let (mut typed, mut records, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rows, mut typed_rows, mut theirs_rows) = (0, 0, 0);
    for _ in 0..ROUNDS {
        for _ in 0..RUNS {
            let t = Instant::now();
            let (parsed, _) =
                read_typed_page::<DailyBar>(body, kind.data_key()).map_err(anyhow::Error::msg)?;
            typed.push(t.elapsed().as_secs_f64());
            typed_rows = parsed.map_or(0, |r| r.len());
        }
        for _ in 0..RUNS {
            let t = Instant::now();
            let parsed = kind.parse_page(body).map_err(anyhow::Error::msg)?;
            records.push(t.elapsed().as_secs_f64());
            rows = parsed.records.map_or(0, |r| r.len());
        }
        if python.exists() {
            let (n, times) = official(&python, &root, &file)?;
            theirs_rows = n;
            theirs.extend(times);
        }
    }
    let row = |name: &str, rows: usize, times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        let (best, median) = (times[0], times[times.len() / 2]);
        println!(
            "| {plan} | {name} | {rows} | {:.2} ms | {:.2} ms | {:.0} |",
            best * 1e3,
            median * 1e3,
            rows as f64 / median
        );
        (best, median)
    };
    let typed = row(
        "moomoo-markets: typed rows (`DailyBar`)",
        typed_rows,
        &mut typed,
    );
    let records = row(
        "moomoo-markets: typed rows, then stored records (the fetcher's work)",
        rows,
        &mut records,
    );
    if theirs.is_empty() {
        println!("| {plan} | official client (skipped: no .venv-bench) | | | | |");
        return Ok(());
    }
    let theirs = row(
        "official `jquants-api-client` 2.6.0 (`resp.json()` + DataFrame)",
        theirs_rows,
        &mut theirs,
    );
    println!(
        "| {plan} | speed-up, ours / official, median (best) | | typed rows {:.1}x ({:.1}x) \
         | with records {:.1}x ({:.1}x) | target >= 10x |",
        theirs.1 / typed.1,
        theirs.0 / typed.0,
        theirs.1 / records.1,
        theirs.0 / records.0,
    );
    Ok(())
}

/// One round of the official client: its rows and each run's seconds.
fn official(python: &Path, root: &Path, page: &Path) -> anyhow::Result<(usize, Vec<f64>)> {
    let mut command = std::process::Command::new(python);
    command
        .arg(root.join("infra/bench/official_parse.py"))
        .arg(page)
        .arg(RUNS.to_string());
    let out = command.output()?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        anyhow::anyhow!(
            "official client: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let times = report["times_s"]
        .as_array()
        .map(|t| t.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default();
    let rows = report["rows"].as_u64().unwrap_or(0) as usize;
    Ok((rows, times))
}
