//! Chaos on the emulator and the sandbox: 2,000 jobs while the provider answers 10 % 5xx,
//! 5 % timeouts and 2 % malformed bodies, 10 % of SQS messages are delivered twice, and the
//! fetcher is killed mid-batch a few times. Every job must end terminal, the counters must
//! equal the jobs counted by status, every completed job's rows must be stored exactly once,
//! and no job may be lost. Figures are printed. `CHAOS_JOBS` shrinks it for a quick local run.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use devstack::stack::Counters;
use integration_tests::{KEY, World, to_record};
use reqwest::Method;
use serde_json::json;
use shared::dataset::DatasetKind;
use shared::domain::{JobGroupId, JobStatus, UserId};
use shared::store::{RowScope, RowStore, dynamo::DynamoRows};

/// A tiny deterministic generator, so a failing run can be repeated.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Default)]
struct Figures {
    batches: AtomicU64,
    duplicates_sent: AtomicU64,
    kills: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "minutes on moto: run with `make chaos` (CHAOS_JOBS=n for a smaller run)"]
async fn chaos_leaves_every_job_terminal_and_every_count_exact() {
    let jobs: usize = std::env::var("CHAOS_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let w = Arc::new(
        World::on_plan(
            1000,
            Counters::default(),
            &[("PROVIDER_TIMEOUT_SECS", "2")],
            sandbox::Plan::Premium,
        )
        .await,
    );
    w.sandbox.set_faults(
        KEY,
        sandbox::FaultSpec {
            error_rate: 0.10,
            timeout_rate: 0.05,
            malformed_rate: 0.02,
            timeout_ms: 3000,
            seed: Some(20261126),
            ..Default::default()
        },
    );
    let symbols: Vec<String> = sandbox::issue_codes().iter().take(jobs).cloned().collect();
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today - chrono::Days::new(60), today - chrono::Days::new(53));
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"from": from.to_string(), "to": to.to_string()}});
    let started = Instant::now();
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    let id = JobGroupId::parse(g["id"].as_str().unwrap()).unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let figures = Arc::new(Figures::default());
    let duplicated = Arc::new(tokio::sync::Mutex::new(HashSet::new()));
    let mut workers = Vec::new();
    for seed in 0..3u64 {
        let (w, done, figures, duplicated) =
            (w.clone(), done.clone(), figures.clone(), duplicated.clone());
        workers.push(tokio::spawn(async move {
            let mut rng = Lcg(seed * 7919 + 17);
            let sqs = w.stack.aws.sqs.clone();
            let q = w.stack.fetcher_config.jobs_queue_url.clone();
            while !done.load(Ordering::Relaxed) {
                let out = sqs
                    .receive_message()
                    .queue_url(&q)
                    .max_number_of_messages(10)
                    .message_system_attribute_names(MessageSystemAttributeName::All)
                    .wait_time_seconds(1)
                    .send()
                    .await
                    .unwrap();
                let records: Vec<_> = out
                    .messages
                    .unwrap_or_default()
                    .into_iter()
                    .map(to_record)
                    .collect();
                if records.is_empty() {
                    continue;
                }
                figures.batches.fetch_add(1, Ordering::Relaxed);
                for r in &records {
                    let body = r.body.clone().unwrap_or_default();
                    if body.contains("job_id")
                        && rng.next() < 0.10
                        && duplicated.lock().await.insert(body.clone())
                    {
                        sqs.send_message()
                            .queue_url(&q)
                            .message_body(body)
                            .send()
                            .await
                            .unwrap();
                        figures.duplicates_sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let batch_no = figures.batches.load(Ordering::Relaxed);
                if figures.kills.load(Ordering::Relaxed) < 5 && batch_no % 12 == 5 {
                    // The fetcher dies mid-batch: nothing of it is acknowledged, and its messages
                    // come back when their visibility timeout ends (brought forward here: moto's
                    // clock is the wall clock and the template's timeout is six minutes).
                    let (deps, recs) = (w.stack.fetcher.clone(), records.clone());
                    let task =
                        tokio::spawn(async move { fetcher::handle_records(recs, &deps).await });
                    tokio::time::sleep(Duration::from_millis((rng.next() * 400.0) as u64)).await;
                    task.abort();
                    figures.kills.fetch_add(1, Ordering::Relaxed);
                    for r in &records {
                        let _ = sqs
                            .change_message_visibility()
                            .queue_url(&q)
                            .receipt_handle(r.receipt_handle.clone().unwrap())
                            .visibility_timeout(0)
                            .send()
                            .await;
                    }
                    continue;
                }
                let resp = fetcher::handle_records(records.clone(), &w.stack.fetcher)
                    .await
                    .unwrap();
                let failed: HashSet<_> = resp
                    .batch_item_failures
                    .iter()
                    .map(|f| f.item_identifier.clone())
                    .collect();
                for r in records
                    .iter()
                    .filter(|r| !failed.contains(r.message_id.as_ref().unwrap()))
                {
                    sqs.delete_message()
                        .queue_url(&q)
                        .receipt_handle(r.receipt_handle.clone().unwrap())
                        .send()
                        .await
                        .unwrap();
                }
            }
        }));
    }
    let group = loop {
        let g = w
            .user
            .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
            .await
            .unwrap();
        let (c, f, t) = (
            g["completed_jobs"].as_u64().unwrap(),
            g["failed_jobs"].as_u64().unwrap(),
            g["total_jobs"].as_u64().unwrap(),
        );
        assert!(c + f <= t, "counters never pass the total: {g}");
        if matches!(g["status"].as_str(), Some("completed" | "failed")) {
            break g;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "the group did not end: {g}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    done.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }

    let listed = w.stack.fetcher.jobs.list_jobs(id).await.unwrap();
    let count = |s: JobStatus| listed.iter().filter(|j| j.status == s).count() as u64;
    let (completed, failed) = (count(JobStatus::Completed), count(JobStatus::Failed));
    let retries: u64 = listed.iter().map(|j| u64::from(j.retry_count)).sum();
    let stats = w.sandbox.stats();
    println!(
        "chaos: {jobs} jobs in {:.0}s; group {}; completed {completed}, failed {failed}; job retries {retries}; \
        {} batches, {} duplicated messages, {} fetcher kills; {} provider requests",
        started.elapsed().as_secs_f64(),
        group["status"],
        figures.batches.load(Ordering::Relaxed),
        figures.duplicates_sent.load(Ordering::Relaxed),
        figures.kills.load(Ordering::Relaxed),
        stats.requests(KEY)
    );
    assert_eq!(listed.len(), jobs, "no job lost or added");
    assert!(
        listed
            .iter()
            .enumerate()
            .all(|(i, j)| j.id.index() == i as u32),
        "no gap in job ids"
    );
    assert_eq!(completed + failed, jobs as u64, "every job terminal");
    assert_eq!(
        (
            group["completed_jobs"].as_u64(),
            group["failed_jobs"].as_u64()
        ),
        (Some(completed), Some(failed)),
        "counters equal the jobs by status"
    );
    assert!(
        figures.duplicates_sent.load(Ordering::Relaxed) > 0
            && figures.kills.load(Ordering::Relaxed) > 0,
        "the chaos happened"
    );
    assert!(retries > 0, "faults forced retries");

    let me = w
        .user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    let scope = RowScope {
        user_id: UserId::parse(me["user_id"].as_str().unwrap()).unwrap(),
        dataset: DatasetKind::EqBarsDaily,
    };
    let rows = DynamoRows::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.fetcher_config.market_data_table,
    );
    let expected_days = sandbox::trading_days(from, to).count();
    for j in listed.iter().filter(|j| j.status == JobStatus::Completed) {
        let code = j.symbol.as_ref().unwrap().as_str();
        let stored = rows
            .query_rows(scope, code, Some(&from.to_string()), Some(&to.to_string()))
            .await
            .unwrap();
        let dates: HashSet<_> = stored.iter().map(|r| r.sort.clone()).collect();
        assert_eq!(dates.len(), stored.len(), "no duplicate rows for {code}");
        let want = (from.iter_days().take_while(|d| *d <= to))
            .filter_map(|d| sandbox::daily_bar(code, d, w.plan))
            .count();
        assert_eq!(stored.len(), want, "rows of {code}");
        assert!(want <= expected_days);
        assert_eq!(
            j.response_data.as_ref().unwrap().rows as usize,
            want,
            "response_data of {code}"
        );
    }
}
