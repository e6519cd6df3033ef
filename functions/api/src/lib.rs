//! The public HTTP API: an axum [`Router`] that `main` serves through `lambda_http` behind API
//! Gateway (HTTP API), and that tests and the devstack serve over plain TCP.
//!
//! # Layout
//! - [`state`]: the ports the handlers use, built once per container.
//! - [`auth`]: `Authorization: Bearer <api key>` → the calling user; admin checks.
//! - [`error`]: one error type, answered as RFC 9457 problem+json.
//! - [`routes`]: one file per resource.
//! - [`limits`]: the per-user limits as the handlers apply them (429s).
//! - [`lambda`]: the request as API Gateway hands it over, made ready for the router (stage).
//! - [`openapi`]: the OpenAPI 3.1 document generated from the handlers, at `/v1/openapi.json`.

pub mod auth;
pub mod error;
pub mod extract;
pub mod lambda;
pub mod limits;
pub mod openapi;
pub mod routes;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};

pub use state::AppState;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The API's routes over `state`.
pub fn router(state: AppState) -> Router {
    use routes::{
        admin, api_keys, credentials, data, data_delete, data_sources, group_list, health,
        job_groups, job_list, results, schedules, users, whoami,
    };
    Router::new()
        .route("/v1/health", get(health::get))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/v1/admin/bootstrap", post(admin::bootstrap))
        .route("/v1/admin/users", post(admin::create_user).get(users::list))
        .route("/v1/admin/users/{id}/disable", post(users::disable))
        .route("/v1/admin/users/{id}/enable", post(users::enable))
        .route("/v1/admin/users/{id}/revoke-keys", post(users::revoke_keys))
        .route("/v1/admin/users/{id}/api-keys", post(users::issue_key))
        .route("/v1/admin/data-sources/{id}", put(admin::put_data_source))
        .route(
            "/v1/admin/key-rotation",
            post(admin::key_rotation).get(admin::key_rotation_progress),
        )
        .route(
            "/v1/admin/users/{id}/data",
            delete(data_delete::delete_user_data),
        )
        .route("/v1/data", get(data::list))
        .route(
            "/v1/data/{data_source}/{endpoint}",
            get(data::read).delete(data_delete::delete),
        )
        .route(
            "/v1/data/{data_source}/{endpoint}/partitions",
            get(data::partitions),
        )
        .route("/v1/whoami", get(whoami::get))
        .route("/v1/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/v1/api-keys/{id}", delete(api_keys::revoke))
        .route("/v1/api-keys/{id}/rotate", post(api_keys::rotate))
        .route("/v1/data-sources", get(data_sources::list))
        .route(
            "/v1/credentials/{data_source}",
            put(credentials::put)
                .get(credentials::get)
                .delete(credentials::delete),
        )
        .route(
            "/v1/job-groups",
            post(job_groups::create).get(group_list::list),
        )
        .route("/v1/job-groups/{id}", get(job_groups::get))
        .route("/v1/job-groups/{id}/cancel", post(job_groups::cancel))
        .route("/v1/job-groups/{id}/retry", post(job_groups::retry))
        .route("/v1/job-groups/{id}/jobs", get(job_list::list))
        .route("/v1/job-groups/{id}/results", get(results::export))
        .route("/v1/job-groups/{id}/exports", post(results::create_export))
        .route(
            "/v1/schedules",
            post(schedules::create).get(schedules::list),
        )
        .route(
            "/v1/schedules/{id}",
            get(schedules::get)
                .put(schedules::replace)
                .delete(schedules::delete),
        )
        .route("/v1/admin/dlq/redrive", post(admin::redrive))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(no_store))
        .with_state(state)
}

/// Every answer is private to its caller and some carry a secret (a new API key, the
/// bootstrap's): no cache on the way may keep one.
async fn no_store(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}
