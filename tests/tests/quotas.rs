//! Per-user limits on the local stack, each set low through the API's variables: exceeding
//! one answers 429 with `Retry-After` and a `detail` naming the limit and its value, and
//! nothing is stored (the caller's group and schedule counts stay as they were).

use devstack::client::{ApiClient, add_user};
use integration_tests::{KEY, World};
use reqwest::Method;
use serde_json::{Value, json};

const LIMITS: &[(&str, &str)] = &[
    ("MAX_SYMBOLS_PER_GROUP", "3"),
    ("MAX_ACTIVE_JOBS_PER_USER", "5"),
    ("MAX_GROUPS_PER_MINUTE", "3"),
    ("MAX_SCHEDULES_PER_USER", "1"),
    ("MIN_SCHEDULE_INTERVAL_MINUTES", "5"),
    ("MAX_CREDENTIAL_CHECKS_PER_MINUTE", "1"),
];

fn group(symbols: &[&str]) -> Value {
    json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
           "params": {"from": "2026-01-05", "to": "2026-01-30"}})
}

fn schedule(cron: &str) -> Value {
    json!({"name": "close", "cron": cron,
           "template": {"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                        "window": {"kind": "previous-trading-day"}}})
}

/// Sends a request; asserts a 429 naming `limit` with `value`, and a `Retry-After`.
async fn refused(
    w: &World,
    client: &ApiClient,
    method: Method,
    path: &str,
    body: &Value,
    limit: &str,
    value: &str,
) {
    let r = reqwest::Client::new()
        .request(method, format!("{}{path}", w.api_url()))
        .bearer_auth(client.key().unwrap())
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429, "{path} {body}");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    let problem: Value = r.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("`{limit}` ({value}")),
        "the limit and its value are named: {detail}"
    );
}

async fn groups(client: &ApiClient) -> usize {
    let page = client
        .expect(Method::GET, "/v1/job-groups?limit=100", None, 200)
        .await
        .unwrap();
    page["job_groups"].as_array().unwrap().len()
}

async fn schedules(client: &ApiClient) -> usize {
    let all = client
        .expect(Method::GET, "/v1/schedules", None, 200)
        .await
        .unwrap();
    all["schedules"].as_array().unwrap().len()
}

/// Waits, if needed, until a minute's window has at least 40 seconds left, so the counted
/// calls below fall in one window.
async fn start_of_a_minute() {
    let second = chrono::Utc::now().timestamp() % 60;
    if second > 20 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
}

#[tokio::test]
async fn each_limit_answers_429_naming_it_and_stores_nothing() {
    let w = World::with(100, Default::default(), LIMITS).await;
    let other = add_user(&w.api, &w.admin, KEY, "light").await.unwrap();
    start_of_a_minute().await;

    // Symbols a group.
    refused(
        &w,
        &w.user,
        Method::POST,
        "/v1/job-groups",
        &group(&["7203", "6758", "9984", "8306"]),
        "symbols_per_group",
        "3",
    )
    .await;
    assert_eq!(groups(&w.user).await, 0);

    // Active jobs: 3, then 3 more would be 6 of 5; 2 more fit.
    w.user
        .expect(
            Method::POST,
            "/v1/job-groups",
            Some(&group(&["7203", "6758", "9984"])),
            202,
        )
        .await
        .unwrap();
    refused(
        &w,
        &w.user,
        Method::POST,
        "/v1/job-groups",
        &group(&["7203", "6758", "9984"]),
        "max_active_jobs",
        "5",
    )
    .await;
    assert_eq!(groups(&w.user).await, 1, "the refused group was not stored");
    w.user
        .expect(
            Method::POST,
            "/v1/job-groups",
            Some(&group(&["7203", "6758"])),
            202,
        )
        .await
        .unwrap();

    // Groups a minute: another user's three fit, the fourth does not (the refused ones above
    // were not counted for anyone).
    for _ in 0..3 {
        other
            .expect(Method::POST, "/v1/job-groups", Some(&group(&["7203"])), 202)
            .await
            .unwrap();
    }
    refused(
        &w,
        &other,
        Method::POST,
        "/v1/job-groups",
        &group(&["7203"]),
        "groups_per_minute",
        "3",
    )
    .await;
    assert_eq!(groups(&other).await, 3);

    // Credential checks a minute: one, then 429 (nothing stored or changed by the second).
    let body = json!({"api_key": KEY, "plan": "light"});
    w.user
        .expect(
            Method::PUT,
            "/v1/credentials/jquants-v2?verify=true",
            Some(&body),
            200,
        )
        .await
        .unwrap();
    let before = w
        .user
        .expect(Method::GET, "/v1/credentials/jquants-v2", None, 200)
        .await
        .unwrap();
    refused(
        &w,
        &w.user,
        Method::PUT,
        "/v1/credentials/jquants-v2?verify=true",
        &body,
        "credential_checks_per_minute",
        "1",
    )
    .await;
    let after = w
        .user
        .expect(Method::GET, "/v1/credentials/jquants-v2", None, 200)
        .await
        .unwrap();
    assert_eq!(before["updated_at"], after["updated_at"]);

    // Schedules: the shortest interval first (each fire is a group fanned out), then the count.
    refused(
        &w,
        &w.user,
        Method::POST,
        "/v1/schedules",
        &schedule("*/2 * * * *"),
        "min_schedule_interval_minutes",
        "5",
    )
    .await;
    refused(
        &w,
        &w.user,
        Method::POST,
        "/v1/schedules",
        &schedule("0,3 18 * * 1-5"),
        "min_schedule_interval_minutes",
        "5",
    )
    .await;
    assert_eq!(schedules(&w.user).await, 0);
    w.user
        .expect(
            Method::POST,
            "/v1/schedules",
            Some(&schedule("*/5 * * * *")),
            201,
        )
        .await
        .unwrap();
    refused(
        &w,
        &w.user,
        Method::POST,
        "/v1/schedules",
        &schedule("0 18 * * 1-5"),
        "schedules_per_user",
        "1",
    )
    .await;
    assert_eq!(schedules(&w.user).await, 1);
}

/// A group's charge is released when it ends: the user can create again.
#[tokio::test]
async fn active_jobs_are_released_when_a_group_ends() {
    let mut w = World::with(
        100,
        Default::default(),
        &[("MAX_ACTIVE_JOBS_PER_USER", "2")],
    )
    .await;
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today - chrono::Days::new(75), today - chrono::Days::new(44));
    let mut body = group(&["7203", "6758"]);
    body["params"] = json!({"from": from.to_string(), "to": to.to_string()});
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    refused(
        &w,
        &w.user,
        Method::POST,
        "/v1/job-groups",
        &group(&["7203"]),
        "max_active_jobs",
        "2",
    )
    .await;
    w.stack.start_pollers(2);
    let done = w
        .user
        .wait_for_group(
            g["id"].as_str().unwrap(),
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    w.user
        .expect(Method::POST, "/v1/job-groups", Some(&group(&["7203"])), 202)
        .await
        .unwrap();
}
