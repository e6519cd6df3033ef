//! The J-Quants V2 imitation mounted at `/v2`: every JSON dataset of reference §2.2.
//!
//! Layer stack, outermost first: [`auth::record`] counts every request in the request log,
//! [`auth::authenticate`] turns the `x-api-key` header into a [`auth::Caller`] or a 403,
//! [`auth::guard`] applies rate limits, lockout and injected faults, then the generic
//! [`endpoint::serve`] gates the plan, parses the query and pages the dataset's rows.
//! Each dataset is one [`endpoint::Endpoint`] in its own file.

mod auth;
mod derivatives;
pub(crate) mod endpoint;
mod equities;
pub(crate) mod error;
mod fins;
mod indices;
mod markets;
pub(crate) mod query;
pub(crate) mod record;
mod row;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::Uri;
use axum::middleware::from_fn_with_state;
use axum::routing::get;

use crate::state::Shared;

use auth::Caller;
pub(crate) use endpoint::Endpoint;
pub(crate) use error::ApiError;
pub(crate) use row::bar;

/// Every V2 dataset (V1 reuses some of them under its own names).
pub(crate) const ENDPOINTS: [&Endpoint; 20] = [
    &equities::master::ENDPOINT,
    &equities::bars_daily::ENDPOINT,
    &equities::bars_am::ENDPOINT,
    &equities::bars_minute::ENDPOINT,
    &equities::investor_types::ENDPOINT,
    &equities::earnings_calendar::ENDPOINT,
    &fins::summary::ENDPOINT,
    &fins::details::ENDPOINT,
    &fins::dividend::ENDPOINT,
    &markets::calendar::ENDPOINT,
    &markets::margin_interest::ENDPOINT,
    &markets::short_ratio::ENDPOINT,
    &markets::short_sale_report::ENDPOINT,
    &markets::margin_alert::ENDPOINT,
    &markets::breakdown::ENDPOINT,
    &indices::DAILY,
    &indices::TOPIX,
    &derivatives::futures::ENDPOINT,
    &derivatives::options::ALL,
    &derivatives::options::NIKKEI,
];

/// The datasets V1 serves under its own paths.
pub(crate) mod v1_sources {
    pub(crate) use super::equities::bars_daily::ENDPOINT as BARS_DAILY;
    pub(crate) use super::equities::master::ENDPOINT as MASTER;
    pub(crate) use super::fins::summary::{ENDPOINT as SUMMARY, KEYS as SUMMARY_KEYS};
    pub(crate) use super::markets::calendar::ENDPOINT as CALENDAR;
}

/// The `/v2` router (to be nested at `/v2`).
pub(crate) fn router(shared: &Arc<Shared>) -> Router {
    let mut router = Router::new();
    for endpoint in ENDPOINTS {
        router = router.route(
            endpoint.path,
            get(
                move |state: State<Arc<Shared>>, caller: Extension<Caller>, uri: Uri| {
                    endpoint::serve(endpoint, state, caller, uri)
                },
            ),
        );
    }
    router
        .fallback(unknown_path)
        .method_not_allowed_fallback(unknown_path)
        .layer(from_fn_with_state(Arc::clone(shared), auth::guard))
        .layer(from_fn_with_state(Arc::clone(shared), auth::authenticate))
        .layer(from_fn_with_state(Arc::clone(shared), auth::record))
        .with_state(Arc::clone(shared))
}

/// J-Quants answers unknown paths and methods with 403, never 404 or 405.
pub(crate) async fn unknown_path() -> ApiError {
    ApiError::forbidden(error::UNKNOWN_PATH)
}
