//! `/v1/admin/users/...`: an administrator's kill switches and their undo. Listing users;
//! disabling one (every request with any of their keys is refused at once, and no function
//! starts work for them) and re-enabling; revoking all of a user's keys (the last one too);
//! issuing a user a new key, handed over out of band. Revoking all keys then issuing one is
//! how an owner whose key was stolen gets back in: a key can revoke its owner's other keys, so
//! a thief can lock the owner out, and only an administrator can undo that. An administrator
//! cannot disable themselves or revoke their own keys (that would lock out perhaps the only
//! administrator).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use shared::domain::{ApiKeyId, User, UserId};
use shared::store::{ApiKeyRecord, KeyRefused, MAX_ACTIVE_KEYS};
use utoipa::ToSchema;

use crate::auth::{Admin, hashers};
use crate::error::{ApiError, Errors};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Users per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest `limit`.
pub const MAX_LIMIT: u32 = 200;

/// A user as administrators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    user_id: UserId,
    name: String,
    is_admin: bool,
    created_at: DateTime<Utc>,
    /// Every request with the user's keys is refused while set.
    disabled: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            user_id: u.id,
            name: u.name,
            is_admin: u.is_admin,
            created_at: u.created_at,
            disabled: u.disabled,
        }
    }
}

/// The listing's query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// One page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    /// In id order (the order of creation).
    users: Vec<UserView>,
    /// Pass as `cursor` for the next page; `null` after the last.
    next_cursor: Option<String>,
}

/// How many keys were revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeysRevoked {
    user_id: UserId,
    /// Keys that were active and are revoked now.
    revoked: usize,
}

/// A key issued to a user by an administrator, with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKey {
    user_id: UserId,
    /// The key's id.
    id: ApiKeyId,
    /// The secret's first characters.
    display_prefix: String,
    /// The secret. It is not stored and cannot be shown again: hand it to the user.
    api_key: String,
}

/// `GET /v1/admin/users`: every user, a page at a time (one indexed query per page).
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin",
    params(("limit" = Option<u32>, Query, description = "users per page, 1 to 200 (default 50)"),
           ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = UserPage), Errors))]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "`limit` must be between 1 and {MAX_LIMIT}"
        )));
    }
    let after = q
        .cursor
        .map(|c| {
            UserId::parse(&c).map_err(|_| {
                ApiError::BadRequest(
                    "`cursor` is not one this API gave: pass `next_cursor` of the previous page"
                        .into(),
                )
            })
        })
        .transpose()?;
    let (users, next) = state.users.list_users(after, limit).await?;
    Ok(Json(UserPage {
        users: users.into_iter().map(Into::into).collect(),
        next_cursor: next.map(|id| id.to_string()),
    }))
}

fn user_id(id: &str) -> Result<UserId, ApiError> {
    UserId::parse(id).map_err(|_| ApiError::NotFound("user"))
}

fn not_yourself(admin: &User, target: UserId, what: &str) -> Result<(), ApiError> {
    if admin.id == target {
        return Err(ApiError::Conflict(format!(
            "administrators cannot {what} themselves: another administrator can"
        )));
    }
    Ok(())
}

/// `POST /v1/admin/users/{id}/disable`: every request with the user's keys answers 403 from
/// now on, and no function starts work for them; nothing is deleted. Repeating it is harmless.
#[utoipa::path(post, path = "/v1/admin/users/{id}/disable", tag = "admin",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserView), Errors))]
pub async fn disable(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let id = user_id(&id)?;
    not_yourself(&admin, id, "disable")?;
    set_disabled(&state, &admin, id, true).await
}

/// `POST /v1/admin/users/{id}/enable`: undoes a disable; the user's keys work again.
#[utoipa::path(post, path = "/v1/admin/users/{id}/enable", tag = "admin",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserView), Errors))]
pub async fn enable(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    set_disabled(&state, &admin, user_id(&id)?, false).await
}

async fn set_disabled(
    state: &AppState,
    admin: &User,
    id: UserId,
    disabled: bool,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .users
        .set_disabled(id, disabled)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    tracing::warn!(user_id = %id, admin_id = %admin.id, disabled, "user disabled flag set");
    Ok(Json(user.into()))
}

/// `POST /v1/admin/users/{id}/revoke-keys`: revokes every active key of the user, the last
/// one too; they stop working at once. Issue a new one with `POST .../api-keys`.
#[utoipa::path(post, path = "/v1/admin/users/{id}/revoke-keys", tag = "admin",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = KeysRevoked), Errors))]
pub async fn revoke_keys(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<KeysRevoked>, ApiError> {
    let id = user_id(&id)?;
    not_yourself(&admin, id, "revoke every key of")?;
    let revoked = state
        .users
        .revoke_all_api_keys(id, state.clock.now())
        .await?
        .map_err(|_| ApiError::NotFound("user"))?;
    tracing::warn!(user_id = %id, admin_id = %admin.id, revoked, "every API key of a user revoked");
    Ok(Json(KeysRevoked {
        user_id: id,
        revoked,
    }))
}

/// `POST /v1/admin/users/{id}/api-keys`: 201 with a new key for the user and its secret, to
/// hand over (after `revoke-keys`, the way back in). 409 when the user holds 10 active keys.
#[utoipa::path(post, path = "/v1/admin/users/{id}/api-keys", tag = "admin",
    params(("id" = String, Path, description = "user id")),
    responses((status = 201, body = IssuedKey), Errors))]
pub async fn issue_key(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<IssuedKey>), ApiError> {
    let id = user_id(&id)?;
    let secret = hashers(&state).await?[0].generate();
    let record = ApiKeyRecord::new(
        id,
        &secret,
        Some("issued by an administrator".into()),
        state.clock.now(),
    );
    match state.users.add_api_key(&record).await? {
        Ok(()) => {}
        Err(KeyRefused::TooManyKeys) => {
            return Err(ApiError::Conflict(format!(
                "the user holds {MAX_ACTIVE_KEYS} active API keys: revoke them first (POST /v1/admin/users/{id}/revoke-keys)"
            )));
        }
        Err(_) => return Err(ApiError::NotFound("user")),
    }
    tracing::warn!(user_id = %id, admin_id = %admin.id, api_key_id = %record.id, "API key issued by an administrator");
    Ok((
        StatusCode::CREATED,
        Json(IssuedKey {
            user_id: id,
            id: record.id,
            display_prefix: record.display_prefix,
            api_key: secret.plaintext.expose_secret().to_owned(),
        }),
    ))
}
