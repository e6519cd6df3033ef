//! Per-plan rate limits over a sliding minute, the fins bucket, lockout, Retry-After, and the
//! request log's window statistics; the `Sandbox` handle's controls.

use std::time::Duration;

use http::{Method, StatusCode, header};
use sandbox::{Limits, Plan, Sandbox};
use serde_json::Value;

use crate::{LIGHT, admin, app, app_with, call, config, stats, v2};

const BARS: &str = "/v2/equities/bars/daily?code=7203&date=20250602";

async fn add_key(app: &axum::Router, key: &str, plan: &str) {
    admin(
        app,
        "/_sandbox/keys",
        &format!(r#"{{"key": "{key}", "plan": "{plan}"}}"#),
    )
    .await;
}

#[tokio::test]
async fn the_sixth_request_in_a_minute_on_free_gets_429() {
    let app = app();
    add_key(&app, "free-rl", "free").await;
    for i in 0..5 {
        assert_eq!(
            v2(&app, BARS, "free-rl").await.status,
            StatusCode::OK,
            "request {i}"
        );
    }
    let limited = v2(&app, BARS, "free-rl").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        limited.message().contains("5 requests per minute"),
        "{}",
        limited.text
    );
    assert!(
        limited.headers.get(header::RETRY_AFTER).is_none(),
        "absent by default"
    );
    let log = stats(&app).await;
    let key = &log["keys"]["free-rl"];
    assert_eq!(
        (key["requests"].as_u64(), key["too_many_requests"].as_u64()),
        (Some(6), Some(1))
    );
    assert_eq!(key["max_per_60s"], 6);
    let per_minute: u64 = key["per_minute"]
        .as_object()
        .expect("histogram")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(per_minute, 6);
    assert!(
        key["per_minute"]
            .as_object()
            .is_some_and(|m| m.keys().all(|k| k.starts_with("2026-11-20T09:0")))
    );
    admin(&app, "/_sandbox/clock", r#"{"advance_secs": 61}"#).await;
    assert_eq!(
        v2(&app, BARS, "free-rl").await.status,
        StatusCode::OK,
        "the window slid"
    );
}

#[tokio::test]
async fn configured_keys_are_unlimited_unless_asked() {
    let app = app();
    for _ in 0..70 {
        assert_eq!(v2(&app, BARS, LIGHT).await.status, StatusCode::OK);
    }
    let limited = app_with(Limits {
        rate_limit_config_keys: true,
        retry_after_secs: Some(30),
        ..Limits::default()
    });
    for _ in 0..60 {
        assert_eq!(v2(&limited, BARS, LIGHT).await.status, StatusCode::OK);
    }
    let refused = v2(&limited, BARS, LIGHT).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers[header::RETRY_AFTER], "30");
    let unlimited = r#"{"key": "free-off", "plan": "free", "rate_limit": false}"#;
    admin(&app, "/_sandbox/keys", unlimited).await;
    for _ in 0..8 {
        assert_eq!(v2(&app, BARS, "free-off").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn fins_summary_has_its_own_sixty_a_minute() {
    let app = app();
    add_key(&app, "premium-rl", "premium").await;
    let summary = "/v2/fins/summary?code=7203&date=20240510";
    for _ in 0..60 {
        assert_eq!(v2(&app, summary, "premium-rl").await.status, StatusCode::OK);
    }
    assert_eq!(
        v2(&app, summary, "premium-rl").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        v2(&app, BARS, "premium-rl").await.status,
        StatusCode::OK,
        "the plan allows 500"
    );
}

#[tokio::test]
async fn sustained_abuse_locks_the_key_out() {
    let app = app();
    admin(&app, "/_sandbox/limits", r#"{"lockout_after": 2}"#).await;
    add_key(&app, "abuser", "free").await;
    let statuses: Vec<u16> = {
        let mut out = Vec::new();
        for _ in 0..8 {
            out.push(v2(&app, BARS, "abuser").await.status.as_u16());
        }
        out
    };
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    admin(&app, "/_sandbox/clock", r#"{"advance_secs": 61}"#).await;
    let locked = v2(&app, BARS, "abuser").await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "still locked after a minute"
    );
    assert!(locked.message().contains("5 minutes"), "{}", locked.text);
    admin(&app, "/_sandbox/clock", r#"{"advance_secs": 240}"#).await;
    assert_eq!(
        v2(&app, BARS, "abuser").await.status,
        StatusCode::OK,
        "free again after 5 minutes"
    );
    let other = v2(&app, BARS, LIGHT).await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "other keys were never affected"
    );
}

#[tokio::test]
async fn without_the_attempts_rule_a_lockout_needs_more_than_ten_refusals() {
    let app = app();
    admin(&app, "/_sandbox/limits", r#"{"lockout_factor": null}"#).await;
    add_key(&app, "abuser", "free").await;
    for _ in 0..15 {
        v2(&app, BARS, "abuser").await;
    }
    admin(&app, "/_sandbox/clock", r#"{"advance_secs": 61}"#).await;
    assert_eq!(
        v2(&app, BARS, "abuser").await.status,
        StatusCode::OK,
        "10 refusals: no lockout"
    );
    for _ in 0..16 {
        v2(&app, BARS, "abuser").await;
    }
    admin(&app, "/_sandbox/clock", r#"{"advance_secs": 61}"#).await;
    assert_eq!(
        v2(&app, BARS, "abuser").await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "11: locked"
    );
}

#[tokio::test]
async fn the_handle_controls_keys_clock_and_limits() {
    let sandbox = Sandbox::start_with(
        config(),
        Limits {
            lockout_secs: 60,
            ..Limits::default()
        },
    )
    .await;
    assert_eq!(
        sandbox.yahoo_base_url(),
        format!("http://{}/yahoo", sandbox.addr())
    );
    assert_eq!(
        sandbox.v1_base_url(),
        format!("http://{}/v1", sandbox.addr())
    );
    assert_eq!(sandbox.limits().lockout_secs, 60);
    assert_eq!(sandbox.today().to_string(), crate::TODAY);
    let before = sandbox.now();
    sandbox.advance_clock(Duration::from_secs(7 * 3600));
    assert!((sandbox.now() - before).num_hours() >= 7);
    assert_eq!(sandbox.today().to_string(), "2026-11-21");
    sandbox.add_key("added", Plan::Free, true);
    assert!(sandbox.set_rate_limit("added", false));
    assert!(!sandbox.set_rate_limit("unknown", true));
    sandbox.set_limits(Limits {
        yahoo_per_minute: None,
        ..sandbox.limits()
    });
    assert_eq!(sandbox.limits().yahoo_per_minute, None);
    let response = raw_get(sandbox.addr(), BARS, "added").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert_eq!(sandbox.stats().requests("added"), 1);
}

/// A bare HTTP/1.1 GET over a blocking socket.
async fn raw_get(addr: std::net::SocketAddr, path: &str, key: &str) -> String {
    use std::io::{Read as _, Write as _};
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: sandbox\r\nx-api-key: {key}\r\nConnection: close\r\n\r\n"
    );
    let exchange = move || {
        let mut stream = std::net::TcpStream::connect(addr)?;
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        std::io::Result::Ok(response)
    };
    tokio::task::spawn_blocking(exchange)
        .await
        .expect("join")
        .expect("exchange")
}

#[tokio::test]
async fn a_key_s_real_limit_and_an_outside_consumer_can_change_mid_run() {
    let app = app();
    add_key(&app, "shared-key", "light").await;
    admin(
        &app,
        "/_sandbox/keys/shared-key",
        r#"{"limit_per_minute": 2}"#,
    )
    .await;
    assert_eq!(v2(&app, BARS, "shared-key").await.status, StatusCode::OK);
    assert_eq!(v2(&app, BARS, "shared-key").await.status, StatusCode::OK);
    let refused = v2(&app, BARS, "shared-key").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.message().contains("2 requests per minute"),
        "{}",
        refused.text
    );
    admin(&app, "/_sandbox/clock", r#"{"advance_secs": 61}"#).await;
    // Back to the plan's 60, shared with another consumer sending 30 a minute (as if for a
    // minute already): 30 places left.
    admin(
        &app,
        "/_sandbox/keys/shared-key",
        r#"{"limit_per_minute": 0, "outside_per_minute": 30}"#,
    )
    .await;
    let mut ours = 0;
    while v2(&app, BARS, "shared-key").await.status == StatusCode::OK {
        ours += 1;
    }
    assert_eq!(ours, 30, "the outside consumer's 30 hold their places");
    let unknown = call(
        &app,
        Method::POST,
        "/_sandbox/keys/nobody",
        &[],
        r#"{"outside_per_minute": 1}"#,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
