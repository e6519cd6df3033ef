//! `GET /v1/whoami`: the calling user, so scripts can check which key they hold.

use axum::Json;
use serde_json::{Value, json};

use crate::auth::Caller;

/// The caller's id, name and role.
pub async fn get(Caller(user): Caller) -> Json<Value> {
    Json(json!({ "user_id": user.id, "name": user.name, "is_admin": user.is_admin }))
}
