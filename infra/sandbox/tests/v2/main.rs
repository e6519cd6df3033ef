//! In-process tests of the J-Quants V2 imitation, through `tower::ServiceExt::oneshot`.

mod auth;
mod bars_daily;
mod datasets_derivatives;
mod datasets_equities;
mod datasets_fins;
mod datasets_markets;
mod datasets_trading;
mod gating;
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
pub(crate) const STANDARD: &str = "standard-key";
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
            key(STANDARD, Plan::Standard),
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

    /// The keys of the first row, in wire order.
    pub(crate) fn first_keys(&self) -> Vec<String> {
        #[derive(serde::Deserialize)]
        struct Body {
            data: Vec<Ordered>,
        }
        let body: Body = serde_json::from_str(&self.text).expect("a data page");
        body.data
            .into_iter()
            .next()
            .map(|r| r.0)
            .unwrap_or_default()
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
        let joint = if uri.contains('?') { '&' } else { '?' };
        reply = get(app, &format!("{uri}{joint}pagination_key={next}"), key).await;
    }
    (rows, keys)
}

/// A JSON object's keys in document order.
pub(crate) struct Ordered(Vec<String>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(Ordered(keys))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

/// Follows every page with `key`, checking there were at least `min_pages`; returns the rows
/// and the first page (for key order).
pub(crate) async fn pages(
    app: &Router,
    uri: &str,
    key: &str,
    min_pages: usize,
) -> (Vec<Value>, Reply) {
    let first = get(app, uri, key).await;
    assert_eq!(first.status, StatusCode::OK, "{uri}: {}", first.text);
    let (rows, keys) = get_all(app, uri, key).await;
    assert!(
        keys.len() + 1 >= min_pages,
        "{uri}: {} pages",
        keys.len() + 1
    );
    (rows, first)
}

/// Asserts the first row's keys, in order.
pub(crate) fn assert_keys(reply: &Reply, expected: &[&str]) {
    assert_eq!(
        reply.first_keys(),
        expected,
        "{}",
        &reply.text[..reply.text.len().min(400)]
    );
}

/// A string field.
pub(crate) fn s<'a>(row: &'a Value, key: &str) -> &'a str {
    row[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {row}"))
}

/// A number field.
pub(crate) fn n(row: &Value, key: &str) -> f64 {
    row[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {row}"))
}

/// Sets the sandbox clock through the control endpoint.
pub(crate) async fn set_clock(app: &Router, rfc3339: &str) {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/_sandbox/clock")
        .body(Body::from(format!(r#"{{"set": "{rfc3339}"}}"#)))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
}
