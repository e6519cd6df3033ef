//! `PUT /v1/credentials/{data_source}`: stores the caller's provider secret, sealed by KMS and
//! bound to (user, data source). The answer is metadata only, never the secret.

use axum::Json;
use axum::extract::{Path, State};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use shared::crypto::{CryptoError, EncryptionContext};
use shared::domain::{CredentialSecret, DataSourceCredential, DataSourceId, Plan};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// Body: the provider API key and the plan of the provider account.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialBody {
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

/// What is stored, without the secret.
#[derive(Debug, Serialize)]
pub struct CredentialMetadata {
    data_source_id: DataSourceId,
    plan: Plan,
    key_id: String,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

/// Seals and stores the credential, replacing any previous one.
pub async fn put(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(ds): Path<String>,
    ApiJson(body): ApiJson<CredentialBody>,
) -> Result<Json<CredentialMetadata>, ApiError> {
    let ds = DataSourceId::parse(&ds).map_err(|_| ApiError::NotFound("data source"))?;
    state
        .sources
        .get_data_source(&ds)
        .await?
        .ok_or(ApiError::NotFound("data source"))?;
    if secrecy::ExposeSecret::expose_secret(&body.api_key)
        .trim()
        .is_empty()
    {
        return Err(ApiError::BadRequest("`api_key` must not be empty".into()));
    }
    let ctx = EncryptionContext {
        user_id: user.id,
        data_source_id: ds.clone(),
        purpose: "credentials",
    };
    let sealed = state
        .cipher
        .seal(&CredentialSecret::ApiKey(body.api_key).to_json(), &ctx)
        .await
        .map_err(|e| match e {
            CryptoError::Unavailable(e) => ApiError::Unavailable(e),
            CryptoError::Invalid => ApiError::Internal(anyhow::anyhow!("sealing failed")),
        })?;
    let now = state.clock.now();
    let created_at = state
        .credentials
        .get_credential(user.id, &ds)
        .await?
        .map_or(now, |old| old.created_at);
    let record = DataSourceCredential {
        user_id: user.id,
        data_source_id: ds.clone(),
        plan: body.plan,
        encrypted_credentials: sealed.ciphertext,
        key_id: sealed.key_id,
        created_at,
        updated_at: now,
    };
    state.credentials.put_credential(&record).await?;
    tracing::info!(user_id = %user.id, data_source = %ds, "credential stored");
    Ok(Json(CredentialMetadata {
        data_source_id: ds,
        plan: record.plan,
        key_id: record.key_id,
        created_at,
        updated_at: now,
    }))
}
