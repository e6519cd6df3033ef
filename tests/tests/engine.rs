//! The job engine on the emulator: cancel, retry of failed jobs, poison messages straight to
//! the dead-letter queue and back, transient failures deferred with backoff, store failures
//! sent back within seconds.

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use chrono::{Days, Utc};
use integration_tests::World;
use reqwest::Method;
use serde_json::{Value, json};

fn window() -> (String, String) {
    let today = Utc::now().date_naive();
    (
        (today - Days::new(75)).to_string(),
        (today - Days::new(44)).to_string(),
    )
}

/// The first `n` issue codes of the sandbox's universe.
fn first_issues(n: usize) -> Vec<&'static str> {
    sandbox::issue_codes()
        .iter()
        .take(n)
        .map(String::as_str)
        .collect()
}

async fn create(w: &World, symbols: &[&str]) -> String {
    let (from, to) = window();
    let body = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols, "params": {"from": from, "to": to}});
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    g["id"].as_str().unwrap().to_owned()
}

async fn group(w: &World, id: &str) -> Value {
    w.user
        .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
        .await
        .unwrap()
}

async fn ack(
    w: &World,
    queue: &str,
    recs: &[aws_lambda_events::event::sqs::SqsMessage],
    failed: &[String],
) {
    for r in recs
        .iter()
        .filter(|r| !failed.contains(r.message_id.as_ref().unwrap()))
    {
        w.stack
            .aws
            .sqs
            .delete_message()
            .queue_url(queue)
            .receipt_handle(r.receipt_handle.clone().unwrap())
            .send()
            .await
            .unwrap();
    }
}

async fn run_batch(w: &World, recs: Vec<aws_lambda_events::event::sqs::SqsMessage>) -> Vec<String> {
    let q = w.stack.fetcher_config.jobs_queue_url.clone();
    let resp = fetcher::handle_records(recs.clone(), &w.stack.fetcher)
        .await
        .unwrap();
    let failed: Vec<String> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ack(w, &q, &recs, &failed).await;
    failed
}

/// Cancel: jobs that ran stay completed, the rest are skipped without a provider request, and
/// the group ends failed saying it was cancelled; counters stay exact.
#[tokio::test]
async fn cancel_skips_jobs_that_have_not_run() {
    let w = World::new(1000, Default::default()).await;
    let symbols = first_issues(10);
    let id = create(&w, &symbols).await;
    w.run_fan_outs(1).await;
    let q = w.stack.fetcher_config.jobs_queue_url.clone();
    let first = w.receive(&q, 3).await;
    assert!(run_batch(&w, first[..3].to_vec()).await.is_empty());
    for r in &first[3..] {
        w.stack
            .aws
            .sqs
            .change_message_visibility()
            .queue_url(&q)
            .receipt_handle(r.receipt_handle.clone().unwrap())
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
    }
    let c = w
        .user
        .expect(
            Method::POST,
            &format!("/v1/job-groups/{id}/cancel"),
            None,
            202,
        )
        .await
        .unwrap();
    assert!(c["status"] == "running");
    let rest = w.receive(&q, 7).await;
    assert_eq!(rest.len(), 7);
    assert!(run_batch(&w, rest).await.is_empty());
    let g = group(&w, &id).await;
    assert_eq!(
        (
            g["status"].as_str(),
            g["completed_jobs"].as_u64(),
            g["failed_jobs"].as_u64()
        ),
        (Some("failed"), Some(3), Some(7)),
        "{g}"
    );
    assert!(
        g["error_message"]
            .as_str()
            .unwrap()
            .starts_with("cancelled by the user"),
        "{g}"
    );
    assert_eq!(
        w.sandbox.stats().requests(integration_tests::KEY),
        3,
        "skipped jobs never reached the provider"
    );
    let again = w
        .user
        .call(Method::POST, &format!("/v1/job-groups/{id}/cancel"), None)
        .await
        .unwrap();
    assert_eq!(again.status, 409);
}

/// A group whose jobs failed on a rejected key is retried after the key is fixed: only the
/// failed jobs run again and the counters end exact.
#[tokio::test]
async fn retry_runs_only_the_failed_jobs_again() {
    let mut w = World::new(1000, Default::default()).await;
    w.stack.start_pollers(2);
    let wrong = json!({"api_key": "revoked-key", "plan": "light"});
    w.user
        .expect(Method::PUT, "/v1/credentials/jquants-v2", Some(&wrong), 200)
        .await
        .unwrap();
    let id = create(&w, &["72030", "86970", "13010", "99840"]).await;
    let mut g = group(&w, &id).await;
    for _ in 0..300 {
        if g["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        g = group(&w, &id).await;
    }
    assert_eq!(
        (g["status"].as_str(), g["failed_jobs"].as_u64()),
        (Some("failed"), Some(4)),
        "{g}"
    );
    assert!(
        g["error_message"]
            .as_str()
            .unwrap()
            .contains("credential rejected"),
        "{g}"
    );
    let conflict = w
        .user
        .call(Method::POST, &format!("/v1/job-groups/{id}/retry"), None)
        .await
        .unwrap();
    assert_eq!(
        conflict.status, 202,
        "a failed group can be retried: {}",
        conflict.body
    );
    // That retry ran on the still-wrong key; fix it, wait for the second failure, retry again.
    for _ in 0..300 {
        g = group(&w, &id).await;
        if g["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let right = json!({"api_key": integration_tests::KEY, "plan": "light"});
    w.user
        .expect(Method::PUT, "/v1/credentials/jquants-v2", Some(&right), 200)
        .await
        .unwrap();
    let r = w
        .user
        .expect(
            Method::POST,
            &format!("/v1/job-groups/{id}/retry"),
            None,
            202,
        )
        .await
        .unwrap();
    assert_eq!(
        (r["status"].as_str(), r["failed_jobs"].as_u64()),
        (Some("running"), Some(0)),
        "{r}"
    );
    for _ in 0..300 {
        g = group(&w, &id).await;
        if g["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        (
            g["status"].as_str(),
            g["completed_jobs"].as_u64(),
            g["failed_jobs"].as_u64()
        ),
        (Some("completed"), Some(4), Some(0)),
        "{g}"
    );
    assert!(g["error_message"].is_null());
    let done = w
        .user
        .call(Method::POST, &format!("/v1/job-groups/{id}/retry"), None)
        .await
        .unwrap();
    assert_eq!(done.status, 409, "a completed group has nothing to retry");
}

async fn depth(w: &World, queue: &str, attr: QueueAttributeName) -> u64 {
    let out = w
        .stack
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(attr.clone())
        .send()
        .await
        .unwrap();
    out.attributes.unwrap()[&attr].parse().unwrap()
}

/// Poison messages go to the dead-letter queue at once without holding up the batch; the
/// redrive moves them back.
#[tokio::test]
async fn poison_messages_go_to_the_dlq_at_once_and_can_be_redriven() {
    let w = World::new(1000, Default::default()).await;
    let id = create(&w, &["72030"]).await;
    w.run_fan_outs(1).await;
    let (q, dlq) = (
        w.stack.fetcher_config.jobs_queue_url.clone(),
        w.stack.fetcher_config.dead_letter_queue_url.clone(),
    );
    let ghost = json!({"job_group_id": id, "job_id": 999}).to_string();
    for body in ["{not json", ghost.as_str()] {
        w.stack
            .aws
            .sqs
            .send_message()
            .queue_url(&q)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let recs = w.receive(&q, 3).await;
    assert_eq!(recs.len(), 3);
    assert!(
        run_batch(&w, recs).await.is_empty(),
        "nothing is left to redeliver"
    );
    assert_eq!(
        group(&w, &id).await["status"],
        "completed",
        "the good job was not held up"
    );
    assert_eq!(
        depth(&w, &dlq, QueueAttributeName::ApproximateNumberOfMessages).await,
        2,
        "both poison messages dead-lettered on the first receive"
    );

    // The world's administrator (the deployment is bootstrapped once).
    let admin = &w.admin;
    let moved = admin
        .expect(Method::POST, "/v1/admin/dlq/redrive", Some(&json!({})), 200)
        .await
        .unwrap();
    assert_eq!(moved["moved"], 2);
    assert_eq!(
        depth(&w, &dlq, QueueAttributeName::ApproximateNumberOfMessages).await,
        0
    );
    assert_eq!(
        depth(&w, &q, QueueAttributeName::ApproximateNumberOfMessages).await,
        2,
        "back on the job queue"
    );
    let user_try = w
        .user
        .call(Method::POST, "/v1/admin/dlq/redrive", Some(&json!({})))
        .await
        .unwrap();
    assert_eq!(user_try.status, 403);
}

/// A transient failure is not retried at once: the message is deferred by the backoff, so it
/// stays invisible instead of coming straight back.
#[tokio::test]
async fn transient_failures_are_deferred_with_backoff() {
    let w = World::new(1000, Default::default()).await;
    let id = create(&w, &["72030"]).await;
    w.run_fan_outs(1).await;
    // The provider becomes unreachable: a closed port.
    // The world's administrator (the deployment is bootstrapped once).
    let admin = &w.admin;
    let ds = json!({"name": "J-Quants", "description": "down", "provider_type": "jquants", "is_enabled": true,
        "base_url": "http://127.0.0.1:9/v2", "api_version": "v2", "rate_limit_per_minute": 500, "rate_limit_per_hour": 30000, "rate_limit_per_day": 720000});
    admin
        .expect(
            Method::PUT,
            "/v1/admin/data-sources/jquants-v2",
            Some(&ds),
            200,
        )
        .await
        .unwrap();
    let q = w.stack.fetcher_config.jobs_queue_url.clone();
    let recs = w.receive(&q, 1).await;
    let resp = fetcher::handle_records(recs, &w.stack.fetcher)
        .await
        .unwrap();
    assert_eq!(resp.batch_item_failures.len(), 1, "reported for redelivery");
    assert_eq!(
        depth(
            &w,
            &q,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible
        )
        .await,
        1
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let early = w
        .stack
        .aws
        .sqs
        .receive_message()
        .queue_url(&q)
        .wait_time_seconds(0)
        .send()
        .await
        .unwrap();
    assert!(
        early.messages.unwrap_or_default().is_empty(),
        "not back before its backoff (>= 5 s)"
    );
    let g = group(&w, &id).await;
    assert_eq!(
        (g["status"].as_str(), g["failed_jobs"].as_u64()),
        (Some("running"), Some(0)),
        "a transient failure is not a failure yet"
    );
}

/// Our own storage failing (here the jobs table gone) sends each message back after a jittered
/// backoff by its delivery count, seconds for a first delivery, not the six-minute visibility
/// timeout; nothing is acknowledged.
#[tokio::test]
async fn a_store_failure_sends_messages_back_within_seconds() {
    let w = World::new(1000, Default::default()).await;
    let symbols = first_issues(2);
    create(&w, &symbols).await;
    w.run_fan_outs(1).await;
    let q = w.stack.fetcher_config.jobs_queue_url.clone();
    let mut recs = w.receive(&q, 2).await;
    assert_eq!(recs.len(), 2);
    // The second as if delivered for the fourth time.
    recs[1]
        .attributes
        .insert("ApproximateReceiveCount".into(), "4".into());
    let mut config = w.stack.fetcher_config.clone();
    config.jobs_table.push_str("-gone");
    let aws = &w.stack.aws;
    let clients = shared::aws::Clients {
        dynamodb: aws.dynamodb.clone(),
        sqs: aws.sqs.clone(),
        kms: aws.kms.clone(),
        secrets: aws.secrets.clone(),
        s3: aws.s3.clone(),
    };
    let mut broken = fetcher::Deps::from_aws(&config, &clients);
    let control = std::sync::Arc::new(shared::queue::RecordingControl::default());
    broken.ports.control = control.clone();
    let resp = fetcher::handle_records(recs.clone(), &broken)
        .await
        .unwrap();
    assert_eq!(resp.batch_item_failures.len(), 2, "nothing acknowledged");
    let deferred = control.deferred.lock().unwrap().clone();
    let wait = |i: usize| {
        let handle = recs[i].receipt_handle.clone().unwrap();
        deferred
            .iter()
            .find(|(h, _)| *h == handle)
            .map(|(_, d)| *d)
            .unwrap()
    };
    let (first, fourth) = (wait(0), wait(1));
    assert!(
        (Duration::from_secs(10)..Duration::from_secs(20)).contains(&first),
        "{first:?}"
    );
    assert!(
        (Duration::from_secs(80)..Duration::from_secs(160)).contains(&fourth),
        "{fourth:?}"
    );
}
