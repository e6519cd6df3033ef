//! `/v1/credentials/{data_source}`: the caller's provider secret, sealed by envelope
//! encryption and bound to (user, data source). Answers carry metadata only, never a secret.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use shared::crypto::CryptoError;
use shared::domain::{
    ApiVersion, CredentialSecret, DataSource, DataSourceCredential, DataSourceId, Plan,
    ProviderType, User, UserId,
};
use shared::jquants::{Login, Token, V1Auth};
use shared::limiter::{RateStatus, Scope, plan_demands};
use shared::provider::{Auth, ProviderError};
use shared::vault::VaultError;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, Errors};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Body: the provider secret and the plan of the provider account. J-Quants V2 takes
/// `api_key`; J-Quants V1 takes `mail_address` with `password` (tokens are then obtained and
/// renewed as needed), a `refresh_token`, or both. Every secret is sealed at once and never
/// shown again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialBody {
    /// J-Quants V2: the API key.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    api_key: Option<SecretString>,
    /// J-Quants V1: the account's mail address (with `password`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    mail_address: Option<SecretString>,
    /// J-Quants V1: the account's password (with `mail_address`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    password: Option<SecretString>,
    /// J-Quants V1: a refresh token from the J-Quants menu, taken to expire 6 days from now
    /// (it lives a week from an issue time we cannot see).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    refresh_token: Option<SecretString>,
    plan: Plan,
}

/// How long a refresh token the user gives is trusted: a week from its issue, which we cannot
/// see, so a day less (as the official client assumes).
const GIVEN_REFRESH_TOKEN_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(6);

/// A checked body: the secret to seal and a V1 refresh token given with it.
struct Secret {
    secret: CredentialSecret,
    refresh_token: Option<SecretString>,
}

fn present(s: &Option<SecretString>) -> Option<&SecretString> {
    s.as_ref().filter(|s| !s.expose_secret().trim().is_empty())
}

impl CredentialBody {
    /// The secret this body gives for `source`, or what to change.
    fn secret(self, source: &shared::domain::DataSource) -> Result<Secret, ApiError> {
        let bad = |m: String| Err(ApiError::BadRequest(m));
        let v1_fields =
            self.mail_address.is_some() || self.password.is_some() || self.refresh_token.is_some();
        match (source.provider_type, source.api_version) {
            (ProviderType::Yfinance, _) => bad(format!(
                "{} needs no credential: create job groups for `{}` directly",
                source.name, source.id
            )),
            (ProviderType::Jquants, ApiVersion::V2) => {
                if v1_fields {
                    return bad(format!(
                        "`{}` is a J-Quants V2 data source: send `api_key` only (`mail_address`, `password` and `refresh_token` are for V1)",
                        source.id
                    ));
                }
                match present(&self.api_key) {
                    Some(key) => Ok(Secret {
                        secret: CredentialSecret::ApiKey(key.clone()),
                        refresh_token: None,
                    }),
                    None => bad("`api_key` must be given and not empty".into()),
                }
            }
            (ProviderType::Jquants, ApiVersion::V1) => {
                if self.api_key.is_some() {
                    return bad(format!(
                        "`{}` is a J-Quants V1 data source: send `mail_address` and `password`, or `refresh_token`, not `api_key`",
                        source.id
                    ));
                }
                let refresh_token = present(&self.refresh_token).cloned();
                let secret = match (present(&self.mail_address), present(&self.password)) {
                    (Some(mail), Some(password)) => {
                        if !mail.expose_secret().contains('@') {
                            return bad("`mail_address` is not a mail address".into());
                        }
                        CredentialSecret::V1Login {
                            mail_address: mail.clone(),
                            password: password.clone(),
                        }
                    }
                    (None, None) if refresh_token.is_some() => CredentialSecret::V1RefreshTokenOnly,
                    (None, None) => {
                        return bad(
                            "give `mail_address` and `password`, or a `refresh_token`".into()
                        );
                    }
                    _ => return bad("`mail_address` and `password` go together".into()),
                };
                Ok(Secret {
                    secret,
                    refresh_token,
                })
            }
        }
    }
}

impl std::fmt::Debug for CredentialBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialBody")
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

/// A credential check's requests (a V2 key: one; a V1 sign-in: two, the refresh token then the
/// id token) take their permits from the account's rate limiter like any fetch, so checks
/// cannot push a busy account into 429s or a lockout. 429 when the budget is spent now.
async fn provider_permits(
    state: &AppState,
    source: &DataSource,
    user: UserId,
    plan: Plan,
    secret: &CredentialSecret,
) -> Result<(Scope, Vec<shared::limiter::Demand>), ApiError> {
    let requests = match secret {
        CredentialSecret::ApiKey(_) => 1,
        CredentialSecret::V1Login { .. } => 2,
        CredentialSecret::V1RefreshTokenOnly => 1,
    };
    let scope = Scope::for_request(source, user);
    let demands = plan_demands(plan, source);
    let taken = state
        .limiter
        .acquire_within(
            &scope,
            shared::limiter::Ask {
                tenant: "credential-check",
                backlog: requests,
            },
            &demands,
            requests,
            std::time::Duration::from_secs(1),
        )
        .await?;
    match taken.next {
        Some(until) if taken.granted < requests => {
            let secs = (until - state.clock.now()).num_seconds().max(1);
            Err(ApiError::TooManyRequests {
                detail: format!(
                    "the provider's rate limit for this account is in use (plan {plan}): verify again in {secs} s; nothing was stored"
                ),
                retry_after_secs: u64::try_from(secs).unwrap_or(1),
            })
        }
        _ => Ok((scope, demands)),
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
    /// The KMS key that seals it: administrators only (it names the deployment's account
    /// and key, of no use to a user).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    key_arn: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    refresh_token: TokenState,
    refresh_token_expired_at: Option<DateTime<Utc>>,
    id_token: TokenState,
    id_token_expired_at: Option<DateTime<Utc>>,
    /// `GET` only: the rate requests with this credential run at, the declared plan's limit
    /// and what the provider has shown of it (a `warning` when it allows clearly less).
    /// Absent when it cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    rate: Option<RateStatus>,
}

fn token_state(present: bool, expires: Option<DateTime<Utc>>, now: DateTime<Utc>) -> TokenState {
    match (present, expires) {
        (false, _) => TokenState::Absent,
        (true, Some(t)) if t <= now => TokenState::Expired,
        (true, _) => TokenState::Valid,
    }
}

fn metadata(c: DataSourceCredential, now: DateTime<Utc>, viewer: &User) -> CredentialMetadata {
    CredentialMetadata {
        refresh_token: token_state(c.refresh_token.is_some(), c.refresh_token_expired_at, now),
        id_token: token_state(c.id_token.is_some(), c.id_token_expired_at, now),
        data_source_id: c.data_source_id,
        plan: c.plan,
        key_arn: viewer.is_admin.then_some(c.encrypted_credentials.key_arn),
        created_at: c.created_at,
        updated_at: c.updated_at,
        refresh_token_expired_at: c.refresh_token_expired_at,
        id_token_expired_at: c.id_token_expired_at,
        rate: None,
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

async fn stored_record(
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
    let plan = body.plan;
    let Secret {
        secret,
        refresh_token,
    } = body.secret(&source)?;
    let now = state.clock.now();
    let refresh = refresh_token.map(|t| Token {
        value: t,
        expires_at: now + GIVEN_REFRESH_TOKEN_LIFETIME,
    });
    // A V1 session that verifying signs in with; the tokens it obtains are stored too.
    let mut session = None;
    if q.verify {
        // Each check signs in at the provider with whatever was sent: a few a minute.
        let window = crate::limits::checks_window(&state);
        if !state.quotas.take(user.id, &window, now).await? {
            return Err(crate::limits::window_full(window, now));
        }
        let (scope, demands) = provider_permits(&state, &source, user.id, plan, &secret).await?;
        let checked = match &secret {
            CredentialSecret::ApiKey(key) => {
                state
                    .provider
                    .verify_key(&source.base_url, key, now.date_naive())
                    .await
            }
            CredentialSecret::V1Login { .. } | CredentialSecret::V1RefreshTokenOnly => {
                let auth = v1_session(&state, &source, &secret, refresh.clone());
                let signed_in = auth.credentials().await.map(|_| ());
                session = Some(auth);
                signed_in
            }
        };
        // The limiter hears the answer as from a fetcher: a 429 pauses the account.
        if let Err(ProviderError::RateLimited { retry_after }) = &checked {
            state
                .limiter
                .throttled(&scope, &demands, *retry_after)
                .await?;
        } else if let Err(e) = state.limiter.answered(&scope).await {
            tracing::warn!(error.message = %e, "could not report an answer to the rate limiter");
        }
        match checked {
            Ok(()) => {}
            Err(e @ (ProviderError::Auth { .. } | ProviderError::Plan(_))) => {
                return Err(ApiError::BadRequest(format!(
                    "{} did not accept these credentials ({e}); nothing was stored: check them and try again",
                    source.name
                )));
            }
            Err(e) => {
                return Err(ApiError::Unavailable(anyhow::anyhow!(
                    "could not verify the credentials now ({e}); nothing was stored: retry, or store it without ?verify=true"
                )));
            }
        }
    }
    let mut record = state
        .vault
        .store(
            user.id,
            &source.id,
            plan,
            &secret,
            refresh.as_ref().map(|t| (&t.value, t.expires_at)),
        )
        .await
        .map_err(vault_error)?;
    if let Some(renewed) = match &session {
        Some(auth) => auth.take_renewed().await,
        None => None,
    } {
        let stored = state
            .vault
            .store_tokens(
                &record,
                renewed.refresh.as_ref().map(|t| (&t.value, t.expires_at)),
                renewed.id.as_ref().map(|t| (&t.value, t.expires_at)),
            )
            .await
            .map_err(vault_error)?;
        if stored {
            record = stored_record(&state, user.id, &source.id).await?;
        }
    }
    tracing::info!(user_id = %user.id, data_source = %source.id, verified = q.verify, "credential stored");
    Ok(Json(metadata(record, state.clock.now(), &user)))
}

/// A V1 token session for the secret being stored.
fn v1_session(
    state: &AppState,
    source: &shared::domain::DataSource,
    secret: &CredentialSecret,
    refresh: Option<Token>,
) -> V1Auth {
    let auth = V1Auth::new(&state.provider, &source.base_url, state.clock.clone())
        .with_tokens(refresh, None);
    match secret {
        CredentialSecret::V1Login {
            mail_address,
            password,
        } => auth.with_login(Login {
            mail_address: mail_address.clone(),
            password: password.clone(),
        }),
        _ => auth,
    }
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
    let record = stored_record(&state, user.id, &source.id).await?;
    let rate = crate::routes::rate::rate(&state, &source, user.id, record.plan).await;
    Ok(Json(CredentialMetadata {
        rate,
        ..metadata(record, state.clock.now(), &user)
    }))
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
