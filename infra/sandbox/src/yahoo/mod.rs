//! The Yahoo Finance imitation mounted at `/yahoo` (reference yahoo-api.md): below the prefix
//! the paths are the real hosts' paths (`/v8/finance/chart/{symbol}`, `/v7/finance/quote`,
//! `/v1/test/getcrumb`), and the prefix root plays `https://fc.yahoo.com/`, the cookie host.
//!
//! Every request is logged under [`YAHOO`], counts against the deployment-wide limit
//! ([`crate::Limits::yahoo_per_minute`]; over it: 429 with the plain-text body) and draws
//! the faults set for [`YAHOO`]. Symbols are `XXXX.T` for the sandbox's listed issues. The
//! cookie + crumb sessions and the deployment-wide window are `guard`'s.

mod bars;
mod chart;
mod quote;
mod result;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::calendar::is_trading_day;
use crate::clock::jst;
use crate::guard::{self, Flavor};
use crate::intraday::sessions;
use crate::params::{IssueCode, value};
use crate::state::Shared;
use crate::universe::is_listed_code;

/// The request-log and fault key of Yahoo traffic.
pub const YAHOO: &str = "yahoo";

/// A JSON answer with its status.
#[derive(Debug)]
pub(crate) struct Reply {
    status: u16,
    body: Value,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Self {
        Self { status, body }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body)).into_response()
    }
}

/// The issue behind `XXXX.T`, if listed.
pub(crate) fn symbol_code(symbol: &str) -> Option<IssueCode> {
    let code = symbol.strip_suffix(".T").filter(|c| c.len() == 4)?;
    IssueCode::parse(code).ok().filter(is_listed_code)
}

/// The last trading day whose session had closed at `now`.
pub(crate) fn last_closed_session(now: DateTime<Utc>) -> NaiveDate {
    let local = jst(now);
    let mut day = local.date();
    if local.time() < sessions(day)[1].1 {
        day = day.pred_opt().unwrap_or(day);
    }
    while !is_trading_day(day) {
        day = day.pred_opt().unwrap_or(day);
    }
    day
}

/// The `/yahoo` router (to be nested at `/yahoo`).
pub(crate) fn router(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(cookie))
        .route("/consent", get(cookie))
        .route("/v1/test/getcrumb", get(crumb))
        .route("/v7/finance/quote", get(quote_handler))
        .route("/v8/finance/chart/{symbol}", get(chart_handler))
        .fallback(not_found)
        .layer(from_fn_with_state(Arc::clone(shared), gate))
        .with_state(Arc::clone(shared))
}

/// `GET /yahoo/` (with the slash), which nesting does not reach: the cookie host again.
pub(crate) fn cookie_root(shared: &Arc<Shared>) -> axum::routing::MethodRouter {
    get(cookie)
        .layer(from_fn_with_state(Arc::clone(shared), gate))
        .with_state(Arc::clone(shared))
}

/// Logs, applies the deployment limit and the faults.
async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let now = shared.clock.now_millis();
    shared.log.record(YAHOO, request.uri().path(), now);
    let limit = shared.limits().yahoo_per_minute;
    let response = if limit.is_some_and(|l| !shared.yahoo.window.admit(now, l)) {
        guard::yahoo_too_many()
    } else {
        guard::with_faults(&shared.faults, None, YAHOO, Flavor::Yahoo, request, next).await
    };
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        shared.log.count_too_many(YAHOO);
    }
    response
}

/// `https://fc.yahoo.com/`: 404, but with the `A3` cookie.
async fn cookie(State(shared): State<Arc<Shared>>) -> Response {
    let headers = [
        (header::SET_COOKIE, shared.yahoo.set_cookie()),
        (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
    ];
    let page =
        "<!doctype html><html><head><title>Yahoo</title></head><body>Not Found</body></html>";
    (StatusCode::NOT_FOUND, headers, page).into_response()
}

fn unauthorized(description: &str) -> Response {
    let error = json!({"code": "Unauthorized", "description": description});
    Reply::json(401, json!({"finance": {"result": null, "error": error}})).into_response()
}

async fn crumb(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match shared.yahoo.cookie(&headers) {
        Some(cookie) => {
            let text = [(header::CONTENT_TYPE, "text/plain;charset=utf-8")];
            (StatusCode::OK, text, guard::crumb_for(&cookie)).into_response()
        }
        None => unauthorized("Invalid Cookie"),
    }
}

fn pairs(uri: &Uri) -> Vec<(String, String)> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

async fn quote_handler(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let params = pairs(&uri);
    if !shared
        .yahoo
        .crumb_matches(&headers, value(&params, "crumb"))
    {
        return unauthorized("Invalid Crumb");
    }
    quote::quote(value(&params, "symbols"), shared.clock.now()).into_response()
}

async fn chart_handler(
    State(shared): State<Arc<Shared>>,
    Path(symbol): Path<String>,
    uri: Uri,
) -> Response {
    chart::chart(&symbol, &pairs(&uri), shared.clock.now()).into_response()
}

async fn not_found() -> Response {
    let error = json!({"code": "Not Found", "description": "HTTP 404 Not Found"});
    Reply::json(404, json!({"finance": {"result": null, "error": error}})).into_response()
}
