//! The `/_sandbox/*` control endpoints tests and demos use to steer a running sandbox: the
//! request log, the clock, keys, V1 users, faults, limits and Yahoo sessions. Not part of any
//! provider's API.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::config::Plan;
use crate::guard::{FaultSpec, KeySettings, Limits};
use crate::state::Shared;
use crate::stats::Stats;

/// The `/_sandbox` router (to be nested at `/_sandbox`).
pub(crate) fn router(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route("/stats", get(show_stats).delete(reset_stats))
        .route("/clock", get(show_clock).post(move_clock))
        .route("/keys", post(add_key))
        .route("/keys/{key}", post(change_key))
        .route("/v1-users", post(add_v1_user))
        .route("/faults", post(set_faults))
        .route("/limits", get(show_limits).post(set_limits))
        .route("/yahoo-sessions", delete(expire_yahoo_sessions))
        .with_state(Arc::clone(shared))
}

fn bad_request(message: impl Into<String>) -> Response {
    let message: String = message.into();
    (StatusCode::BAD_REQUEST, Json(json!({ "message": message }))).into_response()
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| Box::new(bad_request(format!("invalid body: {e}"))))
}

/// `GET /_sandbox/stats`: a snapshot of the request log.
async fn show_stats(State(shared): State<Arc<Shared>>) -> Json<Stats> {
    Json(shared.log.snapshot())
}

async fn reset_stats(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.log.reset();
    StatusCode::NO_CONTENT
}

fn clock_body(shared: &Shared) -> Response {
    let now = shared.clock.now();
    Json(json!({ "now": now.to_rfc3339(), "today": shared.clock.today().to_string() }))
        .into_response()
}

async fn show_clock(State(shared): State<Arc<Shared>>) -> Response {
    clock_body(&shared)
}

#[derive(Debug, Deserialize)]
struct ClockChange {
    advance_secs: Option<i64>,
    set: Option<DateTime<Utc>>,
}

/// `{"advance_secs": N}` moves the clock forward N seconds; `{"set": RFC 3339}` sets it.
async fn move_clock(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let change: ClockChange = match parse(&body) {
        Ok(change) => change,
        Err(response) => return *response,
    };
    match change {
        ClockChange { set: Some(at), .. } => shared.clock.set(at),
        ClockChange {
            advance_secs: Some(secs),
            ..
        } => shared.clock.advance(TimeDelta::seconds(secs)),
        _ => return bad_request("send {\"advance_secs\": N} or {\"set\": \"<RFC 3339 time>\"}"),
    }
    clock_body(&shared)
}

#[derive(Debug, Deserialize)]
struct NewKey {
    key: String,
    plan: String,
    #[serde(default = "yes")]
    rate_limit: bool,
    minute_addon: Option<bool>,
}

fn yes() -> bool {
    true
}

/// Adds (or replaces) a V2 key; rate limiting is on unless `"rate_limit": false`.
async fn add_key(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let new: NewKey = match parse(&body) {
        Ok(new) => new,
        Err(response) => return *response,
    };
    let plan: Plan = match new.plan.parse() {
        Ok(plan) => plan,
        Err(e) => return bad_request(e.to_string()),
    };
    let mut settings = KeySettings::new(plan, new.rate_limit);
    if let Some(addon) = new.minute_addon {
        settings.minute_addon = addon;
    }
    shared.keys.insert(&new.key, settings);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyChange {
    rate_limit: Option<bool>,
    /// The key's own per-minute limit; `0` restores the plan's.
    limit_per_minute: Option<u32>,
    outside_per_minute: Option<u32>,
}

/// Changes a key while the sandbox runs: `{"limit_per_minute": 30}` (its real limit, `0`:
/// the plan's), `{"outside_per_minute": 30}` (another consumer of the key), `{"rate_limit":
/// false}`. 404 for an unknown key.
async fn change_key(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(key): axum::extract::Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let change: KeyChange = match parse(&body) {
        Ok(change) => change,
        Err(response) => return *response,
    };
    let known = shared.keys.update(&key, |k| {
        if let Some(on) = change.rate_limit {
            k.rate_limit = on;
        }
        if let Some(limit) = change.limit_per_minute {
            k.limit_per_minute = (limit > 0).then_some(limit);
        }
        if let Some(outside) = change.outside_per_minute {
            k.outside_per_minute = outside;
        }
    });
    if known {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": "unknown key" })),
        )
            .into_response()
    }
}

#[derive(Debug, Deserialize)]
struct NewUser {
    mailaddress: String,
    password: String,
    plan: String,
}

async fn add_v1_user(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let user: NewUser = match parse(&body) {
        Ok(user) => user,
        Err(response) => return *response,
    };
    match user.plan.parse::<Plan>() {
        Ok(plan) => {
            shared.v1.add_user(&user.mailaddress, &user.password, plan);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_request(e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
struct KeyFaults {
    key: String,
    #[serde(flatten)]
    spec: FaultSpec,
}

/// Replaces the faults of `key` (a V2 key, a V1 mail address or `yahoo`).
async fn set_faults(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match parse::<KeyFaults>(&body) {
        Ok(faults) => {
            shared.faults.set(&faults.key, faults.spec);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(response) => *response,
    }
}

/// Ends every Yahoo session (cookies and their crumbs).
async fn expire_yahoo_sessions(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.yahoo.expire_all();
    StatusCode::NO_CONTENT
}

async fn show_limits(State(shared): State<Arc<Shared>>) -> Json<Limits> {
    Json(shared.limits())
}

async fn set_limits(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match parse::<Limits>(&body) {
        Ok(limits) => {
            shared.set_limits(limits);
            Json(shared.limits()).into_response()
        }
        Err(response) => *response,
    }
}
