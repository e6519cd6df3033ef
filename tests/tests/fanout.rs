//! Fan-out at scale: a 10,000-symbol group is accepted with a constant number of AWS calls,
//! and the fan-out then writes exactly 10,000 jobs and sends exactly 10,000 job messages.
//! moto's SQS slows sharply with queue depth, so at 10,000 the messages are counted at the
//! queue port (the fan-out logic and its DynamoDB writes are the real ones); the SQS path with
//! the real fetcher handler is exercised end to end at 1,200 jobs, drained while it fills.

use std::collections::HashSet;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use devstack::stack::Counters;
use integration_tests::{World, to_record};
use reqwest::Method;
use serde_json::json;
use shared::aws::CallCounter;
use shared::domain::JobGroupId;
use shared::queue::{JobMessage, MemoryJobQueue, QueueMessage};

const SYMBOLS: usize = 10_000;

fn codes() -> Vec<String> {
    // 10,000 distinct well-formed codes `00000`..`99990` (the sandbox lists about 4,000 real
    // ones; these jobs are counted, not run).
    (0..SYMBOLS).map(|i| format!("{i:04}0")).collect()
}

#[tokio::test]
async fn a_10000_symbol_group_is_created_with_five_calls_and_fans_out_exactly() {
    let api = CallCounter::default();
    let w = World::new(
        1000,
        Counters {
            api: Some(api.clone()),
            fetcher: None,
        },
    )
    .await;
    w.user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    api.reset();
    let symbols = codes();
    let today = chrono::Utc::now().date_naive();
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"date": (today - chrono::Days::new(50)).to_string()}});
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    let calls = api.snapshot();
    println!("create call: {} AWS calls {calls:?}", api.total());
    assert!(
        api.total() <= 5,
        "the create call made {} AWS calls: {calls:?}",
        api.total()
    );
    assert_eq!(g["total_jobs"], SYMBOLS);
    let id = JobGroupId::parse(g["id"].as_str().unwrap()).unwrap();

    // Drain while filling: job messages are counted and deleted as they arrive, and each
    // fan-out message is handed to the real fetcher handler in its own task (as a separate
    // Lambda invocation would run it), so the queue never grows deep.
    let queue = MemoryJobQueue::default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let fetcher = &w.stack.fetcher;
    let p = shared::fanout::run(
        fetcher.ports.jobs.as_ref(),
        &queue,
        fetcher.clock.as_ref(),
        id,
        deadline,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(p.done());
    let sent: Vec<u32> = queue
        .drain()
        .iter()
        .map(|m| {
            assert_eq!(m.job_group_id, id);
            m.job_id.index()
        })
        .collect();
    let jobs = w.stack.fetcher.ports.jobs.list_jobs(id).await.unwrap();
    println!(
        "fan-out: {} jobs written, {} job messages",
        jobs.len(),
        sent.len()
    );
    assert_eq!(
        sent,
        (0..SYMBOLS as u32).collect::<Vec<_>>(),
        "exactly one message per job, none missing"
    );
    assert_eq!(jobs.len(), SYMBOLS, "exactly one job per symbol");
    assert!(jobs.iter().enumerate().all(
        |(i, j)| j.id.index() == i as u32 && j.symbol.as_ref().unwrap().as_str() == symbols[i]
    ));
    let f = w
        .stack
        .fetcher
        .ports
        .jobs
        .fan_out(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((f.written, f.enqueued), (SYMBOLS as u32, SYMBOLS as u32));
    let g = w
        .user
        .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
        .await
        .unwrap();
    assert_eq!(g["total_jobs"], SYMBOLS);
}

#[tokio::test]
async fn a_1200_job_fan_out_runs_through_sqs_and_the_fetcher_handler() {
    let w = World::new(1000, Counters::default()).await;
    let symbols: Vec<String> = codes().into_iter().take(1200).collect();
    let today = chrono::Utc::now().date_naive();
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"date": (today - chrono::Days::new(50)).to_string()}});
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    let id = JobGroupId::parse(g["id"].as_str().unwrap()).unwrap();
    let sqs = w.stack.aws.sqs.clone();
    let q = w.stack.fetcher_config.jobs_queue_url.clone();
    let (mut seen, mut messages, mut fan_outs) = (HashSet::new(), 0usize, 0);
    let mut running = Vec::new();
    let mut idle = 0;
    while idle < 5
        || running
            .iter()
            .any(|t: &tokio::task::JoinHandle<()>| !t.is_finished())
    {
        let out = sqs
            .receive_message()
            .queue_url(&q)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let batch = out.messages.unwrap_or_default();
        idle = if batch.is_empty() { idle + 1 } else { 0 };
        let mut delete = Vec::new();
        for m in batch {
            match serde_json::from_str::<QueueMessage>(m.body().unwrap()).unwrap() {
                QueueMessage::FanOut(_) => {
                    fan_outs += 1;
                    let (sqs, q, deps) = (sqs.clone(), q.clone(), w.stack.fetcher.clone());
                    running.push(tokio::spawn(async move {
                        let handle = m.receipt_handle.clone().unwrap();
                        let resp = fetcher::handle_records(vec![to_record(m)], &deps)
                            .await
                            .unwrap();
                        assert!(resp.batch_item_failures.is_empty());
                        sqs.delete_message()
                            .queue_url(&q)
                            .receipt_handle(handle)
                            .send()
                            .await
                            .unwrap();
                    }));
                }
                QueueMessage::Job(JobMessage {
                    job_group_id,
                    job_id,
                }) => {
                    assert_eq!(job_group_id, id);
                    messages += 1;
                    assert!(seen.insert(job_id.index()), "job {job_id} enqueued twice");
                    delete.push(
                        DeleteMessageBatchRequestEntry::builder()
                            .id(delete.len().to_string())
                            .receipt_handle(m.receipt_handle.unwrap())
                            .build()
                            .unwrap(),
                    );
                }
            }
        }
        if !delete.is_empty() {
            sqs.delete_message_batch()
                .queue_url(&q)
                .set_entries(Some(delete))
                .send()
                .await
                .unwrap();
        }
    }
    for t in running {
        t.await.unwrap();
    }
    let jobs = w.stack.fetcher.ports.jobs.list_jobs(id).await.unwrap();
    println!(
        "fan-out: {fan_outs} fan-out message(s), {} jobs, {messages} job messages",
        jobs.len()
    );
    assert_eq!((messages, seen.len(), jobs.len()), (1200, 1200, 1200));
}

/// "All listed issues" for an endpoint asked per issue: the group is accepted with no jobs
/// yet, and its fan-out plans them from the equities master (one request for every issue):
/// one job per listed issue, `total_jobs` exact from then on.
#[tokio::test]
async fn all_listed_issues_are_planned_from_the_equities_master() {
    let w = World::new(5000, Counters::default()).await;
    let day = chrono::Utc::now().date_naive() - chrono::Days::new(30);
    let both = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-minute",
        "all_listed_issues": true, "symbols": ["72030"], "params": {"date": day.to_string()}});
    let refused = w
        .user
        .call(Method::POST, "/v1/job-groups", Some(&both))
        .await
        .unwrap();
    assert_eq!(refused.status, 400, "{}", refused.body);
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-minute",
        "all_listed_issues": true, "params": {"date": day.to_string()}});
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    assert_eq!(
        (g["split"].as_str(), g["total_jobs"].as_u64()),
        (Some("per-listed-issue"), Some(0)),
        "{g}"
    );
    let id = JobGroupId::parse(g["id"].as_str().unwrap()).unwrap();
    let sqs = &w.stack.aws.sqs;
    let q = &w.stack.fetcher_config.jobs_queue_url;
    let fan_out = loop {
        let m = sqs
            .receive_message()
            .queue_url(q)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if let Some(m) = m.into_iter().next() {
            break m;
        }
    };
    let resp = fetcher::handle_records(vec![to_record(fan_out)], &w.stack.fetcher)
        .await
        .unwrap();
    assert!(resp.batch_item_failures.is_empty());

    let mut listed: Vec<String> = sandbox::issue_codes().to_vec();
    listed.sort_unstable();
    let planned = w
        .stack
        .fetcher
        .ports
        .jobs
        .fan_out(id)
        .await
        .unwrap()
        .unwrap();
    let shared::store::FanOutPlan::PerListedIssue(Some(issues)) = &planned.plan else {
        panic!("planned per listed issue: {:?}", planned.plan);
    };
    let symbols: Vec<String> = issues.iter().map(|s| s.as_str().to_owned()).collect();
    assert_eq!(symbols, listed, "one job per listed issue, in code order");
    let group = w
        .stack
        .fetcher
        .ports
        .jobs
        .get_group(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(group.total_jobs as usize, listed.len());
    assert!(planned.written > 0, "the fan-out went on to write jobs");
    assert_eq!(
        w.sandbox.stats().requests(integration_tests::KEY),
        1,
        "one master request planned them all"
    );
}
