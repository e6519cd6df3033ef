//! A hostile provider against the real `fetcher` binary on the Lambda-shaped runtime (fed by
//! the SQS mapping, the template's `MemorySize` enforced): the sandbox answers each user's
//! key with one hostile answer (a redirect to another host and to a plain-http URL,
//! `Retry-After: 99999999999`, a 2 GiB gzip bomb, a 100 MB body, a pagination key that never
//! changes, a body dripping past the timeout; a gzip bomb on Yahoo too). Every job must end
//! with a message that says what happened (the Retry-After one too: no limit lasts that long), the key
//! must never reach the other host, no fetcher may panic or be killed, its peak memory stays
//! under the function's memory size, and it goes on serving ordinary jobs.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Days, Utc};
use devstack::client::{ApiClient, add_user};
use devstack::runtime::deployed::Options;
use integration_tests::World;
use reqwest::Method;
use sandbox::{FaultSpec, Hostile, Plan, REPEATED_KEY, YAHOO};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Seconds a provider request may take, body included.
const TIMEOUT_SECS: &str = "3";

/// Another host: a loopback listener that keeps the head of every request it gets.
struct Catcher {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Catcher {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&heads);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let kept = Arc::clone(&kept);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    kept.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                    let body = r#"{"data":[]}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self { url, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// One hostile case: the user's key, the answer, and what the job's message must say.
struct Case {
    name: &'static str,
    hostile: Hostile,
    expect: String,
}

fn window() -> (String, String) {
    let today = Utc::now().date_naive();
    (
        (today - Days::new(40)).to_string(),
        (today - Days::new(30)).to_string(),
    )
}

async fn group(user: &ApiClient, source: &str, endpoint: &str) -> String {
    let (from, to) = window();
    let g = user
        .expect(
            Method::POST,
            "/v1/job-groups",
            Some(&json!({
                "data_source": source, "endpoint": endpoint, "symbols": ["7203"],
                "params": {"from": from, "to": to},
            })),
            202,
        )
        .await
        .unwrap();
    g["id"].as_str().unwrap().to_owned()
}

async fn only_job(user: &ApiClient, id: &str) -> Value {
    let jobs = user
        .expect(Method::GET, &format!("/v1/job-groups/{id}/jobs"), None, 200)
        .await
        .unwrap();
    jobs["jobs"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_provider_gets_no_key_crashes_no_fetcher_and_every_job_says_why() {
    let w = World::deployed(
        100,
        Plan::Premium,
        Options {
            env: vec![
                ("PROVIDER_TIMEOUT_SECS".into(), TIMEOUT_SECS.into()),
                // The slow drip times out on every attempt: two are enough to show it.
                ("MAX_ATTEMPTS".into(), "2".into()),
            ],
            ..Options::default()
        },
    )
    .await;
    let deployed = w.deployed.as_ref().expect("deployed");
    let catcher = Catcher::start().await;

    // A data source over plain http to another machine is refused before anything is stored.
    let refused = w
        .admin
        .call(
            Method::PUT,
            "/v1/admin/data-sources/jquants-plain",
            Some(&json!({
                "name": "plain", "description": "over http", "provider_type": "jquants",
                "is_enabled": true, "base_url": "http://api.jquants.com.example/v2",
                "api_version": "v2", "rate_limit_per_minute": 500,
                "rate_limit_per_hour": 30000, "rate_limit_per_day": 720000,
            })),
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 400, "{}", refused.body);
    let detail = refused.body.to_string();
    assert!(detail.contains("must use https"), "{detail}");

    let plain_http = "http://api.jquants.com.example/v2/equities/bars/daily";
    let cases = [
        Case {
            name: "redirect-host",
            hostile: Hostile::Redirect {
                status: 307,
                location: format!("{}/steal?from=sandbox", catcher.url),
            },
            expect: format!("HTTP 307 redirecting to `{}/steal`", catcher.url),
        },
        Case {
            name: "redirect-http",
            hostile: Hostile::Redirect {
                status: 301,
                location: plain_http.into(),
            },
            expect: format!("HTTP 301 redirecting to `{plain_http}`"),
        },
        Case {
            name: "gzip-bomb",
            hostile: Hostile::GzipBomb { bytes: 2 << 30 },
            expect: "larger than the 32 MiB cap".into(),
        },
        Case {
            name: "huge-body",
            hostile: Hostile::HugeBody { bytes: 100_000_000 },
            expect: "larger than the 32 MiB cap".into(),
        },
        Case {
            name: "repeated-key",
            hostile: Hostile::RepeatedPageKey,
            expect: format!("pagination key `{REPEATED_KEY}` a second time"),
        },
        Case {
            name: "slow-drip",
            hostile: Hostile::SlowDrip {
                bytes_per_sec: 4,
                secs: 120,
            },
            expect: "provider unavailable: request timed out (gave up after 2 attempts)".into(),
        },
    ];

    // The control: a client following redirects (reqwest's default) carries the key to the
    // other host, so the catcher would see a leak.
    let sandbox_key = |name: &str| format!("hostile-{name}");
    let redirect = &cases[0];
    w.sandbox
        .add_key(&sandbox_key(redirect.name), Plan::Premium, false);
    w.sandbox.set_faults(
        &sandbox_key(redirect.name),
        FaultSpec {
            hostile: Some(redirect.hostile.clone()),
            ..FaultSpec::default()
        },
    );
    let followed = reqwest::Client::new()
        .get(format!(
            "{}/equities/bars/daily?code=72030",
            w.sandbox.base_url()
        ))
        .header("x-api-key", sandbox_key(redirect.name))
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), 200);
    let leaked = catcher.heads();
    assert_eq!(leaked.len(), 1);
    assert!(
        leaked[0].contains(&sandbox_key(redirect.name)),
        "the control leaks the key: {}",
        leaked[0]
    );

    let mut started = Vec::new();
    for case in &cases {
        let key = sandbox_key(case.name);
        w.sandbox.add_key(&key, Plan::Premium, false);
        w.sandbox.set_faults(
            &key,
            FaultSpec {
                hostile: Some(case.hostile.clone()),
                ..FaultSpec::default()
            },
        );
        let user = add_user(&w.api, &w.admin, &key, "premium").await.unwrap();
        let id = group(&user, "jquants-v2", "eq-bars-daily").await;
        started.push((case, user, id));
    }
    // Yahoo's chart is capped lower, at 8 MiB.
    w.sandbox.set_faults(
        YAHOO,
        FaultSpec {
            hostile: Some(Hostile::GzipBomb { bytes: 2 << 30 }),
            ..FaultSpec::default()
        },
    );
    let yahoo = group(&w.user, "yahoo", "chart").await;
    // The far Retry-After: nothing overflows, and the job ends (below).
    let far_key = sandbox_key("retry-after");
    w.sandbox.add_key(&far_key, Plan::Premium, false);
    w.sandbox.set_faults(
        &far_key,
        FaultSpec {
            hostile: Some(Hostile::RetryAfter {
                value: "99999999999".into(),
            }),
            ..FaultSpec::default()
        },
    );
    let far_user = add_user(&w.api, &w.admin, &far_key, "premium")
        .await
        .unwrap();
    let far = group(&far_user, "jquants-v2", "eq-bars-daily").await;

    for (case, user, id) in &started {
        let done = user
            .wait_for_group(id, Duration::from_secs(300))
            .await
            .unwrap();
        let job = only_job(user, id).await;
        let message = job["error_message"].as_str().unwrap_or_default();
        eprintln!("{}: {message}", case.name);
        assert_eq!(done["status"], "failed", "{}: {done}", case.name);
        assert!(
            message.contains(&case.expect),
            "{}: {message:?} should say {:?}",
            case.name,
            case.expect
        );
    }
    let done = w
        .user
        .wait_for_group(&yahoo, Duration::from_secs(300))
        .await
        .unwrap();
    let message = only_job(&w.user, &yahoo).await["error_message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    eprintln!("yahoo-gzip-bomb: {message}");
    assert_eq!(done["status"], "failed", "{done}");
    assert!(message.contains("larger than the 8 MiB cap"), "{message}");

    // The far Retry-After: no rate limit lasts that long; the job fails saying so, and the
    // account pauses an hour at most.
    let done = far_user
        .wait_for_group(&far, Duration::from_secs(300))
        .await
        .unwrap();
    let job = only_job(&far_user, &far).await;
    let message = job["error_message"].as_str().unwrap_or_default();
    eprintln!("retry-after 99999999999: {message}");
    assert_eq!(done["status"], "failed", "{done}");
    assert!(message.contains("more than an hour"), "{message}");
    let rate = &far_user
        .expect(Method::GET, "/v1/credentials/jquants-v2", None, 200)
        .await
        .unwrap()["rate"];
    let until: DateTime<Utc> = rate["paused_until"].as_str().unwrap().parse().unwrap();
    assert!(
        until - Utc::now() <= chrono::TimeDelta::hours(1),
        "an hour at most: {rate}"
    );

    assert_eq!(
        catcher.heads().len(),
        1,
        "only the control reached the other host: {:?}",
        catcher.heads()
    );

    // The fetcher goes on serving: an ordinary group completes.
    w.sandbox.set_faults(YAHOO, FaultSpec::default());
    let ordinary = group(&w.user, "jquants-v2", "eq-bars-daily").await;
    let done = w
        .user
        .wait_for_group(&ordinary, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(done["status"], "completed", "{done}");

    let fetcher = &deployed.fetcher;
    let peak = fetcher.stats.max_memory_mb.load(Ordering::Relaxed);
    let memory_size = fetcher.config().memory_mb;
    eprintln!(
        "fetcher: peak RSS {peak} MB of MemorySize {memory_size} MB, {} invocations, {} cold starts",
        fetcher.stats.invocations.load(Ordering::Relaxed),
        fetcher.stats.cold_starts.load(Ordering::Relaxed)
    );
    assert!(peak > 0, "the peak was measured");
    assert!(peak < memory_size, "{peak} MB of {memory_size} MB");
    let last = fetcher.stats.last_error.lock().unwrap().clone();
    assert_eq!(
        fetcher.stats.errors.load(Ordering::Relaxed),
        0,
        "no invocation panicked, ran out of memory or timed out: {last:?}"
    );
    let log = std::fs::read_to_string(&fetcher.config().log).unwrap_or_default();
    assert!(!log.contains("panicked"), "a fetcher panicked");
}
