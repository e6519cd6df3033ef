//! `make lambda-watch`'s set-up: `cargo lambda watch` serves the real binaries, wired to a
//! stack provisioned from `template.yaml` in the emulator and to the sandbox. The API is called
//! through its function URL path; the queue feeds the fetcher by itself through the SQS mapping
//! (invoking it through the Lambda Invoke API) and the group completes; the `cargo lambda
//! invoke` commands `devstack lambda-watch` prints run as printed with the committed events.

use std::time::Duration;

use devstack::client::{ApiClient, add_user, onboard_admin};
use devstack::lambda::{Watch, invoke_commands, root, write_env_file};
use devstack::runtime::sqs::{Mapping, MappingConfig};
use devstack::stack::LocalStack;
use integration_tests::{KEY, require_emulator, unique};
use reqwest::Method;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

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
    let port = free_port();
    let mut watch = Watch::spawn(port, &env_file).unwrap();
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

    // The queue feeds the fetcher by itself, through the SQS mapping as the template
    // configures it, invoking the function under cargo lambda watch.
    let template =
        devstack::template::Template::load(&devstack::provision::template_path()).unwrap();
    let mapping = Mapping::start(
        stack.aws.sqs.clone(),
        &stack.fetcher_config.jobs_queue_url,
        watch.target("fetcher"),
        MappingConfig::from_template(&template, "FetcherFunction").unwrap(),
    )
    .await
    .unwrap();
    let view = user
        .wait_for_group(&id, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(view["status"], "completed", "{view}");
    assert_eq!(view["completed_jobs"], 2);
    let batches = mapping
        .stats
        .batches
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(batches >= 2, "a fan-out and the jobs: {batches} batches");

    // The commands `devstack lambda-watch` prints, run as printed with the committed events:
    // the fetcher's names no stored job (dead-lettered, the batch succeeds), the scheduler's
    // tick finds nothing due.
    for (command, answer) in invoke_commands(port)
        .iter()
        .zip(["batchItemFailures", "groups_created"])
    {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(command)
            .current_dir(root())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(answer),
            "{command}: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    drop(watch);
}
