//! `GET /v1/health`: liveness, no dependencies touched.

use axum::Json;
use serde_json::{Value, json};

/// Always `{"status":"ok"}`.
pub async fn get() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
