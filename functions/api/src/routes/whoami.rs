//! `GET /v1/whoami`: the calling user, so scripts can check which key they hold.

use axum::Json;
use serde::Serialize;
use shared::domain::UserId;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::Errors;

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    user_id: UserId,
    name: String,
    is_admin: bool,
}

/// The caller's id, name and role.
#[utoipa::path(get, path = "/v1/whoami", tag = "users",
    responses((status = 200, body = Me), Errors))]
pub async fn get(Caller(user): Caller) -> Json<Me> {
    Json(Me {
        user_id: user.id,
        name: user.name,
        is_admin: user.is_admin,
    })
}
