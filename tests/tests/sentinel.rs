//! Secret hygiene: the demo flow run with a known sentinel as the user's J-Quants key, every
//! log line captured; then logs, every table item, every queue message, every bucket object and
//! every API answer are searched: the sentinel never appears.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use devstack::client::{ApiClient, add_user, add_v1_and_yahoo, onboard_admin};
use devstack::stack::LocalStack;
use integration_tests::{require_emulator, unique};
use reqwest::Method;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

const SENTINEL: &str = "SENTINEL-4f1d9c-do-not-leak";
const V1_MAIL: &str = "sentinel@example.com";
const V1_PASSWORD: &str = "PASSWORD-77ab3e-do-not-leak";

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

/// The bytes as stored, and decompressed if they are gzip (the raw archive is).
fn readable(bytes: &[u8]) -> Vec<u8> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut out)
            .expect("a gzip object decompresses");
        out
    } else {
        bytes.to_vec()
    }
}

/// The secrets among `secrets` that `hay` holds.
fn found<'a>(hay: &[u8], secrets: &'a [String]) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|s| contains(hay, s))
        .map(String::as_str)
        .collect()
}

fn attribute_bytes(v: &AttributeValue, out: &mut Vec<u8>) {
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => out.extend_from_slice(s.as_bytes()),
        AttributeValue::B(b) => out.extend(readable(b.as_ref())),
        AttributeValue::M(m) => m.values().for_each(|v| attribute_bytes(v, out)),
        AttributeValue::L(l) => l.iter().for_each(|v| attribute_bytes(v, out)),
        AttributeValue::Ss(l) | AttributeValue::Ns(l) => {
            l.iter().for_each(|s| out.extend_from_slice(s.as_bytes()));
        }
        AttributeValue::Bs(l) => l.iter().for_each(|b| out.extend(readable(b.as_ref()))),
        _ => {}
    }
    out.push(b'\n');
}

/// Where the stack's tables, job queue and buckets hold any of `secrets`; and how many
/// table items and bucket objects were searched.
async fn leaks(stack: &LocalStack, secrets: &[String]) -> (Vec<String>, usize, usize) {
    let mut out = Vec::new();
    let mut items = 0;
    for table in [
        &stack.api_config.accounts_table,
        &stack.api_config.jobs_table,
        &stack.api_config.rate_limits_table,
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
            let mut bytes = Vec::new();
            item.values().for_each(|v| attribute_bytes(v, &mut bytes));
            for s in found(&bytes, secrets) {
                out.push(format!("table {table} item {:?}: {s}", item.get("pk")));
            }
        }
    }
    let queued = stack
        .aws
        .sqs
        .receive_message()
        .queue_url(&stack.fetcher_config.jobs_queue_url)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    for m in queued.messages() {
        for s in found(m.body().unwrap_or_default().as_bytes(), secrets) {
            out.push(format!("queued message: {s}"));
        }
    }
    let mut objects = 0;
    let buckets = stack.aws.s3.list_buckets().send().await.unwrap();
    for b in buckets
        .buckets()
        .iter()
        .filter_map(|b| b.name())
        .filter(|n| n.starts_with(&stack.name))
    {
        let mut pages = stack
            .aws
            .s3
            .list_objects_v2()
            .bucket(b)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for o in page.unwrap().contents() {
                let got = stack
                    .aws
                    .s3
                    .get_object()
                    .bucket(b)
                    .key(o.key().unwrap())
                    .send()
                    .await
                    .unwrap();
                let bytes = readable(&got.body.collect().await.unwrap().into_bytes());
                objects += 1;
                for s in found(&bytes, secrets) {
                    out.push(format!("object {b}/{}: {s}", o.key().unwrap_or_default()));
                }
            }
        }
    }
    (out, items, objects)
}

/// Waits until group `id` completes; its last state.
async fn completed(user: &ApiClient, id: &str) -> serde_json::Value {
    let g = user
        .wait_for_group(id, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(g["status"], "completed", "{g}");
    g
}

#[tokio::test]
async fn the_sentinel_secrets_never_appear_anywhere() {
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
    sandbox.add_v1_user(V1_MAIL, V1_PASSWORD, sandbox::Plan::Light);
    let mut stack = LocalStack::start(&unique("s"), Default::default())
        .await
        .unwrap();
    let api = ApiClient::new(&stack.api_url, None);
    let admin = onboard_admin(
        &api,
        &stack.admin_secret().await.unwrap(),
        &sandbox.base_url(),
    )
    .await
    .unwrap();
    add_v1_and_yahoo(&admin, &sandbox.v1_base_url(), &sandbox.yahoo_base_url())
        .await
        .unwrap();
    let user = add_user(&api, &admin, SENTINEL, "light").await.unwrap();
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
    // The V1 account: mail address and password, verified by signing in.
    let v1 = json!({"mail_address": V1_MAIL, "password": V1_PASSWORD, "plan": "light"});
    answers.push(
        user.expect(
            Method::PUT,
            "/v1/credentials/jquants-v1?verify=true",
            Some(&v1),
            200,
        )
        .await
        .unwrap(),
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
    answers.push(completed(&user, group["id"].as_str().unwrap()).await);
    // A V1 group: the fetcher signs in with the password, and seals the tokens it gets back.
    let v1_group = user
        .expect(Method::POST, "/v1/job-groups", Some(&json!({"data_source": "jquants-v1", "endpoint": "prices-daily-quotes",
            "symbols": ["7203", "8697"], "params": {"from": from.to_string(), "to": to.to_string()}})), 202)
        .await
        .unwrap();
    answers.push(completed(&user, v1_group["id"].as_str().unwrap()).await);

    let tokens = sandbox.issued_v1_tokens();
    assert!(tokens.len() >= 2, "a refresh and an id token were issued");
    let secrets: Vec<String> = [SENTINEL.to_owned(), V1_PASSWORD.to_owned()]
        .into_iter()
        .chain(tokens)
        .collect();
    for a in &answers {
        let found = found(a.to_string().as_bytes(), &secrets);
        assert!(found.is_empty(), "API answer leaks {found:?}: {a}");
    }
    let (leaked, items, objects) = leaks(&stack, &secrets).await;
    assert!(leaked.is_empty(), "{leaked:#?}");
    assert!(items > 20, "the tables were searched ({items} items)");
    assert!(objects >= 7, "the archive was searched ({objects} objects)");
    let logs = logs.0.lock().unwrap().clone();
    assert!(
        contains(&logs, "job completed") && contains(&logs, "credential stored"),
        "logs were captured"
    );
    let in_logs = found(&logs, &secrets);
    assert!(in_logs.is_empty(), "logs leak {in_logs:?}");
    assert!(
        sandbox.stats().requests(SENTINEL) > 0,
        "the sentinel key was really used"
    );
}

/// The search can fail: a sentinel written into the (compressed) archive, or into a table, is
/// found where it was put.
#[tokio::test]
async fn the_search_finds_a_sentinel_in_the_compressed_archive() {
    require_emulator();
    let stack = LocalStack::start(&unique("s"), Default::default())
        .await
        .unwrap();
    let secrets = vec![SENTINEL.to_owned()];
    let (clean, _, _) = leaks(&stack, &secrets).await;
    assert!(clean.is_empty(), "{clean:?}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // A page as the archive holds them: rows, and somewhere among them the secret.
    let rows: Vec<String> = (0..200)
        .map(|i| format!("{{\"Code\":\"{}\",\"O\":{i}.5,\"C\":{i}.25}}", 10_000 + i))
        .collect();
    let page = format!(
        "{{\"data\":[{}],\"note\":\"x-api-key: {SENTINEL}\"}}",
        rows.join(",")
    );
    gz.write_all(page.as_bytes()).unwrap();
    let body = gz.finish().unwrap();
    assert!(
        !contains(&body, SENTINEL),
        "compressed, the bytes do not show it"
    );
    stack
        .aws
        .s3
        .put_object()
        .bucket(&stack.fetcher_config.raw_payload_bucket)
        .key("raw/leak.json.gz")
        .body(body.into())
        .send()
        .await
        .unwrap();
    let (leaked, _, objects) = leaks(&stack, &secrets).await;
    assert_eq!(objects, 1);
    assert_eq!(leaked.len(), 1, "{leaked:?}");
    assert!(leaked[0].contains("raw/leak.json.gz"), "{leaked:?}");
}
