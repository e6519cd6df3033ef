//! `make bench`: figures, not assertions. AWS calls per job for a 1,000-job group (fan-out and
//! processing, counted by an SDK interceptor on each function's clients), rate-limit runs read
//! off the sandbox's request log (and the official Python client beside them), and the
//! stripped release binary size of each function.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod adaptive;
mod data;
mod fair;
mod init;
mod parse;
mod rate;
mod rss;

use std::time::{Duration, Instant};

use devstack::stack::Counters;
use integration_tests::World;
use reqwest::Method;
use serde_json::json;
use shared::aws::CallCounter;

const JOBS: usize = 1000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init_with_default("error");
    // BENCH_ONLY=calls,rate,adaptive,fair,economy,data,rss,parse,sizes,init runs some sections; all by default.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let wants = |s: &str| only.is_empty() || only.split(',').any(|o| o == s);
    // First: the fetcher's peak is this process's, and the sections after it leave their
    // stacks resident (2 GB of this process after `data`, which a later peak would include).
    if wants("rss") {
        memory().await?;
    }
    if wants("calls") {
        calls_per_job().await?;
    }
    if wants("rate") {
        rate_limits().await?;
    }
    if wants("adaptive") {
        adaptive_limits().await?;
    }
    if wants("fair") {
        println!(
            "\n## Fair shares of the Yahoo budget (60/min): one user with 500 one-request jobs, two with 10 each asking 75 s later"
        );
        println!(
            "| mode | small user A | small user B | fair-share bound (10 x 3 / 60 a minute) | worse / bound |"
        );
        println!("|---|---|---|---|---|");
        fair::scenario(true).await?;
        fair::scenario(false).await?;
    }
    if wants("economy") {
        economy().await?;
    }
    if wants("data") {
        Box::pin(data::section()).await?;
    }
    if wants("parse") {
        println!("\n## Parsing one V2 daily-bars page (one issue, ~18 years), offline");
        println!("| page | parser | rows | best | median | rows/s (median) |");
        println!("|---|---|---|---|---|---|");
        parse::daily_bars_page().await?;
    }
    if wants("sizes") {
        sizes();
    }
    if wants("init") {
        init::section().await?;
    }
    Ok(())
}

/// AWS calls per job for a 1,000-job group.
async fn calls_per_job() -> anyhow::Result<()> {
    let (api, fetcher) = (CallCounter::default(), CallCounter::default());
    let counters = Counters {
        api: Some(api.clone()),
        fetcher: Some(fetcher.clone()),
    };
    let mut w = World::on_plan(1000, counters, &[], sandbox::Plan::Premium).await;
    api.reset();

    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .take(JOBS)
        .map(String::as_str)
        .collect();
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today - chrono::Days::new(75), today - chrono::Days::new(44));
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"from": from.to_string(), "to": to.to_string()}});
    let t = Instant::now();
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await?;
    let fanout = t.elapsed();
    // The create call alone: the progress polls below go through the same API counter.
    let create_calls = api.snapshot();
    let id = g["id"].as_str().unwrap_or_default().to_owned();

    w.stack.start_pollers(4);
    let t = Instant::now();
    let done = w
        .user
        .wait_for_group(&id, Duration::from_secs(1800))
        .await?;
    let processing = t.elapsed();
    anyhow::ensure!(done["completed_jobs"] == JOBS, "group ended as {done}");

    println!("## AWS calls per job, {JOBS}-job group (eq-bars-daily, one page per job)");
    println!("| phase | calls | per job | wall time (moto, informative) |");
    println!("|---|---|---|---|");
    let per = |n: u64| n as f64 / JOBS as f64;
    println!(
        "| create call (POST /v1/job-groups) | {} | {:.3} | {:.1}s |",
        create_calls.values().sum::<u64>(),
        per(create_calls.values().sum::<u64>()),
        fanout.as_secs_f64()
    );
    println!(
        "| fan-out and processing (fetcher) | {} | {:.3} | {:.1}s |",
        fetcher.total(),
        per(fetcher.total()),
        processing.as_secs_f64()
    );
    println!("\nby operation:");
    let create_total = create_calls.values().sum::<u64>();
    for (phase, calls) in [("create", create_calls), ("fetcher", fetcher.snapshot())] {
        for (op, n) in calls {
            println!("  {phase:8} {op:40} {n:6}  ({:.3}/job)", per(n));
        }
    }
    // The limiter's reads and writes follow the clock (how many permits each read grants);
    // the job engine's calls are fixed per batch and per completed job (pinned in
    // tests/tests/calls.rs), and how the 1,000 jobs fall into batches follows the timing too.
    let limiter = fetcher
        .by_table()
        .get(&w.stack.fetcher_config.rate_limits_table)
        .copied()
        .unwrap_or(0);
    let engine = create_total + fetcher.total() - limiter;
    println!("\nDynamoDB single-table calls by table (fetcher):");
    for (table, n) in fetcher.by_table() {
        println!("  {table:40} {n:6}  ({:.3}/job)", per(n));
    }
    println!(
        "\n## AWS calls per job, split: job engine {engine} ({:.3}/job), rate limiter {limiter} ({:.3}/job)",
        per(engine),
        per(limiter)
    );
    let kms: u64 = fetcher
        .snapshot()
        .iter()
        .filter(|(op, _)| op.to_lowercase().starts_with("kms."))
        .map(|(_, n)| n)
        .sum();
    println!(
        "\n## KMS calls by the fetcher for {JOBS} jobs of one user (steady state target <= 2): {kms}"
    );
    drop(w);
    Ok(())
}

/// Fetcher instances on one account, beside the official client.
async fn rate_limits() -> anyhow::Result<()> {
    println!("\n## Rate limits: 8 fetcher instances on one account, from the sandbox's log");
    println!(
        "| plan | fetchers | jobs | requests | busiest 60 s | 429s | completion | requests / rate | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    rate::fetchers_on_one_account(sandbox::Plan::Free, 5, 8).await?;
    rate::fetchers_on_one_account(sandbox::Plan::Light, 3, 8).await?;
    println!("\n## The official client on a Free key (5/min), one month, same sandbox limits");
    println!("| run | requests | busiest 60 s | 429s | wall | outcome |");
    println!("|---|---|---|---|---|---|");
    rate::official_client_on_free_key().await?;
    Ok(())
}

/// Keys whose real limit is not the declared plan's (issue #17).
async fn adaptive_limits() -> anyhow::Result<()> {
    use adaptive::Key;
    println!(
        "\n## adaptive: 8 fetcher instances on a key whose real limit is not the declared one"
    );
    println!(
        "| scenario | jobs | requests | 429s | busiest 60 s attempts | lockouts | completion | physical | ratio | learned / declared per minute |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let (free, light) = (sandbox::Plan::Free, sandbox::Plan::Light);
    adaptive::scenario(
        "Free key declared Light, 20 jobs",
        light,
        Key::Limit(5),
        20,
        240.0,
    )
    .await?;
    adaptive::scenario(
        "Light key, outside consumer 30/min, 180 jobs",
        light,
        Key::Outside(30),
        180,
        360.0,
    )
    .await?;
    adaptive::scenario(
        "Light key dropping to 30/min after 60 s, 180 jobs",
        light,
        Key::DropsTo(30, Duration::from_secs(60)),
        180,
        // The first minute at 60, the other 120 requests at 30 a minute.
        300.0,
    )
    .await?;
    adaptive::scenario(
        "Free key declared Free, 25 jobs",
        free,
        Key::Limit(5),
        25,
        300.0,
    )
    .await?;
    adaptive::scenario(
        "Light key declared Light, 180 jobs",
        light,
        Key::Limit(60),
        180,
        180.0,
    )
    .await?;
    Ok(())
}

/// Requests for every issue over a month, beside the official client.
async fn economy() -> anyhow::Result<()> {
    println!(
        "\n## Request economy: every issue, one month of daily bars, {} to {}",
        rate::free_month().0,
        rate::free_month().1
    );
    println!("| client | requests | how |");
    println!("|---|---|---|");
    rate::economy_all_issues_one_month().await?;

    Ok(())
}

/// Peak memory of one 50,000-row job.
async fn memory() -> anyhow::Result<()> {
    println!("\n## Fetcher memory: one job, a 50,000-row multi-page response (target <= 64 MiB)");
    println!("| job | RSS before | peak RSS while it ran | wall |");
    println!("|---|---|---|---|");
    rss::fifty_thousand_rows().await?;

    Ok(())
}

/// Release binary sizes.
fn sizes() {
    println!("\n## Function binaries (release, stripped)");
    println!("| function | bytes | MiB |");
    println!("|---|---|---|");
    for f in ["api", "fetcher", "scheduler"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/release")
            .join(f);
        match std::fs::metadata(&path) {
            Ok(m) => println!("| {f} | {} | {:.2} |", m.len(), m.len() as f64 / 1048576.0),
            Err(_) => println!("| {f} | not built (run `cargo build --release -p {f}`) | |"),
        }
    }
}
