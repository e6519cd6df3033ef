//! `/v1/credentials/{data_source}`: the caller's provider secret, sealed by envelope
//! encryption and bound to (user, data source). Answers carry metadata only, never a secret.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use shared::crypto::CryptoError;
use shared::domain::{DataSourceCredential, DataSourceId, Plan, UserId};
use shared::jquants::ProviderError;
use shared::vault::VaultError;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, Errors};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Body: the provider API key and the plan of the provider account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialBody {
    /// The provider API key; sealed at once, never shown again.
    #[schema(value_type = String)]
    api_key: SecretString,
    plan: Plan,
}

impl std::fmt::Debug for CredentialBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialBody")
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

/// `?verify=true` checks the key against the provider before storing it.
#[derive(Debug, Default, Deserialize)]
pub struct PutQuery {
    #[serde(default)]
    verify: bool,
}

/// Whether a token is usable.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum TokenState {
    Absent,
    Valid,
    Expired,
}

/// What is stored, without any secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialMetadata {
    data_source_id: DataSourceId,
    plan: Plan,
    key_arn: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    refresh_token: TokenState,
    refresh_token_expired_at: Option<DateTime<Utc>>,
    id_token: TokenState,
    id_token_expired_at: Option<DateTime<Utc>>,
}

fn token_state(present: bool, expires: Option<DateTime<Utc>>, now: DateTime<Utc>) -> TokenState {
    match (present, expires) {
        (false, _) => TokenState::Absent,
        (true, Some(t)) if t <= now => TokenState::Expired,
        (true, _) => TokenState::Valid,
    }
}

fn metadata(c: DataSourceCredential, now: DateTime<Utc>) -> CredentialMetadata {
    CredentialMetadata {
        refresh_token: token_state(c.refresh_token.is_some(), c.refresh_token_expired_at, now),
        id_token: token_state(c.id_token.is_some(), c.id_token_expired_at, now),
        data_source_id: c.data_source_id,
        plan: c.plan,
        key_arn: c.encrypted_credentials.key_arn,
        created_at: c.created_at,
        updated_at: c.updated_at,
        refresh_token_expired_at: c.refresh_token_expired_at,
        id_token_expired_at: c.id_token_expired_at,
    }
}

/// Maps vault failures to answers.
pub(crate) fn vault_error(e: VaultError) -> ApiError {
    match e {
        VaultError::Store(e) => e.into(),
        VaultError::Crypto(CryptoError::Unavailable(e)) => ApiError::Unavailable(e),
        VaultError::Crypto(e) => ApiError::Internal(e.into()),
        VaultError::Malformed => ApiError::Internal(anyhow::anyhow!("malformed stored secret")),
    }
}

async fn source(state: &AppState, ds: &str) -> Result<shared::domain::DataSource, ApiError> {
    let id = DataSourceId::parse(ds).map_err(|_| ApiError::NotFound("data source"))?;
    state
        .sources
        .get_data_source(&id)
        .await?
        .ok_or(ApiError::NotFound("data source"))
}

async fn stored(
    state: &AppState,
    user: UserId,
    ds: &DataSourceId,
) -> Result<DataSourceCredential, ApiError> {
    state
        .vault
        .record(user, ds)
        .await
        .map_err(vault_error)?
        .ok_or(ApiError::NotFound("credential"))
}

/// `PUT`: seals and stores the credential, replacing any previous one.
#[utoipa::path(put, path = "/v1/credentials/{data_source}", tag = "credentials",
    params(("data_source" = String, Path, description = "data source id, e.g. `jquants-v2`"),
           ("verify" = Option<bool>, Query, description = "check the key against the provider first")),
    request_body = CredentialBody,
    responses((status = 200, body = CredentialMetadata), Errors))]
pub async fn put(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(ds): Path<String>,
    ApiQuery(q): ApiQuery<PutQuery>,
    ApiJson(body): ApiJson<CredentialBody>,
) -> Result<Json<CredentialMetadata>, ApiError> {
    let source = source(&state, &ds).await?;
    if body.api_key.expose_secret().trim().is_empty() {
        return Err(ApiError::BadRequest("`api_key` must not be empty".into()));
    }
    if q.verify {
        let today = state.clock.now().date_naive();
        match state
            .provider
            .verify_key(&source.base_url, &body.api_key, today)
            .await
        {
            Ok(()) => {}
            Err(e @ (ProviderError::Auth { .. } | ProviderError::Plan(_))) => {
                return Err(ApiError::BadRequest(format!(
                    "{} did not accept this key ({e}); nothing was stored: check the key and try again",
                    source.name
                )));
            }
            Err(e) => {
                return Err(ApiError::Unavailable(anyhow::anyhow!(
                    "could not verify the key now ({e}); nothing was stored: retry, or store it without ?verify=true"
                )));
            }
        }
    }
    let record = state
        .vault
        .store_api_key(user.id, &source.id, body.plan, body.api_key)
        .await
        .map_err(vault_error)?;
    tracing::info!(user_id = %user.id, data_source = %source.id, verified = q.verify, "credential stored");
    Ok(Json(metadata(record, state.clock.now())))
}

/// `GET`: metadata of the stored credential.
#[utoipa::path(get, path = "/v1/credentials/{data_source}", tag = "credentials", params(("data_source" = String, Path, description = "data source id, e.g. `jquants-v2`")),
    responses((status = 200, body = CredentialMetadata), Errors))]
pub async fn get(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(ds): Path<String>,
) -> Result<Json<CredentialMetadata>, ApiError> {
    let source = source(&state, &ds).await?;
    Ok(Json(metadata(
        stored(&state, user.id, &source.id).await?,
        state.clock.now(),
    )))
}

/// `DELETE`: removes the credential; 204, or 404 when there was none.
#[utoipa::path(delete, path = "/v1/credentials/{data_source}", tag = "credentials", params(("data_source" = String, Path, description = "data source id, e.g. `jquants-v2`")),
    responses((status = 204, description = "deleted"), Errors))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(ds): Path<String>,
) -> Result<StatusCode, ApiError> {
    let source = source(&state, &ds).await?;
    if state
        .vault
        .delete(user.id, &source.id)
        .await
        .map_err(vault_error)?
    {
        tracing::info!(user_id = %user.id, data_source = %source.id, "credential deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("credential"))
    }
}
