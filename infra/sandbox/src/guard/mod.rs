//! What stands between a caller and the data: each provider's credentials (the V2 key table,
//! V1 accounts and tokens, Yahoo cookies and crumbs), rate limits with lockout, and injected
//! faults (hostile answers among them), plus the error responses they produce for each
//! provider.

mod faults;
mod hostile;
mod keys;
mod limiter;
mod v1_accounts;
mod yahoo_sessions;

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub use faults::FaultSpec;
pub(crate) use faults::{Fault, Faults};
pub use hostile::{Hostile, REPEATED_KEY};
pub(crate) use keys::{KeyRegistry, KeySettings};
pub use limiter::Limits;
pub(crate) use limiter::{Limiter, Verdict};
pub(crate) use v1_accounts::Accounts;
pub(crate) use yahoo_sessions::{Sessions, crumb_for};

/// Whose error bodies a response imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    JQuants,
    Yahoo,
}

/// The reference's J-Quants 500 body (V1 and V2).
const UNEXPECTED: &str = "Unexpected error. Please try again later.";
/// Yahoo's plain-text 429 body (reference yahoo-api.md §2.4).
pub(crate) const YAHOO_TOO_MANY: &str = "Too Many Requests\r\n";
const JQUANTS_TOO_MANY: &str = "Too Many Requests. Rate limit exceeded; please wait and retry.";
const LOCKED: &str = "Access is temporarily blocked for about 5 minutes because the rate limit was exceeded repeatedly. Please wait and try again later.";

/// 429 for a J-Quants key over `limit` requests per minute.
pub(crate) fn rate_limited(limit: u32, retry_after: Option<u64>) -> Response {
    let message = format!(
        "Too Many Requests. This API allows {limit} requests per minute for your key; please wait and retry."
    );
    too_many(&message, retry_after)
}

/// 429 during a lockout.
pub(crate) fn locked_out(retry_after: Option<u64>) -> Response {
    too_many(LOCKED, retry_after)
}

fn too_many(message: &str, retry_after: Option<u64>) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({ "message": message })),
    )
        .into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// Draws the caller's next fault and applies it around the rest of the stack. An injected
/// J-Quants 429 carries `retry_after` like a real rate-limit 429 would.
pub(crate) async fn with_faults(
    faults: &Faults,
    retry_after: Option<u64>,
    key: &str,
    flavor: Flavor,
    request: Request,
    next: Next,
) -> Response {
    let (latency, fault) = faults.draw(key);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(hostile) = faults.hostile(key) {
        return hostile::answer(&hostile, flavor, request, next).await;
    }
    match (fault, flavor) {
        (Fault::None, _) => next.run(request).await,
        (Fault::Malformed, _) => cut_in_half(next.run(request).await).await,
        (Fault::Timeout(hold), _) => {
            tokio::time::sleep(hold).await;
            let body = json!({ "message": "Endpoint request timed out" });
            (StatusCode::GATEWAY_TIMEOUT, Json(body)).into_response()
        }
        (Fault::Error, Flavor::JQuants) => {
            let body = json!({ "message": UNEXPECTED });
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
        (Fault::Error, Flavor::Yahoo) => {
            let page = "<html><head><title>Yahoo</title></head><body><p>Will be right back...</p></body></html>";
            let html = [(header::CONTENT_TYPE, "text/html;charset=utf-8")];
            (StatusCode::SERVICE_UNAVAILABLE, html, page).into_response()
        }
        (Fault::TooMany, Flavor::JQuants) => too_many(JQUANTS_TOO_MANY, retry_after),
        (Fault::TooMany, Flavor::Yahoo) => yahoo_too_many(),
    }
}

/// Yahoo's rate-limit answer.
pub(crate) fn yahoo_too_many() -> Response {
    let text = [(header::CONTENT_TYPE, "text/plain;charset=utf-8")];
    (StatusCode::TOO_MANY_REQUESTS, text, YAHOO_TOO_MANY).into_response()
}

/// Keeps the status and headers but only the first half of the body: never valid JSON.
async fn cut_in_half(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    let body = if half.is_empty() {
        Body::from("{")
    } else {
        Body::from(half)
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, body)
}
