//! In-process tests of the J-Quants V2 imitation, through `tower::ServiceExt::oneshot`.

mod auth;
mod bars_daily;
mod handle;
mod pagination;
mod windows;

use axum::Router;
use axum::body::{Body, to_bytes};
use chrono::NaiveDate;
use http::{Method, Request, StatusCode};
use sandbox::{ApiKeySpec, Plan, SandboxConfig};
use serde_json::Value;
use tower::ServiceExt as _;

pub(crate) const FREE: &str = "free-key";
pub(crate) const LIGHT: &str = "light-key";
pub(crate) const PREMIUM: &str = "premium-key";
pub(crate) const TODAY: &str = "2026-11-20";

pub(crate) fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

pub(crate) fn config(page_size: usize) -> SandboxConfig {
    let key = |key: &str, plan| ApiKeySpec {
        key: key.to_owned(),
        plan,
    };
    SandboxConfig {
        keys: vec![
            key(FREE, Plan::Free),
            key(LIGHT, Plan::Light),
            key(PREMIUM, Plan::Premium),
        ],
        page_size,
        today: Some(day(TODAY)),
    }
}

pub(crate) fn app(page_size: usize) -> Router {
    sandbox::router(config(page_size))
}

/// A response: status, parsed JSON body and the raw text.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) json: Value,
    pub(crate) text: String,
}

impl Reply {
    pub(crate) fn message(&self) -> &str {
        self.json["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message in {}", self.text))
    }

    pub(crate) fn data(&self) -> &Vec<Value> {
        self.json["data"]
            .as_array()
            .unwrap_or_else(|| panic!("no data in {}", self.text))
    }

    pub(crate) fn page_key(&self) -> Option<&str> {
        self.json
            .get("pagination_key")
            .map(|k| k.as_str().expect("string key"))
    }
}

pub(crate) async fn send(app: &Router, method: Method, uri: &str, key: Option<&str>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let request = request.body(Body::empty()).expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, json, text }
}

pub(crate) async fn get(app: &Router, uri: &str, key: &str) -> Reply {
    send(app, Method::GET, uri, Some(key)).await
}

/// Follows `pagination_key` to the end; returns every row and every key seen.
pub(crate) async fn get_all(app: &Router, uri: &str, key: &str) -> (Vec<Value>, Vec<String>) {
    let (mut rows, mut keys) = (Vec::new(), Vec::new());
    let mut reply = get(app, uri, key).await;
    loop {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        rows.extend(reply.data().iter().cloned());
        let Some(next) = reply.page_key().map(str::to_owned) else {
            break;
        };
        keys.push(next.clone());
        reply = get(app, &format!("{uri}&pagination_key={next}"), key).await;
    }
    (rows, keys)
}
