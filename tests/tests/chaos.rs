//! Chaos on the emulator and the sandbox: 2,000 jobs while the provider answers 10 % 5xx,
//! 5 % timeouts and 2 % malformed bodies, and 10 % of job messages are delivered twice. Twice
//! over: in-process, the handler aborted mid-batch a few times; and as production runs it, the
//! real `fetcher` binary on the Lambda-shaped runtime fed by the SQS mapping, with a 10-second
//! `Timeout` and provider hangs longer than the time the fetcher keeps in hand, so invocations
//! are killed at their deadline mid-page. Every job must end terminal, a job may fail only by
//! running out of attempts (a delivery killed mid-page counts as one; the count printed beside
//! what the fault rates predict), the counters must equal the jobs counted by status, every
//! completed job's rows must be stored exactly once, and no job may be lost. `CHAOS_JOBS`
//! shrinks it for a quick local run.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use devstack::runtime::deployed::Options;
use devstack::stack::Counters;
use integration_tests::{KEY, World, to_record};
use reqwest::Method;
use serde_json::json;

use shared::domain::{JobGroupId, JobStatus};
use shared::queue::JobMessage;

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

/// The faults every chaos run gets, and the chance that one attempt of a page fails by them.
const FAULTS: sandbox::FaultSpec = sandbox::FaultSpec {
    error_rate: 0.10,
    timeout_rate: 0.05,
    malformed_rate: 0.02,
    latency_ms: 0,
    burst_429: 0,
    seed: Some(20261126),
    timeout_ms: 3000,
    hostile: None,
};

/// `MAX_ATTEMPTS` in the template.
const MAX_ATTEMPTS: u32 = 5;

fn chaos_jobs() -> usize {
    std::env::var("CHAOS_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// A group of one job per issue, one page each, eight days back two months.
async fn create_group(
    w: &World,
    jobs: usize,
) -> (JobGroupId, chrono::NaiveDate, chrono::NaiveDate) {
    let symbols: Vec<String> = sandbox::issue_codes().iter().take(jobs).cloned().collect();
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today - chrono::Days::new(60), today - chrono::Days::new(53));
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"from": from.to_string(), "to": to.to_string()}});
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    (
        JobGroupId::parse(g["id"].as_str().unwrap()).unwrap(),
        from,
        to,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "minutes on moto: run with `make chaos` (CHAOS_JOBS=n for a smaller run)"]
async fn chaos_leaves_every_job_terminal_and_every_count_exact() {
    let jobs = chaos_jobs();
    let w = Arc::new(
        World::on_plan(
            1000,
            Counters::default(),
            &[("PROVIDER_TIMEOUT_SECS", "2")],
            sandbox::Plan::Premium,
        )
        .await,
    );
    w.sandbox.set_faults(KEY, FAULTS);
    let started = Instant::now();
    let (id, from, to) = create_group(&w, jobs).await;
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
    let group = wait_until_ended(&w, id, started).await;
    done.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let tally = verify(&w, id, jobs, &group, from, to).await;
    println!(
        "chaos in-process: {jobs} jobs in {:.0}s; {tally}; {} batches, {} duplicated messages, \
        {} fetcher kills; {} provider requests",
        started.elapsed().as_secs_f64(),
        figures.batches.load(Ordering::Relaxed),
        figures.duplicates_sent.load(Ordering::Relaxed),
        figures.kills.load(Ordering::Relaxed),
        w.sandbox.stats().requests(KEY)
    );
    assert!(
        figures.duplicates_sent.load(Ordering::Relaxed) > 0
            && figures.kills.load(Ordering::Relaxed) > 0,
        "the chaos happened"
    );
}

/// The same chaos as production runs it: the real `fetcher` binary on the Lambda-shaped
/// runtime, its batches fed by the SQS mapping (five at a time, the template's), its `Timeout`
/// cut to 10 s with the template's 20 s provider timeout, and the provider hanging 8 s before
/// its timeouts: a page that hangs late in an invocation is killed with it at the deadline
/// (Lambda's way: the process is gone, its batch comes back after the visibility timeout, its
/// job's lease lapses). Duplicates are sent as SQS's at-least-once delivery makes them: a
/// second copy of a job message already sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "minutes on moto: run with `make chaos` (CHAOS_JOBS=n for a smaller run)"]
async fn chaos_on_the_lambda_runtime_with_deadline_kills() {
    let jobs = chaos_jobs();
    let w = Arc::new(
        World::deployed(
            1000,
            sandbox::Plan::Premium,
            Options {
                fetcher_timeout: Some(Duration::from_secs(10)),
                ..Options::default()
            },
        )
        .await,
    );
    let q = w.stack.fetcher_config.jobs_queue_url.clone();
    // Six times the function's timeout, as AWS advises for an SQS-triggered function (the
    // template's 360 s is six times its 60 s): a killed batch is back after a minute.
    w.stack
        .aws
        .sqs
        .set_queue_attributes()
        .queue_url(&q)
        .attributes(QueueAttributeName::VisibilityTimeout, "60")
        .send()
        .await
        .unwrap();
    // Hangs longer than the 5 s the fetcher keeps before a 10 s deadline (half the
    // invocation): a page that starts hanging after the first 2 s is killed mid-page.
    w.sandbox.set_faults(
        KEY,
        sandbox::FaultSpec {
            timeout_ms: 8000,
            ..FAULTS
        },
    );
    let started = Instant::now();
    let (id, from, to) = create_group(&w, jobs).await;
    let done = Arc::new(AtomicBool::new(false));
    let duplicator = {
        let (w, done, q) = (w.clone(), done.clone(), q.clone());
        tokio::spawn(async move {
            let mut rng = Lcg(7919);
            let (mut seen, mut sent) = (HashSet::new(), 0u64);
            // Until every job has been seen (then the group is only being worked through).
            while !done.load(Ordering::Relaxed) && seen.len() < jobs {
                // A job the fan-out has written has had its message sent: a copy of it is a
                // duplicate delivery, decided once per job.
                for j in w.stack.fetcher.ports.jobs.list_jobs(id).await.unwrap() {
                    if seen.insert(j.id) && rng.next() < 0.10 {
                        let body = serde_json::to_string(&JobMessage {
                            job_group_id: id,
                            job_id: j.id,
                        })
                        .unwrap();
                        w.stack
                            .aws
                            .sqs
                            .send_message()
                            .queue_url(&q)
                            .message_body(body)
                            .send()
                            .await
                            .unwrap();
                        sent += 1;
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            sent
        })
    };
    let group = wait_until_ended(&w, id, started).await;
    done.store(true, Ordering::Relaxed);
    let duplicates = duplicator.await.unwrap();
    let tally = verify(&w, id, jobs, &group, from, to).await;
    let d = w.deployed.as_ref().unwrap();
    let (invocations, kills) = (
        d.fetcher.stats.invocations.load(Ordering::Relaxed),
        d.fetcher.stats.timeouts.load(Ordering::Relaxed),
    );
    println!(
        "chaos on the Lambda runtime: {jobs} jobs in {:.0}s; {tally}; {invocations} fetcher \
        invocations, {kills} killed at their deadline, {} cold starts, peak {} MB; \
        {duplicates} duplicated messages; {} provider requests",
        started.elapsed().as_secs_f64(),
        d.fetcher.stats.cold_starts.load(Ordering::Relaxed),
        d.fetcher.stats.max_memory_mb.load(Ordering::Relaxed),
        w.sandbox.stats().requests(KEY)
    );
    assert!(kills > 0, "no invocation was killed at its deadline");
    assert!(duplicates > 0, "no message was duplicated");
}

/// Polls the group until it ends, checking on the way that its counters never pass its total.
async fn wait_until_ended(w: &World, id: JobGroupId, started: Instant) -> serde_json::Value {
    loop {
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
            return g;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "the group did not end: {g}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// What a chaos run ended with.
struct Tally {
    completed: u64,
    failed: u64,
    retries: u64,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let attempts = self.completed + self.failed + self.retries;
        // Every retry and every failure is a failed attempt of the job's one page.
        let observed = (self.retries + self.failed) as f64 / attempts as f64;
        let jobs = (self.completed + self.failed) as f64;
        let p = FAULTS.error_rate + FAULTS.timeout_rate + FAULTS.malformed_rate;
        write!(
            f,
            "completed {}, failed {} (a page failing all {MAX_ATTEMPTS} attempts: {:.2} expected \
            from the fault rates ({p:.2} an attempt), {:.2} from the {:.3} of attempts that \
            failed here); job retries {}",
            self.completed,
            self.failed,
            jobs * p.powi(MAX_ATTEMPTS as i32),
            jobs * observed.powi(MAX_ATTEMPTS as i32),
            observed,
            self.retries
        )
    }
}

/// Every job terminal and none lost, counters equal to the jobs by status, a failure only
/// after every attempt, every completed job's rows stored exactly once.
async fn verify(
    w: &World,
    id: JobGroupId,
    jobs: usize,
    group: &serde_json::Value,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Tally {
    let listed = w.stack.fetcher.ports.jobs.list_jobs(id).await.unwrap();
    let count = |s: JobStatus| listed.iter().filter(|j| j.status == s).count() as u64;
    let (completed, failed) = (count(JobStatus::Completed), count(JobStatus::Failed));
    let retries: u64 = listed.iter().map(|j| u64::from(j.retry_count)).sum();
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
    assert!(retries > 0, "faults forced retries");
    // A job's attempts are its deliveries (Lambda's receive count) or its recorded failed
    // attempts plus this one, whichever is more: a delivery killed mid-page (at the deadline,
    // or the handler aborted) records no failure, and still counts, as it does towards the
    // queue's maxReceiveCount. A failure must come at the last attempt by that count.
    let last = format!("(gave up after {MAX_ATTEMPTS} attempts)");
    for j in listed.iter().filter(|j| j.status == JobStatus::Failed) {
        let message = j.error_message.as_deref().unwrap_or_default();
        assert!(
            j.retry_count < MAX_ATTEMPTS && message.ends_with(&last),
            "job {} failed before its last attempt: retries {}, {message:?}",
            j.id.index(),
            j.retry_count
        );
    }
    let me = w
        .user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    assert!(me["user_id"].is_string());
    let rows = integration_tests::group_rows(&w.stack, &id.to_string()).await;
    let expected_days = sandbox::trading_days(from, to).count();
    for j in listed.iter().filter(|j| j.status == JobStatus::Completed) {
        let code = j.symbol.as_ref().unwrap().as_str();
        let stored: Vec<_> = rows
            .iter()
            .filter(|(s, _)| s.as_deref() == Some(code))
            .map(|(_, r)| r)
            .collect();
        let dates: HashSet<_> = stored
            .iter()
            .map(|r| r["Date"].clone().to_string())
            .collect();
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
    Tally {
        completed,
        failed,
        retries,
    }
}
