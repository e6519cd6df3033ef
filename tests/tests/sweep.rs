//! Nothing stays stranded: a group whose job messages were deleted by hand (as a lost message
//! would be) and whose counters were corrupted is found by the scheduler's sweep once it has
//! stood still for the bound; the sweep sends the jobs' messages again, sets the counters to
//! what the jobs say, and the group completes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{TimeDelta, Utc};
use integration_tests::World;
use reqwest::Method;
use serde_json::json;
use shared::clock::ManualClock;
use shared::domain::JobGroupId;

#[tokio::test]
async fn a_group_whose_messages_were_deleted_is_swept_and_completes() {
    let mut w = World::new(100, Default::default()).await;
    let today = Utc::now().date_naive();
    let g = w
        .user
        .expect(
            Method::POST,
            "/v1/job-groups",
            Some(&json!({
                "data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                "symbols": ["7203", "6758", "9984"],
                "params": {"from": (today - chrono::Days::new(60)).to_string(),
                           "to": (today - chrono::Days::new(50)).to_string()},
            })),
            202,
        )
        .await
        .unwrap();
    let id = JobGroupId::parse(g["id"].as_str().unwrap()).unwrap();
    let fetcher = w.stack.fetcher.clone();
    shared::fanout::run(
        fetcher.ports.jobs.as_ref(),
        fetcher.ports.queue.as_ref(),
        fetcher.clock.as_ref(),
        id,
        Instant::now() + Duration::from_secs(30),
    )
    .await
    .unwrap();
    // Every message deleted by hand: the fan-out's and the three jobs'.
    let sqs = &w.stack.aws.sqs;
    let queue = &w.stack.fetcher_config.jobs_queue_url;
    let mut deleted = 0;
    while deleted < 4 {
        let out = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages.unwrap_or_default() {
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(m.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
            deleted += 1;
        }
    }
    // And the group's counters corrupted.
    let table = &w.stack.fetcher_config.jobs_table;
    w.stack
        .aws
        .dynamodb
        .update_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("GROUP#{id}")))
        .key("sk", AttributeValue::S("GROUP".into()))
        .update_expression("SET completed_jobs = :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();

    let clock = Arc::new(ManualClock::new(Utc::now()));
    let scheduler = w.scheduler(clock.clone());
    let early = scheduler::tick(&scheduler).await.unwrap();
    assert_eq!(early.stalled_groups, 0, "not stalled before the bound");
    clock.advance(scheduler::STALLED_AFTER + TimeDelta::minutes(1));
    let swept = scheduler::tick(&scheduler).await.unwrap();
    assert_eq!(
        (
            swept.stalled_groups,
            swept.stranded_requeued,
            swept.counters_reconciled
        ),
        (1, 3, 1),
        "{swept:?}"
    );
    let view = w
        .user
        .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
        .await
        .unwrap();
    assert_eq!(
        view["completed_jobs"], 0,
        "counters set to what the jobs say"
    );
    let again = scheduler::tick(&scheduler).await.unwrap();
    assert_eq!(again.stranded_requeued, 0, "swept once per bound");

    w.stack.start_pollers(2);
    let done = w
        .user
        .wait_for_group(&id.to_string(), Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(
        (done["status"].as_str(), done["completed_jobs"].as_u64()),
        (Some("completed"), Some(3)),
        "{done}"
    );
    // An ended group leaves the sweep's index.
    clock.advance(scheduler::STALLED_AFTER * 2);
    assert_eq!(scheduler::tick(&scheduler).await.unwrap().stalled_groups, 0);
}
