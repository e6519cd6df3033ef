//! Rate-limit figures from the sandbox's own request log: fetcher instances on one account for
//! a few minutes of its budget, and the official Python client's range helper on the same kind
//! of account, side by side.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use devstack::stack::Counters;
use integration_tests::{KEY, World};
use reqwest::Method;
use serde_json::json;

/// One month the Free plan may read (its data ends 12 weeks back).
pub(crate) fn free_month() -> (NaiveDate, NaiveDate) {
    let today = Utc::now().date_naive();
    (today - Days::new(130), today - Days::new(100))
}

/// `fetchers` instances fetch `minutes` worth of the plan's budget (one request per job);
/// prints a table row.
pub(crate) async fn fetchers_on_one_account(
    plan: sandbox::Plan,
    minutes: u32,
    fetchers: usize,
) -> anyhow::Result<()> {
    let mut w = World::on_plan(1000, Counters::default(), &[], plan).await;
    anyhow::ensure!(w.sandbox.set_rate_limit(KEY, true), "sandbox key");
    w.stack.start_fetcher_instances(fetchers);
    let rate = plan.requests_per_minute();
    let t = Instant::now();
    let id = one_page_jobs(&w, (rate * minutes) as usize).await?;
    let done = w
        .user
        .wait_for_group(&id, Duration::from_secs(1800))
        .await?;
    let elapsed = t.elapsed().as_secs_f64();
    let s = w.sandbox.stats().keys[KEY].clone();
    let physical = s.requests as f64 * 60.0 / f64::from(rate);
    println!(
        "| {} ({rate}/min) | {fetchers} | {} completed, {} failed | {} | {} | {} | {elapsed:.0} s | {physical:.0} s | {:.2} |",
        plan.name(),
        done["completed_jobs"],
        done["failed_jobs"],
        s.requests,
        s.max_per_60s,
        s.too_many_requests,
        elapsed / physical
    );
    Ok(())
}

/// Creates a group of `jobs` one-page daily-bars jobs (a month the Free plan may read, one
/// issue each) for the world's user; its id.
pub(crate) async fn one_page_jobs(w: &World, jobs: usize) -> anyhow::Result<String> {
    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .take(jobs)
        .map(String::as_str)
        .collect();
    let (from, to) = free_month();
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"from": from.to_string(), "to": to.to_string()}});
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await?;
    Ok(g["id"].as_str().unwrap_or_default().to_owned())
}

/// Runs the official client's V2 daily-bars range helper (`.venv-bench`) against `sandbox`
/// with `key` over `from..=to`. `None` when the bench virtualenv is missing.
async fn official_range(
    sandbox: &sandbox::Sandbox,
    key: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<Option<(String, f64)>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv-bench/bin/python");
    if !python.exists() {
        return Ok(None);
    }
    let script = root.join("infra/bench/official_client.py");
    let args = [
        sandbox.base_url(),
        key.to_owned(),
        from.to_string(),
        to.to_string(),
    ];
    let t = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&python)
            .arg(script)
            .args(args)
            .output()
    })
    .await??;
    Ok(Some((
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        t.elapsed().as_secs_f64(),
    )))
}

/// The official `jquants-api-client` (PyPI, in the bench virtualenv) runs its V2 daily-bars
/// range helper over one month on a Free key against the sandbox with limits on. Prints what
/// the sandbox saw; skipped when the bench virtualenv is missing.
pub(crate) async fn official_client_on_free_key() -> anyhow::Result<()> {
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig {
        keys: vec!["official-free:free".parse()?],
        page_size: 5000,
        today: None,
    })
    .await;
    sandbox.set_rate_limit("official-free", true);
    let (from, to) = free_month();
    let Some((report, elapsed)) = official_range(&sandbox, "official-free", from, to).await? else {
        println!("(skipped: no .venv-bench; `make bench` creates it)");
        return Ok(());
    };
    let s = sandbox
        .stats()
        .keys
        .get("official-free")
        .cloned()
        .unwrap_or_default();
    println!(
        "| official `ClientV2.get_eq_bars_daily_range`, {from} to {to} | {} | {} | {} | {elapsed:.0} s | {report} |",
        s.requests, s.max_per_60s, s.too_many_requests,
    );
    Ok(())
}

/// Request economy for every issue over one month of daily bars: the official helper (one
/// request per calendar day) beside the system (the calendar, then one request per trading
/// day), each against its own sandbox with the same page size, on a Premium key.
pub(crate) async fn economy_all_issues_one_month() -> anyhow::Result<()> {
    let (from, to) = free_month();
    let official = sandbox::Sandbox::start(sandbox::SandboxConfig {
        keys: vec!["official-premium:premium".parse()?],
        page_size: 5000,
        today: None,
    })
    .await;
    let report = official_range(&official, "official-premium", from, to).await?;
    let official_requests = official.stats().requests("official-premium");

    let mut w = World::on_plan(5000, Counters::default(), &[], sandbox::Plan::Premium).await;
    w.stack.start_pollers(4);
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
        "params": {"from": from.to_string(), "to": to.to_string()}});
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await?;
    let id = g["id"].as_str().unwrap_or_default().to_owned();
    let done = w
        .user
        .wait_for_group(&id, Duration::from_secs(1800))
        .await?;
    let ours = w.sandbox.stats().requests(KEY);
    match report {
        Some((report, _)) => println!(
            "| official `get_eq_bars_daily_range` | {official_requests} | one per calendar day; {report} |"
        ),
        None => println!("| official (skipped: no .venv-bench) | | |"),
    }
    println!(
        "| moomoo-markets, split per trading day | {ours} | the calendar + {} trading days; group {} |",
        done["total_jobs"], done["status"]
    );
    if official_requests > 0 {
        println!(
            "\nrequest ratio system / official: {:.2} (target <= 0.70)",
            ours as f64 / official_requests as f64
        );
    }
    Ok(())
}
