//! The real function binaries on the Lambda-shaped runtime (`devstack::runtime`), reached the
//! way production reaches them: the API through API Gateway HTTP API events in the template's
//! stage and in `$default`, the fetcher through the SQS event-source mapping, with the
//! template's timeouts and Lambda's payload limits enforced.

use std::sync::atomic::Ordering;
use std::time::Duration;

use devstack::client::ApiClient;
use devstack::runtime::apigw::HttpApi;
use devstack::runtime::deployed::{Deployed, Options};
use devstack::stack::LocalStack;
use integration_tests::{KEY, World, unique};
use reqwest::Method;
use sandbox::{FaultSpec, Sandbox};
use serde_json::{Value, json};

/// A stack with its functions deployed on the runtime, a sandbox with [`KEY`] on Premium, and
/// an administrator and a user onboarded through the deployed API ([`World::deployed`]).
struct Rig {
    sandbox: Sandbox,
    stack: LocalStack,
    deployed: Deployed,
    admin: ApiClient,
    user: ApiClient,
}

async fn world(page_size: usize, options: Options) -> Rig {
    let World {
        sandbox,
        stack,
        deployed,
        admin,
        user,
        ..
    } = World::deployed(page_size, sandbox::Plan::Premium, options).await;
    Rig {
        sandbox,
        stack,
        deployed: deployed.expect("deployed"),
        admin,
        user,
    }
}

/// A value for a path parameter: a real data source, else an id of the right shape that
/// names nothing.
fn param(name: &str) -> String {
    match name {
        "data_source" => "jquants-v2".into(),
        _ => "grp_0123456789abcdef0123456789abcdef".into(),
    }
}

#[tokio::test]
async fn every_operation_is_routed_in_the_template_stage_and_in_default() {
    // Every part kept alive to the end (`..` would drop the sandbox and the stack here).
    let Rig {
        sandbox: _sandbox,
        stack: _stack,
        deployed,
        admin,
        user,
    } = world(
        100,
        Options {
            without_mapping: true,
            ..Options::default()
        },
    )
    .await;
    assert_eq!(deployed.stage, "v1stage", "the template names a stage");
    assert!(deployed.http.url.ends_with("/v1stage"));
    let default = HttpApi::start(deployed.api.clone(), "$default")
        .await
        .unwrap();
    let staged = ApiClient::new(&deployed.http.url, None);
    let doc = staged
        .expect(Method::GET, "/v1/openapi.json", None, 200)
        .await
        .unwrap();
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for base in [deployed.http.url.as_str(), default.url.as_str()] {
        let user = ApiClient::new(base, user.key());
        let admin = ApiClient::new(base, admin.key());
        for (template, ops) in paths {
            let path = template
                .split('/')
                .map(
                    |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => param(name),
                        None => seg.to_owned(),
                    },
                )
                .collect::<Vec<_>>()
                .join("/");
            for (method, op) in ops.as_object().unwrap() {
                let m: Method = method.to_uppercase().parse().unwrap();
                let caller = if path.starts_with("/v1/admin/") {
                    &admin
                } else {
                    &user
                };
                let body = matches!(m, Method::POST | Method::PUT).then(|| json!({}));
                let r = caller.call(m.clone(), &path, body.as_ref()).await.unwrap();
                let documented: Vec<&String> =
                    op["responses"].as_object().unwrap().keys().collect();
                assert!(
                    documented
                        .iter()
                        .any(|s| s.as_str() == r.status.to_string() || s.as_str() == "default"),
                    "{base}: {method} {path} answered {} (documented: {documented:?}): {}",
                    r.status,
                    r.body
                );
                let detail = r.body["detail"].as_str().unwrap_or_default();
                assert!(
                    !(r.status == 404 && detail.contains("route"))
                        && r.body["message"] != "Not Found",
                    "{base}: {method} {path} was not routed: {}",
                    r.body
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 2 * 25, "only {checked} operations checked");
    // Outside the stage, API Gateway itself answers.
    let outside = ApiClient::new(deployed.http.url.trim_end_matches("/v1stage"), None);
    let r = outside.call(Method::GET, "/v1/health", None).await.unwrap();
    assert_eq!(
        (r.status, r.body["message"].as_str()),
        (404, Some("Not Found"))
    );
}

#[tokio::test]
async fn a_job_longer_than_many_invocations_finishes_from_its_checkpoints() {
    // 84 pages (a row each) of about 1 s, and a fetcher timeout of 12 s of which the last 6
    // are kept as the margin (room for recording the batch on a busy emulator): at least ten
    // invocations' worth of pages.
    let Rig {
        sandbox,
        stack,
        deployed,
        user,
        admin: _admin,
    } = world(
        1,
        Options {
            fetcher_timeout: Some(Duration::from_secs(12)),
            env: vec![("PROVIDER_TIMEOUT_SECS".into(), "3".into())],
            ..Options::default()
        },
    )
    .await;
    sandbox.set_faults(
        KEY,
        FaultSpec {
            latency_ms: 1000,
            seed: Some(7),
            ..FaultSpec::default()
        },
    );
    let g = user
        .expect(
            Method::POST,
            "/v1/job-groups",
            Some(&json!({
                "data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": ["7203"],
                "params": {"from": "2025-09-01", "to": "2025-12-31"},
            })),
            202,
        )
        .await
        .unwrap();
    let id = g["id"].as_str().unwrap().to_owned();
    let done = user
        .wait_for_group(&id, Duration::from_secs(480))
        .await
        .unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    let jobs = user
        .expect(Method::GET, &format!("/v1/job-groups/{id}/jobs"), None, 200)
        .await
        .unwrap();
    let job = &jobs["jobs"][0];
    let days = sandbox::trading_days("2025-09-01".parse().unwrap(), "2025-12-31".parse().unwrap())
        .count() as u64;
    assert_eq!(job["rows"].as_u64(), Some(days), "every row once: {job}");
    assert_eq!(job["retry_count"].as_u64(), Some(0), "{job}");
    let invocations = deployed.fetcher.stats.invocations.load(Ordering::Relaxed);
    eprintln!("checkpointed job: {invocations} fetcher invocations, job {job}");
    assert!(invocations >= 10, "{invocations} invocations");
    assert_eq!(
        deployed.fetcher.stats.timeouts.load(Ordering::Relaxed),
        0,
        "no invocation ran into its deadline"
    );
    let dlq = stack
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(&stack.fetcher_config.dead_letter_queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let in_dlq = dlq
        .attributes
        .unwrap_or_default()
        .get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .cloned();
    assert_eq!(in_dlq.as_deref(), Some("0"));
    let _: Value = done;
}

#[tokio::test]
async fn an_export_of_over_50_mb_leaves_through_a_link_and_inline_hits_the_6_mb_cap() {
    // Pages of 500 rows: storing one stays well inside the margin on a busy emulator.
    let Rig {
        sandbox: _sandbox,
        stack: _stack,
        deployed,
        user,
        ..
    } = world(500, Options::default()).await;
    // Every issue, one job per trading day: about 4,000 rows a day in the Premium form. A
    // big group (about 60 MB of CSV) and a small one (7 days, about 9 MB).
    let mut ids = Vec::new();
    for (from, to) in [("2025-09-01", "2025-11-14"), ("2025-11-17", "2025-11-25")] {
        let g = user
            .expect(
                Method::POST,
                "/v1/job-groups",
                Some(&json!({
                    "data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                    "params": {"from": from, "to": to},
                })),
                202,
            )
            .await
            .unwrap();
        ids.push(g["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let done = user
            .wait_for_group(id, Duration::from_secs(900))
            .await
            .unwrap();
        assert_eq!(done["status"], "completed", "{done}");
    }
    let (id, small) = (ids[0].clone(), ids[1].clone());
    let mut stored = 0u64;
    let mut cursor: Option<String> = None;
    loop {
        let page = user
            .expect(
                Method::GET,
                &format!(
                    "/v1/job-groups/{id}/jobs?limit=100{}",
                    cursor
                        .as_deref()
                        .map(|c| format!("&cursor={c}"))
                        .unwrap_or_default()
                ),
                None,
                200,
            )
            .await
            .unwrap();
        stored += page["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["rows"].as_u64().unwrap())
            .sum::<u64>();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }

    // Inline, the answer is buffered by lambda_http: the small group's (over 6 MB) is refused
    // by Lambda's response cap; the big one's does not even fit the function's 256 MB.
    let small_export = user
        .expect(
            Method::POST,
            &format!("/v1/job-groups/{small}/exports"),
            Some(&json!({"format": "csv"})),
            201,
        )
        .await
        .unwrap();
    let small_bytes = small_export["bytes"].as_u64().unwrap();
    assert!(small_bytes > 6_291_556, "{small_bytes} bytes");
    let refusals = [
        (small.as_str(), "the 6 MB response cap"),
        (id.as_str(), "the cap or the memory size"),
    ];
    for (group, why) in refusals {
        let errors_before = deployed.api.stats.errors.load(Ordering::Relaxed);
        let inline = user
            .call(
                Method::GET,
                &format!("/v1/job-groups/{group}/results?format=csv"),
                None,
            )
            .await
            .unwrap();
        assert_eq!(inline.status, 500, "{why}: {}", inline.body);
        assert_eq!(inline.body["message"], "Internal Server Error");
        assert_eq!(
            deployed.api.stats.errors.load(Ordering::Relaxed),
            errors_before + 1
        );
        let refused = deployed.api.stats.last_error.lock().unwrap().clone();
        eprintln!("inline export of {group}: {refused:?}");
        if group == small {
            assert!(
                matches!(
                    refused,
                    Some(devstack::runtime::InvokeError::ResponseTooLarge)
                ),
                "{refused:?}"
            );
        }
    }

    // Through the CLI's export: written to S3, downloaded from the presigned link.
    let dir = std::env::temp_dir().join(unique("export"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("bars.csv");
    let cli = moomoo_cli::api::Api::new(&moomoo_cli::Config::new(
        &deployed.http.url,
        user.key().unwrap(),
    ))
    .unwrap();
    let dest = moomoo_cli::output::Destination {
        path: Some(out.clone()),
        format: moomoo_cli::args::Format::Csv,
    };
    let rows = moomoo_cli::output::write(&cli, &id, &dest).await.unwrap();
    let bytes = std::fs::metadata(&out).unwrap().len();
    eprintln!("export: {rows} rows, {bytes} bytes of CSV");
    assert!(bytes >= 50 * 1024 * 1024, "{bytes} bytes");
    assert_eq!(rows, stored, "every stored row, once");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        text.lines().count() as u64,
        rows + 1,
        "a header and the rows"
    );
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let (date, code) = (
        header.iter().position(|h| *h == "Date").unwrap(),
        header.iter().position(|h| *h == "Code").unwrap(),
    );
    let mut keys: Vec<(&str, &str)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[date], f[code])
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len() as u64, rows, "no row twice");
    std::fs::remove_dir_all(&dir).unwrap();
}
