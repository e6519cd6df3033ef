//! Who is calling: the `Authorization: Bearer <api key>` header resolved to a user through the
//! key's keyed hash. The admin bootstrap secret is checked here too.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use secrecy::ExposeSecret;
use shared::auth::{ApiKeyHasher, secrets_equal};
use shared::domain::User;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

/// An authenticated administrator.
#[derive(Debug, Clone)]
pub struct Admin(pub User);

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

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        for hasher in hashers(state).await? {
            // Stores do not find revoked keys; the check guards against one that would.
            if let Some((key, user)) = state.users.find_api_key(&hasher.hash(token)).await?
                && key.revoked_at.is_none()
            {
                return Ok(Caller(user));
            }
        }
        Err(ApiError::Unauthorized)
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

/// Checks the admin bootstrap secret presented as the bearer token.
pub async fn check_bootstrap_secret(parts: &Parts, state: &AppState) -> Result<(), ApiError> {
    let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
    let secret = state
        .secrets
        .get_secret(&state.admin_secret_id)
        .await
        .map_err(|e| ApiError::Unavailable(e.into()))?;
    if secret
        .all()
        .any(|s| secrets_equal(token, s.expose_secret()))
    {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}
