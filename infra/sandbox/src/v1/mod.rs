//! The J-Quants V1 imitation mounted at `/v1` (discontinued upstream on 2026-06-01, kept for
//! clients that still speak it): the token lifecycle and four data routes.
//!
//! `POST /token/auth_user` trades a registered user's mail address and password for a
//! refresh token (7 days), `POST /token/auth_refresh?refreshtoken=` a refresh token for an
//! id token (24 hours); data routes want `Authorization: Bearer <idToken>` and answer 401
//! otherwise. The data are the V2 datasets under V1's long field names and array keys.
//! Requests are logged under the user's mail address, which is also the key for faults. The
//! account table (users and tokens) is `guard`'s.

mod names;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::config::Plan;
use crate::guard::{self, Flavor};
use crate::jquants::endpoint::{Endpoint, page};
use crate::jquants::query::Query;
use crate::jquants::{ApiError, unknown_path, v1_sources};
use crate::state::Shared;
use crate::stats::INVALID_KEY;

const BAD_CREDENTIALS: &str = "'mailaddress' or 'password' is incorrect.";
const REFRESH_REQUIRED: &str = "'refreshtoken' is required.";
/// Unverified wording: the reference only knows the status (400).
const REFRESH_INVALID: &str = "'refreshtoken' is invalid or expired.";
const INVALID_TOKEN: &str = "The incoming token is invalid or expired.";
const V1_REQUIRED: &str = "This API requires at least 1 parameter as follows; 'date','code'.";

/// A V1 data route: which V2 dataset it serves, under which array key and names.
#[derive(Debug)]
struct Route {
    source: &'static Endpoint,
    key: &'static str,
    names: &'static [&'static str],
    /// How many of the names a plan gets (V1 hid some columns below a plan).
    columns: fn(Plan) -> usize,
    /// V1 parameter names that V2 spells differently.
    params: &'static [(&'static str, &'static str)],
}

static LISTED_INFO: Route = Route {
    source: &v1_sources::MASTER,
    key: "info",
    names: &names::LISTED_INFO,
    columns: |plan| if plan >= Plan::Standard { 13 } else { 11 },
    params: &[],
};
static DAILY_QUOTES: Route = Route {
    source: &v1_sources::BARS_DAILY,
    key: "daily_quotes",
    names: &names::DAILY_QUOTES,
    columns: |plan| if plan == Plan::Premium { 42 } else { 16 },
    params: &[],
};
static STATEMENTS: Route = Route {
    source: &v1_sources::SUMMARY,
    key: "statements",
    names: &names::STATEMENTS,
    columns: |_| v1_sources::SUMMARY_KEYS.len(),
    params: &[],
};
static TRADING_CALENDAR: Route = Route {
    source: &v1_sources::CALENDAR,
    key: "trading_calendar",
    names: &names::TRADING_CALENDAR,
    columns: |_| 2,
    params: &[("holidaydivision", "hol_div")],
};

/// The user behind a valid id token.
#[derive(Debug, Clone)]
struct V1Caller {
    plan: Plan,
}

/// The `/v1` router (to be nested at `/v1`).
pub(crate) fn router(shared: &Arc<Shared>) -> Router {
    let data = Router::new()
        .route("/listed/info", get(|s, c, u| serve(&LISTED_INFO, s, c, u)))
        .route(
            "/prices/daily_quotes",
            get(|s, c, u| serve(&DAILY_QUOTES, s, c, u)),
        )
        .route(
            "/fins/statements",
            get(|s, c, u| serve(&STATEMENTS, s, c, u)),
        )
        .route(
            "/markets/trading_calendar",
            get(|s, c, u| serve(&TRADING_CALENDAR, s, c, u)),
        )
        .route_layer(from_fn_with_state(Arc::clone(shared), bearer));
    Router::new()
        .route("/token/auth_user", post(auth_user))
        .route("/token/auth_refresh", post(auth_refresh))
        .merge(data)
        .fallback(unknown_path)
        .method_not_allowed_fallback(unknown_path)
        .with_state(Arc::clone(shared))
}

fn message(status: StatusCode, text: &'static str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

#[derive(Debug, Deserialize)]
struct Credentials {
    mailaddress: String,
    password: String,
}

async fn auth_user(State(shared): State<Arc<Shared>>, uri: Uri, body: Bytes) -> Response {
    let credentials = serde_json::from_slice::<Credentials>(&body).ok();
    let known = credentials
        .as_ref()
        .filter(|c| shared.v1.is_user(&c.mailaddress));
    let key = known.map_or(INVALID_KEY, |c| c.mailaddress.as_str());
    shared
        .log
        .record(key, uri.path(), shared.clock.now_millis());
    let token = credentials.and_then(|c| {
        shared
            .v1
            .login(&c.mailaddress, &c.password, shared.clock.now())
    });
    match token {
        Some(token) => Json(json!({ "refreshToken": token })).into_response(),
        None => message(StatusCode::BAD_REQUEST, BAD_CREDENTIALS),
    }
}

async fn auth_refresh(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let Ok(query) = Query::parse(&uri, Plan::Free, shared.clock.now(), shared.clock.today()) else {
        return message(StatusCode::BAD_REQUEST, REFRESH_REQUIRED);
    };
    let now = shared.clock.now();
    let token = query.get("refreshtoken");
    let owner = token.and_then(|t| shared.v1.refresh_owner(t, now));
    let key = owner.as_deref().unwrap_or(INVALID_KEY);
    shared
        .log
        .record(key, uri.path(), shared.clock.now_millis());
    let Some(token) = token else {
        return message(StatusCode::BAD_REQUEST, REFRESH_REQUIRED);
    };
    match shared.v1.refresh(token, now) {
        Some(id) => Json(json!({ "idToken": id })).into_response(),
        None => message(StatusCode::BAD_REQUEST, REFRESH_INVALID),
    }
}

/// Logs the request, resolves the bearer token (401 otherwise) and applies faults.
async fn bearer(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    let now = shared.clock.now();
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let user = token.and_then(|t| shared.v1.identify(t.trim(), now));
    let key = user
        .as_ref()
        .map_or(INVALID_KEY, |u| u.0.as_str())
        .to_owned();
    shared
        .log
        .record(&key, request.uri().path(), now.timestamp_millis());
    let Some((mail, plan)) = user else {
        return message(StatusCode::UNAUTHORIZED, INVALID_TOKEN);
    };
    request.extensions_mut().insert(V1Caller { plan });
    let response = guard::with_faults(
        &shared.faults,
        shared.limits().retry_after_secs,
        &mail,
        Flavor::JQuants,
        request,
        next,
    )
    .await;
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        shared.log.count_too_many(&mail);
    }
    response
}

async fn serve(
    route: &'static Route,
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<V1Caller>,
    uri: Uri,
) -> Response {
    let answer = (|| {
        if caller.plan < route.source.min_plan {
            return Err(ApiError::plan_too_low(route.source.min_plan, caller.plan));
        }
        let mut query = Query::parse(&uri, caller.plan, shared.clock.now(), shared.clock.today())?;
        for (v1, v2) in route.params {
            query.rename(v1, v2);
        }
        let mut body = page(route.source, &query, shared.page_size, route.key)?;
        let columns = (route.columns)(caller.plan);
        body.rows = body
            .rows
            .into_iter()
            .map(|row| row.renamed(route.names).truncated(columns))
            .collect();
        Ok(body)
    })();
    match answer {
        Ok(body) => Json(body).into_response(),
        Err(e)
            if e.message()
                .starts_with("This API requires at least 1 parameter") =>
        {
            ApiError::bad_request(V1_REQUIRED).into_response()
        }
        Err(e) => e.into_response(),
    }
}
