//! `x-api-key` authentication and request recording, as axum middleware.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::V2State;
use super::error::{self, ApiError};
use crate::config::Plan;
use crate::stats::INVALID_KEY;

const API_KEY_HEADER: &str = "x-api-key";

/// The authenticated caller, put in the request extensions. `Debug` hides the key.
#[derive(Clone)]
pub(crate) struct Caller {
    #[allow(dead_code, reason = "read by the rate limiter to come")]
    pub(crate) key: Arc<str>,
    pub(crate) plan: Plan,
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

fn presented_key(request: &Request) -> Option<&str> {
    request.headers().get(API_KEY_HEADER)?.to_str().ok()
}

/// Counts the request under its key (or [`INVALID_KEY`]) and path, whatever happens next.
pub(crate) async fn record(
    State(state): State<Arc<V2State>>,
    request: Request,
    next: Next,
) -> Response {
    let key = presented_key(&request)
        .filter(|k| state.keys.contains_key(*k))
        .unwrap_or(INVALID_KEY);
    state.log.record(key, request.uri().path());
    next.run(request).await
}

/// Resolves the key to a [`Caller`]; missing or unknown keys get 403.
pub(crate) async fn authenticate(
    State(state): State<Arc<V2State>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = presented_key(&request)
        .and_then(|k| state.keys.get_key_value(k))
        .map(|(key, plan)| Caller {
            key: Arc::from(key.as_str()),
            plan: *plan,
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
