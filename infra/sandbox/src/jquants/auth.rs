//! The V2 middleware: `x-api-key` authentication, request recording, rate limiting with
//! lockout, and injected faults.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{self, ApiError};
use crate::config::Plan;
use crate::guard::{self, Flavor, KeySettings, Verdict};
use crate::state::Shared;
use crate::stats::INVALID_KEY;

const API_KEY_HEADER: &str = "x-api-key";

/// The authenticated caller, put in the request extensions. `Debug` hides the key.
#[derive(Clone)]
pub(crate) struct Caller {
    pub(crate) key: Arc<str>,
    pub(crate) plan: Plan,
    pub(crate) rate_limit: bool,
    pub(crate) minute_addon: bool,
    pub(crate) settings: KeySettings,
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("plan", &self.plan)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

fn presented_key(request: &Request) -> Option<&str> {
    request.headers().get(API_KEY_HEADER)?.to_str().ok()
}

/// Counts the request under its key (or [`INVALID_KEY`]) and path, and its 429s.
pub(crate) async fn record(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let key = presented_key(&request)
        .filter(|k| shared.keys.get(k).is_some())
        .unwrap_or(INVALID_KEY)
        .to_owned();
    shared
        .log
        .record(&key, request.uri().path(), shared.clock.now_millis());
    let response = next.run(request).await;
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        shared.log.count_too_many(&key);
    }
    response
}

/// Resolves the key to a [`Caller`]; missing or unknown keys get 403.
pub(crate) async fn authenticate(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = presented_key(&request).and_then(|key| {
        shared.keys.get(key).map(|settings| Caller {
            key: Arc::from(key),
            plan: settings.plan,
            rate_limit: settings.rate_limit,
            minute_addon: settings.minute_addon,
            settings,
        })
    });
    let Some(caller) = caller else {
        tracing::debug!(
            path = request.uri().path(),
            "refused: missing or unknown API key"
        );
        return ApiError::forbidden(error::INVALID_KEY).into_response();
    };
    tracing::debug!(path = request.uri().path(), plan = ?caller.plan, "request");
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Applies the caller's rate limits (when enabled for the key), then its faults.
pub(crate) async fn guard(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(caller) = request.extensions().get::<Caller>().cloned() else {
        return next.run(request).await;
    };
    if caller.rate_limit {
        let limits = shared.limits();
        let now = shared.clock.now_millis();
        let path = request.uri().path();
        match shared
            .limiter
            .check(&caller.key, &caller.settings, path, now, &limits)
        {
            Verdict::Admit => {}
            Verdict::Limited { limit, .. } => {
                return guard::rate_limited(limit, limits.retry_after_secs);
            }
            Verdict::Locked {
                remaining_ms,
                started,
            } => {
                if started {
                    shared.log.count_lockout(&caller.key);
                }
                let remaining = u64::try_from((remaining_ms + 999) / 1000).unwrap_or(1);
                return guard::locked_out(limits.retry_after_secs.map(|_| remaining));
            }
        }
    }
    guard::with_faults(
        &shared.faults,
        shared.limits().retry_after_secs,
        &caller.key,
        Flavor::JQuants,
        request,
        next,
    )
    .await
}
