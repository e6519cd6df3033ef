//! Who is calling: the `Authorization: Bearer <api key>` header resolved to a user through the
//! key's keyed hash, on every request with a strongly consistent read (a key revoked or a user
//! disabled a moment ago is refused at once). A key that matched under the pepper's previous
//! version is re-hashed under the current one, so a second rotation does not lock it out. The
//! admin bootstrap secret is checked here too.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use secrecy::ExposeSecret;
use shared::auth::{ApiKeyHasher, secrets_equal};
use shared::domain::User;
use shared::store::ApiKeyRecord;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

/// An authenticated administrator.
#[derive(Debug, Clone)]
pub struct Admin(pub User);

/// The authenticated caller with the key the request was made with.
#[derive(Debug, Clone)]
pub struct CallerKey {
    /// The caller.
    pub user: User,
    /// The key presented.
    pub key: ApiKeyRecord,
}

/// The bearer token of a request, if well-formed.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then_some(token.trim())
}

/// Hashers for the pepper's current version and, during a rotation, its previous one.
/// New keys are always hashed with the first.
pub async fn hashers(state: &AppState) -> Result<Vec<ApiKeyHasher>, ApiError> {
    let pepper = state
        .secrets
        .get_secret(&state.pepper_secret_id)
        .await
        .map_err(|e| ApiError::Unavailable(e.into()))?;
    Ok(pepper.all().map(ApiKeyHasher::new).collect())
}

/// The active key presented and its owner, who must not be disabled.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<CallerKey, ApiError> {
    let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
    let hashers = hashers(state).await?;
    for (i, hasher) in hashers.iter().enumerate() {
        // Stores do not find revoked keys; the check guards against one that would.
        let Some((key, user)) = state.users.find_api_key(&hasher.hash(token)).await? else {
            continue;
        };
        if key.revoked_at.is_some() {
            continue;
        }
        if user.disabled {
            return Err(ApiError::Forbidden(
                "this user is disabled: an administrator can re-enable it".into(),
            ));
        }
        if i > 0 {
            rehash(state, &key, &hashers[0].hash(token)).await;
        }
        return Ok(CallerKey { user, key });
    }
    Err(ApiError::Unauthorized)
}

/// Stores a key that matched under the pepper's previous version under its current one.
/// Best effort: the request goes on either way, and the next one tries again.
async fn rehash(state: &AppState, key: &ApiKeyRecord, current: &str) {
    match state
        .users
        .rehash_api_key(key.user_id, key.id, current)
        .await
    {
        Ok(Ok(())) => {
            tracing::info!(user_id = %key.user_id, api_key_id = %key.id, "API key re-hashed under the current pepper");
        }
        Ok(Err(refused)) => {
            tracing::warn!(api_key_id = %key.id, ?refused, "API key not re-hashed");
        }
        Err(e) => {
            tracing::warn!(api_key_id = %key.id, error.message = %e, "API key not re-hashed");
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Caller(authenticate(parts, state).await?.user))
    }
}

impl FromRequestParts<AppState> for CallerKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state).await
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(user) = Caller::from_request_parts(parts, state).await?;
        if !user.is_admin {
            return Err(ApiError::Forbidden(
                "this route is for administrators".into(),
            ));
        }
        Ok(Admin(user))
    }
}

/// Checks the admin bootstrap secret presented as the bearer token against its current
/// version only (`AWSCURRENT`, read afresh): rotating a leaked secret revokes it at once.
pub async fn check_bootstrap_secret(parts: &Parts, state: &AppState) -> Result<(), ApiError> {
    let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
    let secret = state
        .fresh_secrets
        .get_secret(&state.admin_secret_id)
        .await
        .map_err(|e| ApiError::Unavailable(e.into()))?;
    if secrets_equal(token, secret.current.expose_secret()) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}
