//! `GET /v1/health`: liveness, no dependencies touched.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Liveness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// Always `{"status":"ok"}`.
#[utoipa::path(get, path = "/v1/health", tag = "meta", security(()),
    responses((status = 200, body = Health)))]
pub async fn get() -> Json<Health> {
    Json(Health { status: "ok" })
}
