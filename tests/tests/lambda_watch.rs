//! The functions as Lambda runs them: `cargo lambda watch` serves the real binaries, wired to
//! a stack provisioned from `template.yaml` in the emulator and to the sandbox. The API is
//! called through its function URL path, the fetcher through the Lambda Invoke API with the
//! committed SQS event fixture carrying messages received from the queue, the scheduler with
//! the committed EventBridge fixture; the group completes.

use std::time::Duration;

use devstack::client::{ApiClient, add_user, onboard_admin};
use devstack::lambda::{Watch, root, write_env_file};
use devstack::stack::LocalStack;
use integration_tests::{KEY, require_emulator, unique};
use reqwest::Method;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = root().join("infra/local/events").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn functions_under_cargo_lambda_watch_complete_a_group() {
    require_emulator();
    integration_tests::capture_logs();
    let sandbox = Sandbox::start(SandboxConfig {
        keys: vec![format!("{KEY}:light").parse().unwrap()],
        page_size: 100,
        today: None,
    })
    .await;
    let stack = LocalStack::start(&unique("cl"), Default::default())
        .await
        .unwrap();
    let env_file = root().join(format!("target/lambda-watch/{}.env", stack.name));
    write_env_file(
        &env_file,
        &stack.provisioned.function_env,
        &["ApiFunction", "FetcherFunction", "SchedulerFunction"],
    )
    .unwrap();
    let mut watch = Watch::spawn(free_port(), &env_file).unwrap();
    // The first request builds the function binaries.
    watch.wait_for_api(Duration::from_secs(1200)).await.unwrap();

    let api = ApiClient::new(&watch.api_url(), None);
    let secret = stack.admin_secret().await.unwrap();
    let admin = onboard_admin(&api, &secret, &sandbox.base_url())
        .await
        .unwrap();
    let user = add_user(&api, &admin, KEY, "light").await.unwrap();
    let today = chrono::Utc::now().date_naive();
    let g = user
        .expect(
            Method::POST,
            "/v1/job-groups",
            Some(&json!({
                "data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": ["7203", "6758"],
                "params": {"from": (today - chrono::Days::new(60)).to_string(),
                           "to": (today - chrono::Days::new(45)).to_string()},
            })),
            202,
        )
        .await
        .unwrap();
    let id = g["id"].as_str().unwrap().to_owned();

    // The event-source mapping, by hand: each received message goes to the fetcher in the
    // committed SQS event, through the Invoke API.
    let sqs = &stack.aws.sqs;
    let queue = &stack.fetcher_config.jobs_queue_url;
    let mut invocations = 0;
    for _ in 0..30 {
        let view = user
            .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
            .await
            .unwrap();
        if view["status"] == "completed" {
            break;
        }
        let out = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(1)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            let mut event = fixture("fetcher-sqs.json");
            let record = &mut event["Records"][0];
            record["body"] = json!(m.body().unwrap());
            record["receiptHandle"] = json!(m.receipt_handle().unwrap());
            record["messageId"] = json!(m.message_id().unwrap());
            let answer = watch.invoke("fetcher", &event).await.unwrap();
            invocations += 1;
            assert_eq!(
                answer["batchItemFailures"],
                json!([]),
                "the fetcher handled the message"
            );
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    let view = user
        .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
        .await
        .unwrap();
    assert_eq!(view["status"], "completed", "{view}");
    assert_eq!(view["completed_jobs"], 2);
    assert!(invocations >= 3, "a fan-out and two jobs: {invocations}");

    // The scheduler's tick, from its committed EventBridge event: nothing is due.
    let tick = watch
        .invoke("scheduler", &fixture("scheduler-tick.json"))
        .await
        .unwrap();
    assert_eq!(tick["groups_created"], 0, "{tick}");
    assert_eq!(tick["requeued"], 0, "{tick}");
    drop(watch);
}
