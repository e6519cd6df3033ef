//! The J-Quants V2 imitation mounted at `/v2`.
//!
//! Layer stack, outermost first: [`auth::record`] counts every request in the request log,
//! then [`auth::authenticate`] turns the `x-api-key` header into a [`auth::Caller`] or a 403,
//! then the dataset handlers run. Rate limiting, lockout and fault injection belong between
//! `record` and the handlers, as further `from_fn_with_state` layers reading the `Caller`.

mod auth;
mod bars_daily;
mod error;
mod row;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;

use crate::config::{Plan, SandboxConfig};
use crate::stats::RequestLog;

pub(crate) use error::ApiError;
pub(crate) use row::Row;

/// What the V2 handlers share.
#[derive(Debug)]
pub(crate) struct V2State {
    keys: HashMap<String, Plan>,
    config: SandboxConfig,
    log: Arc<RequestLog>,
}

impl V2State {
    pub(crate) fn new(config: SandboxConfig, log: Arc<RequestLog>) -> Self {
        let keys = config
            .keys
            .iter()
            .map(|k| (k.key.clone(), k.plan))
            .collect();
        Self { keys, config, log }
    }

    fn page_size(&self) -> usize {
        self.config.page_size.max(1)
    }
}

/// The `/v2` router (to be nested at `/v2`).
pub(crate) fn router(state: &Arc<V2State>) -> Router {
    Router::new()
        .route("/equities/bars/daily", get(bars_daily::handle))
        .fallback(unknown_path)
        .method_not_allowed_fallback(unknown_path)
        .layer(from_fn_with_state(Arc::clone(state), auth::authenticate))
        .layer(from_fn_with_state(Arc::clone(state), auth::record))
        .with_state(Arc::clone(state))
}

/// J-Quants answers unknown paths and methods with 403, never 404 or 405.
pub(crate) async fn unknown_path() -> ApiError {
    ApiError::forbidden(error::UNKNOWN_PATH)
}
