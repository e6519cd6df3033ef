//! The fetcher's peak memory while one job reads a 50,000-row multi-page response: the
//! sandbox runs as its own process (its memory is not ours), the stack's functions run in this
//! one, and the kernel's high-water mark (`VmHWM`, reset through `/proc/self/clear_refs`)
//! gives the peak resident set while the job runs.

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use devstack::client::{ApiClient, add_user, onboard_admin};
use devstack::stack::{Counters, LocalStack};
use reqwest::Method;
use serde_json::json;
use shared::domain::JobGroupId;
use shared::store::JobQueries;
use shared::store::dynamo::DynamoJobs;

fn status_kib(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Prints the table row; skipped when the release sandbox binary is missing.
pub(crate) async fn fifty_thousand_rows() -> anyhow::Result<()> {
    let exe = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/sandbox");
    if !exe.exists() {
        println!("(skipped: build the sandbox with `cargo build --release -p sandbox`)");
        return Ok(());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut sandbox = std::process::Command::new(exe)
        .args(["--port", &port.to_string(), "--key", "rss-key:light"])
        .args(["--page-size", "5000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}/v2");
    let http = reqwest::Client::new();
    let up = Instant::now();
    while http
        .get(format!("http://127.0.0.1:{port}/_sandbox/stats"))
        .send()
        .await
        .is_err()
    {
        anyhow::ensure!(
            up.elapsed() < Duration::from_secs(20),
            "sandbox did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let result = run(&base).await;
    let _ = sandbox.kill();
    let _ = sandbox.wait();
    result
}

async fn run(base: &str) -> anyhow::Result<()> {
    let mut stack =
        LocalStack::start(&integration_tests::unique("rss"), Counters::default()).await?;
    let api = ApiClient::new(&stack.api_url, None);
    let admin = onboard_admin(&api, &stack.admin_secret().await?, base).await?;
    let user = add_user(&api, &admin, "rss-key", "light").await?;
    let today = Utc::now().date_naive();
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-minute", "symbols": ["72030"],
        "params": {"from": (today - Days::new(250)).to_string(), "to": (today - Days::new(5)).to_string()}});
    let g = user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await?;
    let id = g["id"].as_str().unwrap_or_default().to_owned();
    let before = status_kib("VmRSS:").unwrap_or(0);
    // From here the high-water mark is this job's.
    std::fs::write("/proc/self/clear_refs", "5")?;
    stack.start_pollers(1);
    let t = Instant::now();
    let done = user.wait_for_group(&id, Duration::from_secs(1800)).await?;
    let peak = status_kib("VmHWM:").unwrap_or(0);
    let jobs = DynamoJobs::new(stack.aws.dynamodb.clone(), &stack.fetcher_config.jobs_table)
        .list_jobs(JobGroupId::parse(&id)?)
        .await?;
    let data = jobs.first().and_then(|j| j.response_data.clone());
    println!(
        "| eq-bars-minute, one issue, {} rows in {} pages ({}) | {:.1} MiB | {:.1} MiB | {:.0} s |",
        data.as_ref().map_or(0, |d| d.rows),
        data.as_ref().map_or(0, |d| d.pages),
        done["status"],
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
