//! Injected faults: rates under a seed, bursts of 429, timeouts, latency, per provider.

use std::time::{Duration, Instant};

use axum::Router;
use http::{Method, StatusCode};
use sandbox::YAHOO;

use crate::{LIGHT, admin, app, call, stats, v2};

const CHEAP: &str = "/v2/markets/calendar?from=20250601&to=20250607";

/// (status, body parsed as JSON) of `n` requests.
async fn outcomes(app: &Router, n: usize) -> Vec<(u16, bool)> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let reply = v2(app, CHEAP, LIGHT).await;
        out.push((reply.status.as_u16(), !reply.json.is_null()));
    }
    out
}

async fn set_faults(app: &Router, body: &str) {
    admin(app, "/_sandbox/faults", body).await;
}

#[tokio::test]
async fn faults_hit_at_their_rates_and_repeat_under_a_seed() {
    let spec =
        format!(r#"{{"key": "{LIGHT}", "error_rate": 0.1, "malformed_rate": 0.05, "seed": 42}}"#);
    let first = app();
    set_faults(&first, &spec).await;
    let seen = outcomes(&first, 400).await;
    let errors = seen.iter().filter(|o| o.0 == 500).count();
    let malformed = seen.iter().filter(|o| **o == (200, false)).count();
    assert!((20..=60).contains(&errors), "{errors} errors of 400 at 10%");
    assert!(
        (6..=35).contains(&malformed),
        "{malformed} malformed of 400 at 5%"
    );
    assert_eq!(
        seen.len() - errors - malformed,
        seen.iter().filter(|o| **o == (200, true)).count()
    );
    let again = app();
    set_faults(&again, &spec).await;
    assert_eq!(
        outcomes(&again, 400).await,
        seen,
        "the same seed fails the same requests"
    );
    let other = app();
    set_faults(&other, &spec.replace("42", "43")).await;
    assert_ne!(outcomes(&other, 400).await, seen);

    set_faults(
        &first,
        &format!(r#"{{"key": "{LIGHT}", "error_rate": 1.0}}"#),
    )
    .await;
    let error = v2(&first, CHEAP, LIGHT).await;
    assert_eq!(
        (error.status, error.message()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Unexpected error. Please try again later."
        )
    );
    set_faults(&first, &format!(r#"{{"key": "{LIGHT}"}}"#)).await;
    assert_eq!(
        outcomes(&first, 20).await,
        vec![(200, true); 20],
        "an empty spec clears the faults"
    );
}

#[tokio::test]
async fn a_burst_of_429_comes_first() {
    let app = app();
    set_faults(&app, &format!(r#"{{"key": "{LIGHT}", "burst_429": 3}}"#)).await;
    let statuses: Vec<u16> = outcomes(&app, 5).await.into_iter().map(|o| o.0).collect();
    assert_eq!(statuses, [429, 429, 429, 200, 200]);
    assert_eq!(stats(&app).await["keys"][LIGHT]["too_many_requests"], 3);
}

#[tokio::test]
async fn timeouts_hold_the_request_past_the_client_timeout() {
    let app = app();
    set_faults(
        &app,
        &format!(r#"{{"key": "{LIGHT}", "timeout_rate": 1.0, "timeout_ms": 400, "seed": 1}}"#),
    )
    .await;
    let client_timeout =
        tokio::time::timeout(Duration::from_millis(100), v2(&app, CHEAP, LIGHT)).await;
    assert!(client_timeout.is_err(), "still waiting after 100 ms");
    let started = Instant::now();
    let reply = v2(&app, CHEAP, LIGHT).await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    set_faults(&app, &format!(r#"{{"key": "{LIGHT}", "latency_ms": 150}}"#)).await;
    let started = Instant::now();
    assert_eq!(v2(&app, CHEAP, LIGHT).await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn yahoo_faults_look_like_yahoo() {
    let app = app();
    set_faults(&app, &format!(r#"{{"key": "{YAHOO}", "error_rate": 1.0}}"#)).await;
    let down = call(&app, Method::GET, "/yahoo/v8/finance/chart/7203.T", &[], "").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.text.contains("Will be right back"));
    set_faults(&app, &format!(r#"{{"key": "{YAHOO}", "burst_429": 1}}"#)).await;
    let limited = call(&app, Method::GET, "/yahoo/v8/finance/chart/7203.T", &[], "").await;
    assert_eq!(
        (limited.status, limited.text.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests\r\n")
    );
    let ok = call(&app, Method::GET, "/yahoo/v8/finance/chart/7203.T", &[], "").await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn hostile_answers_replace_the_data_of_their_caller_only() {
    let app = app();
    let redirect =
        r#""hostile": {"kind": "redirect", "status": 307, "location": "http://127.0.0.1:9/steal"}"#;
    set_faults(&app, &format!(r#"{{"key": "{LIGHT}", {redirect}}}"#)).await;
    let moved = v2(&app, CHEAP, LIGHT).await;
    assert_eq!(moved.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(moved.headers["location"], "http://127.0.0.1:9/steal");

    let far = r#""hostile": {"kind": "retry_after", "value": "99999999999"}"#;
    set_faults(&app, &format!(r#"{{"key": "{LIGHT}", {far}}}"#)).await;
    let limited = v2(&app, CHEAP, LIGHT).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers["retry-after"], "99999999999");

    let repeat = r#""hostile": {"kind": "repeated_page_key"}"#;
    set_faults(&app, &format!(r#"{{"key": "{LIGHT}", {repeat}}}"#)).await;
    let first = v2(&app, CHEAP, LIGHT).await;
    assert_eq!(first.json["pagination_key"], sandbox::REPEATED_KEY);
    let again = v2(
        &app,
        &format!("{CHEAP}&pagination_key={}", sandbox::REPEATED_KEY),
        LIGHT,
    )
    .await;
    assert_eq!(
        again.json, first.json,
        "the first page, naming the same key"
    );

    set_faults(&app, &format!(r#"{{"key": "{YAHOO}", {far}}}"#)).await;
    let yahoo = call(&app, Method::GET, "/yahoo/v8/finance/chart/7203.T", &[], "").await;
    assert_eq!(yahoo.text, "Too Many Requests\r\n");
    assert_eq!(yahoo.headers["retry-after"], "99999999999");
    set_faults(&app, &format!(r#"{{"key": "{LIGHT}"}}"#)).await;
    assert!(v2(&app, CHEAP, LIGHT).await.json["data"].is_array());
}
