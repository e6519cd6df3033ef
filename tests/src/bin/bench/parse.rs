//! Parsing speed: one ~4,400-row V2 daily-bars page (fetched once from the sandbox) turned
//! into typed rows and stored records by our client's parser, beside the official Python
//! client turning the same bytes into its DataFrame. Both offline, both best and median of
//! repeated runs.

use std::time::Instant;

use chrono::{Days, Utc};
use shared::dataset::DatasetKind;

const REPEATS: usize = 30;

/// Prints the table rows.
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
        .bytes()
        .await?;
    let mut times = Vec::with_capacity(REPEATS);
    let mut rows = 0;
    for _ in 0..REPEATS {
        let t = Instant::now();
        let page = DatasetKind::EqBarsDaily
            .parse_page(&body)
            .map_err(anyhow::Error::msg)?;
        times.push(t.elapsed().as_secs_f64());
        rows = page.records.map_or(0, |r| r.len());
    }
    times.sort_by(f64::total_cmp);
    let (best, median) = (times[0], times[REPEATS / 2]);
    println!(
        "| moomoo-markets (serde into typed rows, then records) | {rows} | {:.2} ms | {:.2} ms | {:.0} |",
        best * 1e3,
        median * 1e3,
        rows as f64 / median
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv-bench/bin/python");
    if !python.exists() {
        println!("| official client (skipped: no .venv-bench) | | | | |");
        return Ok(());
    }
    let page = root.join("target/bench-daily-bars-page.json");
    std::fs::write(&page, &body)?;
    let script = root.join("infra/bench/official_parse.py");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(page)
            .arg(REPEATS.to_string())
            .output()
    })
    .await??;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        anyhow::anyhow!(
            "official client: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let (theirs_rows, theirs_best, theirs_median) = (
        report["rows"].as_u64().unwrap_or(0),
        report["best_s"].as_f64().unwrap_or(f64::NAN),
        report["median_s"].as_f64().unwrap_or(f64::NAN),
    );
    println!(
        "| official `jquants-api-client` 2.6.0 (`resp.json()` + DataFrame) | {theirs_rows} | {:.2} ms | {:.2} ms | {:.0} |",
        theirs_best * 1e3,
        theirs_median * 1e3,
        theirs_rows as f64 / theirs_median
    );
    println!(
        "\nspeed-up, median rows/s ours / official: {:.1}x (target >= 10x)",
        theirs_median / median
    );
    Ok(())
}
