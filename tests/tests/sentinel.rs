//! Secret hygiene: the demo flow run with a known sentinel as the user's J-Quants key, every
//! log line captured; then logs, every table item, every queue message, every bucket object and
//! every API answer are searched: the sentinel never appears.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use devstack::client::{ApiClient, onboard_user};
use devstack::stack::LocalStack;
use integration_tests::{require_emulator, unique};
use reqwest::Method;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

const SENTINEL: &str = "SENTINEL-4f1d9c-do-not-leak";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn attribute_leaks(v: &AttributeValue) -> bool {
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => s.contains(SENTINEL),
        AttributeValue::B(b) => contains(b.as_ref(), SENTINEL),
        AttributeValue::M(m) => m.values().any(attribute_leaks),
        AttributeValue::L(l) => l.iter().any(attribute_leaks),
        AttributeValue::Ss(l) | AttributeValue::Ns(l) => l.iter().any(|s| s.contains(SENTINEL)),
        AttributeValue::Bs(l) => l.iter().any(|b| contains(b.as_ref(), SENTINEL)),
        _ => false,
    }
}

#[tokio::test]
async fn the_sentinel_secret_never_appears_anywhere() {
    require_emulator();
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_writer(move || writer.clone())
        .json()
        .init();

    let sandbox = Sandbox::start(SandboxConfig {
        keys: vec![format!("{SENTINEL}:light").parse().unwrap()],
        page_size: 5,
        today: None,
    })
    .await;
    let mut stack = LocalStack::start(&unique("s"), Default::default())
        .await
        .unwrap();
    let api = ApiClient::new(&stack.api_url, None);
    let user = onboard_user(
        &api,
        &stack.admin_secret().await.unwrap(),
        &sandbox.base_url(),
        SENTINEL,
        "light",
    )
    .await
    .unwrap();
    let mut answers = Vec::new();
    answers.push(
        user.expect(Method::GET, "/v1/credentials/jquants-v2", None, 200)
            .await
            .unwrap(),
    );
    // A verified re-store, and a refused one whose error mentions the provider's answer.
    let body = json!({"api_key": SENTINEL, "plan": "light"});
    answers.push(
        user.expect(
            Method::PUT,
            "/v1/credentials/jquants-v2?verify=true",
            Some(&body),
            200,
        )
        .await
        .unwrap(),
    );
    let wrong = json!({"api_key": format!("{SENTINEL}-wrong"), "plan": "light"});
    answers.push(
        user.call(
            Method::PUT,
            "/v1/credentials/jquants-v2?verify=true",
            Some(&wrong),
        )
        .await
        .unwrap()
        .body,
    );

    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today - chrono::Days::new(70), today - chrono::Days::new(45));
    let group = user
        .expect(Method::POST, "/v1/job-groups", Some(&json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
            "symbols": ["72030", "86970", "130A0", "13010", "99840"], "params": {"from": from.to_string(), "to": to.to_string()}})), 202)
        .await
        .unwrap();
    answers.push(group.clone());

    // The fan-out runs as the fetcher would run it, then every queued message (the fan-out
    // message and the five job messages) is read before the fetcher consumes any.
    let gid = shared::domain::JobGroupId::parse(group["id"].as_str().unwrap()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    shared::fanout::run(
        stack.fetcher.ports.jobs.as_ref(),
        stack.fetcher.ports.queue.as_ref(),
        stack.fetcher.clock.as_ref(),
        gid,
        deadline,
    )
    .await
    .unwrap();
    let q = stack.fetcher_config.jobs_queue_url.clone();
    let mut bodies = Vec::new();
    while bodies.len() < 6 {
        let out = stack
            .aws
            .sqs
            .receive_message()
            .queue_url(&q)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        for m in out.messages.unwrap_or_default() {
            if !bodies
                .iter()
                .any(|(id, _)| Some(id) == m.message_id.as_ref())
            {
                bodies.push((
                    m.message_id.clone().unwrap(),
                    m.body.clone().unwrap_or_default(),
                ));
            }
        }
    }
    assert!(
        bodies.iter().all(|(_, b)| !b.contains(SENTINEL)),
        "queue messages"
    );

    stack.start_pollers(2);
    let id = group["id"].as_str().unwrap().to_owned();
    let start = Instant::now();
    loop {
        let g = user
            .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
            .await
            .unwrap();
        if g["status"] == "completed" {
            answers.push(g);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "group did not complete: {g}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    for a in &answers {
        assert!(!a.to_string().contains(SENTINEL), "API answer leaks: {a}");
    }
    let mut items = 0;
    for table in [
        &stack.api_config.accounts_table,
        &stack.api_config.jobs_table,
        &stack.api_config.market_data_table,
    ] {
        let mut pages = stack
            .aws
            .dynamodb
            .scan()
            .table_name(table)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.unwrap();
            items += 1;
            assert!(
                !item.values().any(attribute_leaks),
                "table {table} item leaks: {:?}",
                item.get("pk")
            );
        }
    }
    assert!(items > 50, "the tables were searched ({items} items)");
    for queue in [&stack.fetcher_config.jobs_queue_url] {
        let out = stack
            .aws
            .sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        assert!(
            out.messages
                .unwrap_or_default()
                .iter()
                .all(|m| !m.body().unwrap_or_default().contains(SENTINEL))
        );
    }
    let buckets = stack.aws.s3.list_buckets().send().await.unwrap();
    for b in buckets
        .buckets()
        .iter()
        .filter_map(|b| b.name())
        .filter(|n| n.starts_with(&stack.name))
    {
        let objects = stack
            .aws
            .s3
            .list_objects_v2()
            .bucket(b)
            .send()
            .await
            .unwrap();
        for o in objects.contents() {
            let got = stack
                .aws
                .s3
                .get_object()
                .bucket(b)
                .key(o.key().unwrap())
                .send()
                .await
                .unwrap();
            let bytes = got.body.collect().await.unwrap().into_bytes();
            assert!(!contains(&bytes, SENTINEL), "object {b}/{:?}", o.key());
        }
    }
    let logs = logs.0.lock().unwrap().clone();
    assert!(
        contains(&logs, "job completed") && contains(&logs, "credential stored"),
        "logs were captured"
    );
    assert!(!contains(&logs, SENTINEL), "logs leak the sentinel");
    assert!(
        sandbox.stats().requests(SENTINEL) > 0,
        "the sentinel key was really used"
    );
}
