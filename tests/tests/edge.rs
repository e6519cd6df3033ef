//! Refusals at the edge, before anything is stored: a date range outside the plan's data
//! window answers 400 with the window in the message, and creates no group.

use chrono::{Days, Utc};
use integration_tests::World;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn dates_a_free_account_cannot_read_are_refused_before_any_job() {
    let w = World::on_plan(100, Default::default(), &[], sandbox::Plan::Free).await;
    let today = Utc::now().date_naive();
    let recent = json!({
        "data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": ["7203"],
        "params": {"from": (today - Days::new(14)).to_string(), "to": (today - Days::new(7)).to_string()},
    });
    let r = w
        .user
        .call(Method::POST, "/v1/job-groups", Some(&recent))
        .await
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("free account") && detail.contains(" to "),
        "{detail}"
    );
    // Nothing was queued: the queue is empty.
    let q = w
        .stack
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(&w.stack.fetcher_config.jobs_queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    assert_eq!(
        q.attributes()
            .and_then(|a| a.values().next())
            .map(String::as_str),
        Some("0")
    );
    // Inside the window it is taken.
    let old = json!({
        "data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": ["7203"],
        "params": {"from": (today - Days::new(130)).to_string(), "to": (today - Days::new(100)).to_string()},
    });
    w.user
        .expect(Method::POST, "/v1/job-groups", Some(&old), 202)
        .await
        .unwrap();
    // A free account's schedule over the last trading days is refused with what to do.
    let schedule = json!({
        "name": "close", "cron": "0 18 * * 1-5",
        "template": {"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                     "window": {"kind": "previous-trading-day"}},
    });
    let r = w
        .user
        .call(Method::POST, "/v1/schedules", Some(&schedule))
        .await
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("since-last-success")
    );
}
