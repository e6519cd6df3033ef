//! In-process tests of J-Quants V1, Yahoo, rate limits, faults, the clock and the request
//! log, through `tower::ServiceExt::oneshot`.

mod faults;
mod limits;
mod v1;
mod yahoo;

use axum::Router;
use axum::body::{Body, to_bytes};
use chrono::NaiveDate;
use http::{HeaderMap, Method, Request, StatusCode};
use sandbox::{ApiKeySpec, Limits, Plan, SandboxConfig};
use serde_json::Value;
use tower::ServiceExt as _;

pub(crate) const LIGHT: &str = "light-key";
pub(crate) const TODAY: &str = "2026-11-20";

pub(crate) fn config() -> SandboxConfig {
    paged(1000)
}

pub(crate) fn paged(page_size: usize) -> SandboxConfig {
    SandboxConfig {
        keys: vec![ApiKeySpec {
            key: LIGHT.to_owned(),
            plan: Plan::Light,
        }],
        page_size,
        today: NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").ok(),
    }
}

pub(crate) fn app() -> Router {
    sandbox::router(config())
}

pub(crate) fn app_with(limits: Limits) -> Router {
    sandbox::router_with(config(), limits)
}

/// A response: status, headers, body text and the body parsed as JSON (`Null` if it is not).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
    pub(crate) json: Value,
}

impl Reply {
    pub(crate) fn message(&self) -> &str {
        self.json["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message in {}", self.text))
    }
}

/// Sends a request with the given headers and body.
pub(crate) async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Body::from(body.to_owned())).expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        text,
        json,
    }
}

/// A V2 GET with an API key.
pub(crate) async fn v2(app: &Router, uri: &str, key: &str) -> Reply {
    call(app, Method::GET, uri, &[("x-api-key", key)], "").await
}

/// A POST of JSON to a control endpoint; asserts it succeeded.
pub(crate) async fn admin(app: &Router, path: &str, body: &str) -> Reply {
    let reply = call(app, Method::POST, path, &[], body).await;
    assert!(
        reply.status.is_success(),
        "{path}: {} {}",
        reply.status,
        reply.text
    );
    reply
}

/// `GET /_sandbox/stats`.
pub(crate) async fn stats(app: &Router) -> Value {
    call(app, Method::GET, "/_sandbox/stats", &[], "")
        .await
        .json
}

pub(crate) fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}
