//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! types they take and answer (so it cannot drift from the code); served at
//! `/v1/openapi.json` and checked by schemathesis in the test command.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    admin, api_keys, credentials, data, data_delete, data_sources, group_list, health, job_groups,
    job_list, results, schedules, users, whoami,
};

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "moomoo-markets API",
        description = "Market data from J-Quants for many users, fetched inside each provider's rate limits. Authenticate with `Authorization: Bearer <api key>`; errors are RFC 9457 problem+json.",
    ),
    paths(
        health::get, openapi_json, whoami::get, data_sources::list,
        api_keys::list, api_keys::create, api_keys::revoke, api_keys::rotate,
        credentials::put, credentials::get, credentials::delete,
        job_groups::create, group_list::list, job_groups::get, job_groups::cancel, job_groups::retry,
        job_list::list, results::export, results::create_export,
        schedules::create, schedules::list, schedules::get, schedules::replace, schedules::delete,
        admin::bootstrap, admin::create_user, admin::put_data_source, admin::key_rotation, admin::key_rotation_progress,
        admin::redrive,
        users::list, users::disable, users::enable, users::revoke_keys, users::issue_key,
        data::list, data::read, data::partitions, data_delete::delete, data_delete::delete_user_data,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("a user's API key (admin routes: an administrator's; bootstrap: the admin secret)"))
                    .build(),
            ),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
