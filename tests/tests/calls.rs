//! The AWS calls of the job engine, pinned per batch: a refactor that keeps the engine's
//! behaviour keeps these counts exactly. One fan-out message, then one batch of 10 one-page
//! jobs, then a second group's batch on warm caches, each handed to `handle_records` as
//! Lambda's mapping would, the fetcher's calls counted at the SDK by operation and by table.
//! The rate limiter's calls are printed beside them: how many permits one of its reads grants
//! follows the clock, so they are bounded here, not pinned. `make bench` (section `calls`)
//! counts the same over a 1,000-job group, where how the queue splits into batches follows
//! the timing too.

use std::collections::BTreeMap;

use chrono::{Days, Utc};
use devstack::stack::Counters;
use integration_tests::World;
use reqwest::Method;
use serde_json::json;
use shared::aws::CallCounter;

/// Creates a group of one one-page job per symbol; its id.
async fn create(w: &World, symbols: &[&str]) -> String {
    let today = Utc::now().date_naive();
    let (from, to) = (today - Days::new(75), today - Days::new(44));
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"from": from.to_string(), "to": to.to_string()}});
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    g["id"].as_str().unwrap().to_owned()
}

/// Receives exactly `n` messages and hands them to the fetcher as one batch; the calls it made,
/// by operation, and its DynamoDB single-table calls by table.
async fn one_batch(
    w: &World,
    counter: &CallCounter,
    n: usize,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let queue = &w.stack.fetcher_config.jobs_queue_url;
    let records = w.receive(queue, n).await;
    assert_eq!(records.len(), n, "messages waiting");
    counter.reset();
    let resp = fetcher::handle_records(records, &w.stack.fetcher)
        .await
        .unwrap();
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    (counter.snapshot(), counter.by_table())
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect()
}

/// Jobs of group `id` completed so far (the API's calls are not counted).
async fn completed(w: &World, id: &str) -> u64 {
    let g = w
        .user
        .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
        .await
        .unwrap();
    g["completed_jobs"].as_u64().unwrap()
}

const SINGLE_TABLE: [&str; 5] = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"];

/// A batch of 10 job messages: the calls that are not single-table DynamoDB ones, by
/// operation, and the single-table ones by table, the rate limiter's table apart (its calls,
/// returned). `done` jobs completed in it (one archived page each); the others were deferred
/// by the limiter, whose permits this batch ran short of, by delayed copies sent in one batch.
fn assert_job_batch(
    w: &World,
    (by_op, by_table): &(BTreeMap<String, u64>, BTreeMap<String, u64>),
    done: u64,
    cold: bool,
) -> u64 {
    println!("by operation {by_op:?}\nby table {by_table:?}\ndone {done}");
    let config = &w.stack.fetcher_config;
    let single = |op: &str| SINGLE_TABLE.iter().any(|s| op == format!("DynamoDB.{s}"));
    let others: BTreeMap<String, u64> = by_op
        .iter()
        .filter(|(op, _)| !single(op))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(
        others,
        counts(&[
            // The batch's jobs, read at once.
            ("DynamoDB.BatchGetItem", 1),
            // The batch's jobs started, then finished, each in one transaction.
            ("DynamoDB.TransactWriteItems", 2),
            // The user's credential, opened once per warm instance.
            ("KMS.Decrypt", u64::from(cold)),
            ("S3.PutObject", done),
            ("SQS.SendMessageBatch", u64::from(done < 10)),
        ]),
        "the batch's calls that are not single-table DynamoDB ones"
    );
    let mut tables = by_table.clone();
    let limiter = tables.remove(&config.rate_limits_table).unwrap_or(0);
    assert_eq!(
        tables,
        counts(&[
            // Cold: the user, the data source and the credential; warm: the user (whether
            // still enabled).
            (&config.accounts_table, if cold { 3 } else { 1 }),
            // The group.
            (&config.jobs_table, 1),
        ]),
        "the batch's single-table DynamoDB calls by table"
    );
    let single_calls: u64 = by_op
        .iter()
        .filter(|(op, _)| single(op))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        single_calls,
        by_table.values().sum::<u64>(),
        "every single-table call has its table"
    );
    limiter
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_ten_jobs_costs_exactly_the_pinned_calls() {
    let counter = CallCounter::default();
    let w = World::on_plan(
        1000,
        Counters {
            api: None,
            fetcher: Some(counter.clone()),
        },
        &[],
        sandbox::Plan::Premium,
    )
    .await;
    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .take(20)
        .map(String::as_str)
        .collect();

    let first = create(&w, &symbols[..10]).await;
    let (by_op, by_table) = one_batch(&w, &counter, 1).await;
    assert_eq!(
        by_op,
        counts(&[
            // The group and its fan-out item read, the fan-out claimed, advanced and the
            // group started; the jobs written in one batch write, their messages sent in one
            // batch.
            ("DynamoDB.BatchWriteItem", 1),
            ("DynamoDB.GetItem", 2),
            ("DynamoDB.UpdateItem", 3),
            ("SQS.SendMessageBatch", 1),
        ]),
        "the fan-out of 10 jobs"
    );
    assert_eq!(by_table, counts(&[(&w.stack.fetcher_config.jobs_table, 5)]));

    let cold = one_batch(&w, &counter, 10).await;
    let cold_limiter = assert_job_batch(&w, &cold, completed(&w, &first).await, true);

    let second = create(&w, &symbols[10..]).await;
    let _ = one_batch(&w, &counter, 1).await;
    let warm = one_batch(&w, &counter, 10).await;
    let warm_limiter = assert_job_batch(&w, &warm, completed(&w, &second).await, false);
    println!("the rate limiter's calls: cold batch {cold_limiter}, warm batch {warm_limiter}");
    for limiter in [cold_limiter, warm_limiter] {
        // A read and a write for each grant: at least one, never more than one a job.
        assert!((2..=20).contains(&limiter) && limiter % 2 == 0, "{limiter}");
    }
}
