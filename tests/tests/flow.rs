//! End to end on the emulator and the sandbox, as production runs it: the real `api` and
//! `fetcher` binaries on the Lambda-shaped runtime, reached through API Gateway events and the
//! SQS event-source mapping. A test that injects deliveries calls the fetcher's handler itself.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use chrono::{Days, NaiveDate, Utc};
use devstack::client::ApiClient;
use devstack::runtime::deployed::Options;
use integration_tests::World;
use reqwest::Method;
use serde_json::{Value, json};
use shared::archive::RawArchive;
use shared::domain::{JobGroupId, UserId};
use shared::store::JobQueries;
use shared::store::dynamo::DynamoJobs;

/// The deployed API alone: no fetcher takes what a test leaves in the queue.
fn api_only() -> Options {
    Options {
        without_mapping: true,
        without_schedule: true,
        ..Options::default()
    }
}

fn window() -> (NaiveDate, NaiveDate) {
    let today = Utc::now().date_naive();
    (today - Days::new(75), today - Days::new(44))
}

async fn create_group(
    user: &ApiClient,
    symbols: &[&str],
    from: NaiveDate,
    to: NaiveDate,
) -> String {
    let body = json!({
        "data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"from": from.to_string(), "to": to.to_string()},
    });
    let g = user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    assert_eq!(g["status"], "pending");
    assert_eq!(g["total_jobs"], symbols.len());
    g["id"].as_str().unwrap().to_owned()
}

async fn wait_until_done(user: &ApiClient, id: &str) -> Value {
    let start = Instant::now();
    loop {
        let g = user
            .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
            .await
            .unwrap();
        let (c, f, t) = (
            g["completed_jobs"].as_u64().unwrap(),
            g["failed_jobs"].as_u64().unwrap(),
            g["total_jobs"].as_u64().unwrap(),
        );
        assert!(c + f <= t, "counters passed the total: {g}");
        if matches!(g["status"].as_str(), Some("completed" | "failed")) {
            assert_eq!(c + f, t, "an ended group accounts for every job: {g}");
            return g;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "group did not finish: {g}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn user_id(user: &ApiClient) -> UserId {
    let me = user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    UserId::parse(me["user_id"].as_str().unwrap()).unwrap()
}

/// Stored rows equal the sandbox's own data, field for field, for 12 issues whose month spans
/// several pages (7 rows a page): about 48 requests, inside the Light plan's 60 a minute.
#[tokio::test]
async fn stored_rows_equal_the_sandbox_data_across_page_boundaries() {
    let w = World::deployed(7, sandbox::Plan::Light, Options::default()).await;
    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .step_by(151)
        .take(12)
        .map(String::as_str)
        .collect();
    let (from, to) = window();
    let id = create_group(&w.user, &symbols, from, to).await;
    let g = wait_until_done(&w.user, &id).await;
    assert_eq!(
        (g["status"].as_str(), g["completed_jobs"].as_u64()),
        (Some("completed"), Some(12)),
        "{g}"
    );
    assert!(g["started_at"].is_string() && g["completed_at"].is_string());

    let rows = integration_tests::group_rows(&w.stack, &id).await;
    let mut total = 0;
    for code in &symbols {
        let stored: Vec<_> = rows
            .iter()
            .filter(|(s, _)| s.as_deref() == Some(*code))
            .map(|(_, r)| r.clone())
            .collect();
        let expected: Vec<_> = sandbox::trading_days(from, to)
            .filter_map(|d| sandbox::daily_bar(code, d, w.plan))
            .collect();
        assert!(expected.len() > 14, "a month holds more than two pages");
        assert_eq!(stored, expected, "rows of {code}");
        total += stored.len();
    }
    let jobs = DynamoJobs::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.fetcher_config.jobs_table,
    );
    let listed = jobs
        .list_jobs(JobGroupId::parse(&id).unwrap())
        .await
        .unwrap();
    let pages: u32 = listed
        .iter()
        .map(|j| j.response_data.as_ref().unwrap().pages)
        .sum();
    let stored_rows: u64 = listed
        .iter()
        .map(|j| j.response_data.as_ref().unwrap().rows)
        .sum();
    assert!(
        listed
            .iter()
            .all(|j| j.response_data.as_ref().unwrap().pages >= 3),
        "every job crossed page boundaries"
    );
    assert_eq!(stored_rows as usize, total);

    // The raw pages are archived as received, one compressed object per page.
    let archive = shared::archive::S3Archive::new(
        w.stack.aws.s3.clone(),
        &w.stack.fetcher_config.raw_payload_bucket,
    );
    let first = &listed[0];
    let data = first.response_data.as_ref().unwrap();
    let prefix = shared::archive::JobPrefix::new(
        user_id(&w.user).await,
        JobGroupId::parse(&id).unwrap(),
        first.id,
    );
    assert_eq!(
        data.archive.as_deref(),
        Some(
            format!(
                "s3://{}/{}",
                w.stack.fetcher_config.raw_payload_bucket,
                prefix.as_str()
            )
            .as_str()
        )
    );
    let mut archived = Vec::new();
    for page in 0..data.pages {
        let body = archive.get(&prefix.page(page)).await.unwrap().unwrap();
        let page: Value = serde_json::from_slice(&body).unwrap();
        archived.extend(page["data"].as_array().unwrap().iter().cloned());
    }
    assert!(
        archive
            .get(&prefix.page(data.pages))
            .await
            .unwrap()
            .is_none()
    );
    let expected: Vec<Value> = sandbox::trading_days(from, to)
        .filter_map(|d| sandbox::daily_bar(symbols[0], d, w.plan))
        .map(Value::Object)
        .collect();
    assert_eq!(archived, expected, "the archive holds every page as served");

    // The results export streams every row, jobs in order, as the provider served them.
    let expected_all: Vec<Value> = symbols
        .iter()
        .flat_map(|code| {
            sandbox::trading_days(from, to)
                .filter_map(|d| sandbox::daily_bar(code, d, w.plan))
                .map(Value::Object)
        })
        .collect();
    let (status, kind, text) = w
        .user
        .text(&format!("/v1/job-groups/{id}/results?format=ndjson"))
        .await
        .unwrap();
    assert_eq!((status, kind.as_str()), (200, "application/x-ndjson"));
    let exported: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(exported, expected_all);
    let (status, kind, text) = w
        .user
        .text(&format!("/v1/job-groups/{id}/results?format=csv"))
        .await
        .unwrap();
    assert_eq!((status, kind.as_str()), (200, "text/csv; charset=utf-8"));
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let header = csv.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), expected_all.len());
    for (record, row) in records.iter().zip(&expected_all) {
        for (column, cell) in header.iter().zip(record.iter()) {
            let want = match &row[column] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(cell, want, "column {column}");
        }
    }
    let (status, _, text) = w
        .user
        .text(&format!("/v1/job-groups/{id}/results?format=xlsx"))
        .await
        .unwrap();
    assert!(
        status == 400 && text.contains("use `ndjson` or `csv`"),
        "{text}"
    );

    let retried: Vec<_> = listed
        .iter()
        .filter(|j| j.retry_count > 0)
        .map(|j| (j.id, j.retry_count))
        .collect();
    assert_eq!(
        (w.sandbox.stats().requests(integration_tests::KEY), retried),
        (u64::from(pages), vec![]),
        "one request per page, no job fetched twice"
    );
}

fn to_record(
    m: aws_sdk_sqs::types::Message,
    id_suffix: &str,
) -> aws_lambda_events::event::sqs::SqsMessage {
    let mut r = integration_tests::to_record(m);
    r.message_id = r.message_id.map(|id| format!("{id}{id_suffix}"));
    r
}

/// SQS delivers at least once: the same message twice, at once and later, counts once.
#[tokio::test]
async fn a_message_delivered_twice_is_counted_once() {
    let w = World::new(1000, Default::default()).await;
    let (from, to) = window();
    let id = create_group(&w.user, &["72030", "86970", "130A0"], from, to).await;
    w.run_fan_outs(1).await;
    let q = &w.stack.fetcher_config.jobs_queue_url;
    let mut messages = Vec::new();
    while messages.len() < 3 {
        let out = w
            .stack
            .aws
            .sqs
            .receive_message()
            .queue_url(q)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        messages.extend(out.messages.unwrap_or_default());
    }
    assert_eq!(messages.len(), 3);
    let first = messages[0].clone();
    // The same body twice in one batch (two deliveries racing), then the rest, then again.
    let batch = vec![
        to_record(first.clone(), ""),
        to_record(first.clone(), "-dup"),
    ];
    let resp = fetcher::handle_records(batch, &w.stack.fetcher)
        .await
        .unwrap();
    assert_eq!(
        resp.batch_item_failures.len(),
        1,
        "of two racing deliveries one runs; the other waits for its lease: {resp:?}"
    );
    let rest = messages[1..]
        .iter()
        .cloned()
        .map(|m| to_record(m, ""))
        .collect();
    fetcher::handle_records(rest, &w.stack.fetcher)
        .await
        .unwrap();
    let resp = fetcher::handle_records(vec![to_record(first, "-late")], &w.stack.fetcher)
        .await
        .unwrap();
    assert!(
        resp.batch_item_failures.is_empty(),
        "a duplicate of a finished job is acknowledged"
    );

    let g = w
        .user
        .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
        .await
        .unwrap();
    assert_eq!(
        (
            g["completed_jobs"].as_u64(),
            g["failed_jobs"].as_u64(),
            g["total_jobs"].as_u64()
        ),
        (Some(3), Some(0), Some(3)),
        "{g}"
    );
    assert_eq!(g["status"], "completed");
    assert_eq!(
        w.sandbox.stats().requests(integration_tests::KEY),
        3,
        "each job reached the provider once"
    );
}

async fn count_items(w: &World, table: &str) -> i32 {
    w.stack
        .aws
        .dynamodb
        .scan()
        .table_name(table)
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await
        .unwrap()
        .count
}

async fn queue_depth(w: &World) -> String {
    let out = w
        .stack
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(&w.stack.fetcher_config.jobs_queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    out.attributes.unwrap()[&QueueAttributeName::ApproximateNumberOfMessages].clone()
}

/// Bad input gets a 4xx problem+json whose detail says what is wrong, and stores nothing.
#[tokio::test]
async fn bad_input_is_refused_with_a_clear_error_and_nothing_stored() {
    let w = World::deployed(1000, sandbox::Plan::Light, api_only()).await;
    let good = json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": ["7203"], "params": {"from": "2026-01-05", "to": "2026-01-30"}});
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    let cases: Vec<(&str, ApiClient, Option<Value>, u16, &str)> = vec![
        ("no key", w.api.clone(), Some(good.clone()), 401, "API key"),
        (
            "wrong key",
            w.api.with_key("mmk_not-a-key"),
            Some(good.clone()),
            401,
            "API key",
        ),
        (
            "unknown data source",
            w.user.clone(),
            Some(with("data_source", json!("bloomberg"))),
            400,
            "unknown data source",
        ),
        (
            "unknown endpoint",
            w.user.clone(),
            Some(with("endpoint", json!("eq-bars-weekly"))),
            400,
            "no endpoint",
        ),
        (
            "no symbols and no date range",
            w.user.clone(),
            Some(
                json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": [], "params": {"from": "2026-01-05"}}),
            ),
            400,
            "give `from` and `to`",
        ),
        (
            "malformed symbol",
            w.user.clone(),
            Some(with("symbols", json!(["7203", "72-3"]))),
            400,
            "not an issue code",
        ),
        (
            "from after to",
            w.user.clone(),
            Some(with(
                "params",
                json!({"from": "2026-02-01", "to": "2026-01-01"}),
            )),
            400,
            "after",
        ),
        (
            "bad date",
            w.user.clone(),
            Some(with("params", json!({"from": "2026-02-30"}))),
            400,
            "not a date",
        ),
        (
            "unknown field",
            w.user.clone(),
            Some(with("colour", json!("red"))),
            400,
            "unknown field",
        ),
        (
            "symbols not a list",
            w.user.clone(),
            Some(with("symbols", json!("7203"))),
            400,
            "symbols",
        ),
    ];
    for (name, client, body, status, needle) in cases {
        let r = client
            .call(Method::POST, "/v1/job-groups", body.as_ref())
            .await
            .unwrap();
        assert_eq!(r.status, status, "{name}: {}", r.body);
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(needle),
            "{name}: `{detail}` should mention `{needle}`"
        );
        assert_eq!(r.body["status"], status, "{name}: problem+json status");
    }
    // Malformed JSON is not JSON at all.
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/job-groups", w.api_url()))
        .bearer_auth(user_key(&w).await)
        .header("content-type", "application/json")
        .body("{\"data_source\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(raw.headers()["content-type"], "application/problem+json");
    let body: Value = raw.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("JSON"), "{body}");

    assert_eq!(
        count_items(&w, &w.stack.api_config.jobs_table).await,
        0,
        "no group or job stored"
    );
    assert_eq!(queue_depth(&w).await, "0", "nothing enqueued");
}

async fn user_key(w: &World) -> String {
    // The user client carries its key; recover it by asking the client to echo a call.
    let r = w.user.call(Method::GET, "/v1/whoami", None).await.unwrap();
    assert_eq!(r.status, 200);
    w.user.key().unwrap().to_owned()
}

/// Another user's group, and ids that are not ids, answer 404.
#[tokio::test]
async fn another_users_group_is_not_found() {
    let w = World::deployed(1000, sandbox::Plan::Light, api_only()).await;
    let (from, to) = window();
    let id = create_group(&w.user, &["72030"], from, to).await;
    // Another user: the administrator (an administrator too sees only its own groups).
    let other = w.admin.clone();
    let r = other
        .call(Method::GET, &format!("/v1/job-groups/{id}"), None)
        .await
        .unwrap();
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(
        !r.body.to_string().contains(&id),
        "nothing about the group leaks"
    );
    let (status, _, text) = other
        .text(&format!("/v1/job-groups/{id}/results?format=csv"))
        .await
        .unwrap();
    assert!(status == 404 && !text.contains(&id), "{status} {text}");
    let r = w
        .user
        .call(Method::GET, "/v1/job-groups/grp_nonsense", None)
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    let r = w
        .user
        .call(Method::POST, "/v1/admin/users", Some(&json!({"name": "x"})))
        .await
        .unwrap();
    assert_eq!(r.status, 403, "users are not administrators");
}

/// Every issue over a week: without symbols the group is split per trading day, planned from
/// the provider's trading calendar, so a day the exchange is closed costs no request: one
/// calendar request plus one per trading day (each day's page holds every issue), and the
/// stored rows are the sandbox's own.
#[tokio::test]
async fn every_issue_over_a_week_costs_one_request_per_trading_day() {
    let w = World::deployed(5000, sandbox::Plan::Light, Options::default()).await;
    let today = Utc::now().date_naive();
    let (from, to) = (today - Days::new(60), today - Days::new(54));
    let body = json!({
        "data_source": "jquants-v2", "endpoint": "eq-bars-daily",
        "params": {"from": from.to_string(), "to": to.to_string()},
    });
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    assert_eq!(
        (g["split"].as_str(), g["total_jobs"].as_u64()),
        (Some("per-trading-day"), Some(0)),
        "planned from the calendar once it fans out: {g}"
    );
    let id = g["id"].as_str().unwrap().to_owned();
    let done = wait_until_done(&w.user, &id).await;
    let days: Vec<NaiveDate> = sandbox::trading_days(from, to).collect();
    assert!(days.len() < 7, "the week has a day the exchange is closed");
    assert_eq!(
        (done["status"].as_str(), done["total_jobs"].as_u64()),
        (Some("completed"), Some(days.len() as u64)),
        "{done}"
    );
    assert_eq!(
        w.sandbox.stats().requests(integration_tests::KEY),
        1 + days.len() as u64,
        "the calendar, then one request per trading day"
    );

    let jobs = DynamoJobs::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.fetcher_config.jobs_table,
    )
    .list_jobs(JobGroupId::parse(&id).unwrap())
    .await
    .unwrap();
    assert_eq!(
        jobs.iter().map(|j| j.date.unwrap()).collect::<Vec<_>>(),
        days,
        "one job per trading day, in order"
    );
    let expected_rows: usize = days
        .iter()
        .map(|d| {
            sandbox::issue_codes()
                .iter()
                .filter(|c| sandbox::daily_bar(c, *d, w.plan).is_some())
                .count()
        })
        .sum();
    let stored: u64 = jobs
        .iter()
        .map(|j| j.response_data.as_ref().unwrap().rows)
        .sum();
    assert_eq!(stored as usize, expected_rows);
    let mut rows = integration_tests::group_rows(&w.stack, &id).await;
    rows.sort_by_key(|(_, r)| r["Date"].as_str().map(str::to_owned));
    for code in sandbox::issue_codes().iter().step_by(997) {
        let got: Vec<_> = rows
            .iter()
            .filter(|(_, r)| r["Code"] == code.as_str())
            .map(|(_, r)| r.clone())
            .collect();
        let want: Vec<_> = days
            .iter()
            .filter_map(|d| sandbox::daily_bar(code, *d, w.plan))
            .collect();
        assert_eq!(got, want, "rows of {code}");
    }
}
