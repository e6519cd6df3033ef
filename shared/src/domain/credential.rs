//! A user's secret for one data source. The secret itself only ever exists encrypted in
//! storage and as a [`CredentialSecret`] in memory.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::Envelope;
use super::{DataSourceId, Plan, UserId};

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
    /// J-Quants V1 with the account's login, so a refused refresh token leads to a new one:
    /// `{"mail_address": "...", "password": "..."}`.
    V1Login {
        /// The mail address registered with J-Quants.
        mail_address: SecretString,
        /// Its password.
        password: SecretString,
    },
    /// J-Quants V1 with a refresh token only (as the official client allows): the token sits
    /// in the record's own sealed `refresh_token`; once it expires the user stores a new one.
    /// `{"refresh_token_only": true}`.
    V1RefreshTokenOnly,
}

impl std::fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CredentialSecret::ApiKey(_) => "CredentialSecret::ApiKey([REDACTED])",
            CredentialSecret::V1Login { .. } => "CredentialSecret::V1Login([REDACTED])",
            CredentialSecret::V1RefreshTokenOnly => "CredentialSecret::V1RefreshTokenOnly",
        })
    }
}

/// Every form of the secret JSON; exactly one form's fields are set.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretJson<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_key: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mail_address: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    refresh_token_only: bool,
}

impl CredentialSecret {
    /// The secret JSON to seal. The returned bytes are the plaintext: the caller encrypts and
    /// drops them.
    pub fn to_json(&self) -> SecretString {
        let json = match self {
            CredentialSecret::ApiKey(key) => SecretJson {
                api_key: Some(key.expose_secret().into()),
                ..SecretJson::default()
            },
            CredentialSecret::V1Login {
                mail_address,
                password,
            } => SecretJson {
                mail_address: Some(mail_address.expose_secret().into()),
                password: Some(password.expose_secret().into()),
                ..SecretJson::default()
            },
            CredentialSecret::V1RefreshTokenOnly => SecretJson {
                refresh_token_only: true,
                ..SecretJson::default()
            },
        };
        SecretString::from(serde_json::to_string(&json).expect("a string map always serializes"))
    }

    /// Parses opened secret JSON.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let parsed: SecretJson<'_> = serde_json::from_str(json)
            .map_err(|_| "credential JSON of no known form".to_owned())?;
        let owned = |c: Cow<'_, str>| SecretString::from(c.into_owned());
        match parsed {
            SecretJson {
                api_key: Some(key),
                mail_address: None,
                password: None,
                refresh_token_only: false,
            } => Ok(CredentialSecret::ApiKey(owned(key))),
            SecretJson {
                api_key: None,
                mail_address: Some(mail),
                password: Some(password),
                refresh_token_only: false,
            } => Ok(CredentialSecret::V1Login {
                mail_address: owned(mail),
                password: owned(password),
            }),
            SecretJson {
                api_key: None,
                mail_address: None,
                password: None,
                refresh_token_only: true,
            } => Ok(CredentialSecret::V1RefreshTokenOnly),
            _ => Err("credential JSON mixes forms".to_owned()),
        }
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
        let CredentialSecret::ApiKey(k) = back else {
            panic!("not an API key: {back:?}")
        };
        assert_eq!(k.expose_secret(), "sentinel-123");
    }

    #[test]
    fn v1_forms_round_trip_and_never_print() {
        let login = CredentialSecret::V1Login {
            mail_address: SecretString::from("quant@example.com"),
            password: SecretString::from("sentinel-pw"),
        };
        assert!(!format!("{login:?}").contains("sentinel-pw"));
        assert!(!format!("{login:?}").contains("quant@"));
        let back = CredentialSecret::from_json(login.to_json().expose_secret()).unwrap();
        let CredentialSecret::V1Login {
            mail_address,
            password,
        } = back
        else {
            panic!("not a V1 login: {back:?}")
        };
        assert_eq!(
            (mail_address.expose_secret(), password.expose_secret()),
            ("quant@example.com", "sentinel-pw")
        );
        let only = CredentialSecret::V1RefreshTokenOnly.to_json();
        assert!(matches!(
            CredentialSecret::from_json(only.expose_secret()),
            Ok(CredentialSecret::V1RefreshTokenOnly)
        ));
    }

    #[test]
    fn mixed_or_unknown_forms_are_refused() {
        for bad in [
            r#"{"api_key":"k","mail_address":"m","password":"p"}"#,
            r#"{"mail_address":"m"}"#,
            r#"{}"#,
            r#"{"token":"x"}"#,
        ] {
            assert!(CredentialSecret::from_json(bad).is_err(), "{bad}");
        }
    }
}
