//! A user's secret for one data source. The secret itself only ever exists encrypted in
//! storage and as a [`CredentialSecret`] in memory.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{DataSourceId, Plan, UserId};
use crate::crypto::Envelope;

/// The stored credential (data-model.md "DataSourceCredential"). Every secret in it is an
/// [`Envelope`] bound to `(user_id, data_source_id, purpose)`; token expiry times stay in the
/// clear so sweeps can find tokens nearing expiry without decrypting anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSourceCredential {
    /// Owner.
    pub user_id: UserId,
    /// The data source it unlocks.
    pub data_source_id: DataSourceId,
    /// The plan of the user's provider account: decides rate limits and data windows.
    pub plan: Plan,
    /// The sealed secret JSON (`{"api_key": ...}`).
    pub encrypted_credentials: Envelope,
    /// J-Quants V1 refresh token (valid one week), sealed.
    pub refresh_token: Option<Envelope>,
    /// When the refresh token expires.
    pub refresh_token_expired_at: Option<DateTime<Utc>>,
    /// J-Quants V1 id token (valid 24 hours), sealed.
    pub id_token: Option<Envelope>,
    /// When the id token expires.
    pub id_token_expired_at: Option<DateTime<Utc>>,
    /// First stored.
    pub created_at: DateTime<Utc>,
    /// When the secret was last replaced; part of the cache key for opened secrets.
    pub updated_at: DateTime<Utc>,
    /// Incremented by every write: the optimistic lock of re-wraps and token updates.
    pub version: u64,
}

impl DataSourceCredential {
    /// Every envelope in the record, with its purpose.
    pub fn envelopes(&self) -> impl Iterator<Item = (&'static str, &Envelope)> {
        [
            Some(("credentials", &self.encrypted_credentials)),
            self.refresh_token.as_ref().map(|e| ("refresh_token", e)),
            self.id_token.as_ref().map(|e| ("id_token", e)),
        ]
        .into_iter()
        .flatten()
    }
}

/// The plaintext secret JSON of a credential. Debug and Display never show it.
#[derive(Clone)]
pub enum CredentialSecret {
    /// J-Quants V2: `{"api_key": "..."}`.
    ApiKey(SecretString),
}

impl std::fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialSecret::ApiKey(_) => f.write_str("CredentialSecret::ApiKey([REDACTED])"),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ApiKeyJson<'a> {
    api_key: std::borrow::Cow<'a, str>,
}

impl CredentialSecret {
    /// The secret JSON to seal. The returned bytes are the plaintext: the caller encrypts and
    /// drops them.
    pub fn to_json(&self) -> SecretString {
        match self {
            CredentialSecret::ApiKey(key) => SecretString::from(
                serde_json::to_string(&ApiKeyJson {
                    api_key: key.expose_secret().into(),
                })
                .expect("a string map always serializes"),
            ),
        }
    }

    /// Parses opened secret JSON.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let parsed: ApiKeyJson<'_> = serde_json::from_str(json)
            .map_err(|_| "credential JSON has no `api_key`".to_owned())?;
        Ok(CredentialSecret::ApiKey(SecretString::from(
            parsed.api_key.into_owned(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_never_print() {
        let s = CredentialSecret::ApiKey(SecretString::from("sentinel-123"));
        assert!(!format!("{s:?}").contains("sentinel-123"));
        let json = s.to_json();
        let back = CredentialSecret::from_json(json.expose_secret()).unwrap();
        let CredentialSecret::ApiKey(k) = back;
        assert_eq!(k.expose_secret(), "sentinel-123");
    }
}
