//! `/v1/api-keys`: the caller's own API keys. A new key's secret is in the answer that creates
//! it and nowhere else (only its keyed hash is stored); listings show ids, names, prefixes and
//! dates. Revoking takes effect at once, also for the key making the request; the last active
//! key cannot be revoked (409), so nobody locks themselves out. Rotation replaces a key by a
//! new one in one atomic change, with no grace period: the old secret stops working when the
//! new one is returned. A key rotates only itself (403 for another of the owner's keys):
//! rotating another key would hand whoever holds this one (perhaps a thief) a fresh secret in
//! place of a key the owner uses. A key may still revoke the owner's other keys (a lost
//! laptop's key is revoked from another), so a stolen key can lock the owner out; an
//! administrator then revokes every key of the owner and issues a new one
//! (`/v1/admin/users/{id}/revoke-keys`, `/v1/admin/users/{id}/api-keys`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use shared::domain::ApiKeyId;
use shared::store::{ApiKeyRecord, KeyRefused, MAX_ACTIVE_KEYS};
use utoipa::ToSchema;

use crate::auth::{Caller, CallerKey, hashers};
use crate::error::{ApiError, Errors};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Body of a key creation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyBody {
    /// A label to tell the key apart, 1–100 characters (e.g. `laptop`, `ci`).
    #[serde(default)]
    pub name: Option<String>,
}

/// A key as listings show it: never its secret or hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    id: ApiKeyId,
    name: Option<String>,
    /// The secret's first characters, to recognise it.
    display_prefix: String,
    created_at: DateTime<Utc>,
    /// When it was revoked; `null` while it is active.
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRecord> for ApiKeyView {
    fn from(k: ApiKeyRecord) -> Self {
        Self {
            id: k.id,
            name: k.name,
            display_prefix: k.display_prefix,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// The caller's keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeys {
    /// Oldest first; revoked keys stay listed (the 20 most recently revoked).
    api_keys: Vec<ApiKeyView>,
}

/// A new key with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewApiKeyView {
    #[serde(flatten)]
    key: ApiKeyView,
    /// The secret. It is not stored and cannot be shown again.
    api_key: String,
    /// The key this one replaced (a rotation), now revoked.
    replaces: Option<ApiKeyId>,
}

/// `GET /v1/api-keys`: the caller's keys, active and revoked.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api keys",
    responses((status = 200, body = ApiKeys), Errors))]
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<ApiKeys>, ApiError> {
    let keys = state.users.list_api_keys(user.id).await?;
    Ok(Json(ApiKeys {
        api_keys: keys.into_iter().map(Into::into).collect(),
    }))
}

/// `POST /v1/api-keys`: 201 with a new key and its secret; 409 when the caller holds 10
/// active keys already.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api keys", request_body = NewApiKeyBody,
    responses((status = 201, body = NewApiKeyView), Errors))]
pub async fn create(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiJson(body): ApiJson<NewApiKeyBody>,
) -> Result<(StatusCode, Json<NewApiKeyView>), ApiError> {
    let name = body
        .name
        .map(|n| {
            let n = n.trim().to_owned();
            if n.is_empty() || n.chars().count() > 100 {
                Err(ApiError::BadRequest(
                    "`name` must be 1 to 100 characters".into(),
                ))
            } else {
                Ok(n)
            }
        })
        .transpose()?;
    let secret = hashers(&state).await?[0].generate();
    let record = ApiKeyRecord::new(user.id, &secret, name, state.clock.now());
    state.users.add_api_key(&record).await?.map_err(refused)?;
    tracing::info!(user_id = %user.id, api_key_id = %record.id, "API key created");
    Ok((
        StatusCode::CREATED,
        Json(NewApiKeyView {
            api_key: secret.plaintext.expose_secret().to_owned(),
            key: record.into(),
            replaces: None,
        }),
    ))
}

/// `DELETE /v1/api-keys/{id}`: 204; the key stops authenticating at once (it may be the key
/// making the request). Revoking a revoked key changes nothing (204); the last active key
/// answers 409.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api keys",
    params(("id" = String, Path, description = "API key id")),
    responses((status = 204, description = "revoked"), Errors))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = key_id(&id)?;
    match state
        .users
        .revoke_api_key(user.id, id, state.clock.now())
        .await?
    {
        Ok(_) => {
            tracing::info!(user_id = %user.id, api_key_id = %id, "API key revoked");
            Ok(StatusCode::NO_CONTENT)
        }
        Err(KeyRefused::AlreadyRevoked) => Ok(StatusCode::NO_CONTENT),
        Err(refusal) => Err(refused(refusal)),
    }
}

/// `POST /v1/api-keys/{id}/rotate`: 201 with a new key (same name) and its secret; the old
/// key is revoked in the same atomic change (no grace period). Only the key making the
/// request can be rotated (403 for another); 409 for a revoked key.
#[utoipa::path(post, path = "/v1/api-keys/{id}/rotate", tag = "api keys",
    params(("id" = String, Path, description = "API key id")),
    responses((status = 201, body = NewApiKeyView), Errors))]
pub async fn rotate(
    State(state): State<AppState>,
    CallerKey { user, key: calling }: CallerKey,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<NewApiKeyView>), ApiError> {
    let id = key_id(&id)?;
    if id != calling.id {
        let keys = state.users.list_api_keys(user.id).await?;
        let target = keys
            .iter()
            .find(|k| k.id == id)
            .ok_or(ApiError::NotFound("API key"))?;
        if target.revoked_at.is_some() {
            return Err(refused(KeyRefused::AlreadyRevoked));
        }
        return Err(ApiError::Forbidden(format!(
            "a key rotates only itself: call this with key {id}, or revoke it (DELETE /v1/api-keys/{id}) and create a new one (POST /v1/api-keys)"
        )));
    }
    let now = state.clock.now();
    let secret = hashers(&state).await?[0].generate();
    let mut record = ApiKeyRecord::new(user.id, &secret, None, now);
    let old = state
        .users
        .rotate_api_key(user.id, id, &record, now)
        .await?
        .map_err(refused)?;
    record.name = old.name;
    tracing::info!(user_id = %user.id, api_key_id = %record.id, replaces = %id, "API key rotated");
    Ok((
        StatusCode::CREATED,
        Json(NewApiKeyView {
            api_key: secret.plaintext.expose_secret().to_owned(),
            key: record.into(),
            replaces: Some(id),
        }),
    ))
}

fn key_id(id: &str) -> Result<ApiKeyId, ApiError> {
    ApiKeyId::parse(id).map_err(|_| ApiError::NotFound("API key"))
}

fn refused(r: KeyRefused) -> ApiError {
    match r {
        KeyRefused::NotFound => ApiError::NotFound("API key"),
        KeyRefused::AlreadyRevoked => ApiError::Conflict(
            "the API key is revoked already: create a new one with POST /v1/api-keys".into(),
        ),
        KeyRefused::TooManyKeys => ApiError::Conflict(format!(
            "at most {MAX_ACTIVE_KEYS} active API keys per user: revoke one first (DELETE /v1/api-keys/{{id}})"
        )),
        KeyRefused::LastActiveKey => ApiError::Conflict(
            "this is your only active API key: create another (POST /v1/api-keys) before revoking it, or rotate it (POST /v1/api-keys/{id}/rotate)".into(),
        ),
    }
}
