//! J-Quants V1 token auth (reference §1.2, §4.2): mail address + password give a refresh
//! token (one week), a refresh token gives an id token (24 hours), data requests carry
//! `Authorization: Bearer <idToken>`.
//!
//! Tokens are renewed a margin ahead of expiry on the injected clock; a 401 renews the id
//! token once, a refused (400) refresh token leads to one login, and anything beyond that is
//! an auth error. The token state sits behind one async mutex, so concurrent callers in a
//! process wait for a single renewal instead of each making their own. Renewed tokens are
//! kept for [`V1Auth::take_renewed`], which the caller stores through the vault.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::JQuantsClient;
use crate::clock::Clock;
use crate::provider::{
    AUTH_MAX_BODY, Auth, Credentials, ProviderError, execute, read_capped, retry_after,
};

/// How long a refresh token lives (reference §1.2).
pub const REFRESH_TOKEN_LIFETIME: TimeDelta = TimeDelta::days(7);
/// How long an id token lives.
pub const ID_TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(24);
/// How long before expiry a token is renewed by default: longer than any one request, so a
/// token checked as live does not expire on the way.
pub const DEFAULT_MARGIN: TimeDelta = TimeDelta::minutes(10);

/// A token and when it expires. The responses carry no expiry, so it is computed from the
/// lifetime at the moment the token was issued.
#[derive(Debug, Clone)]
pub struct Token {
    /// The token.
    pub value: SecretString,
    /// When the provider stops accepting it.
    pub expires_at: DateTime<Utc>,
}

impl Token {
    fn live(&self, now: DateTime<Utc>, margin: TimeDelta) -> bool {
        now + margin < self.expires_at
    }
}

/// Tokens renewed since the caller last asked: each `Some` should be stored
/// (`Vault::store_tokens(record, refresh, id)`).
#[derive(Debug, Clone, Default)]
pub struct RenewedTokens {
    /// A new refresh token (after a login).
    pub refresh: Option<Token>,
    /// A new id token.
    pub id: Option<Token>,
}

/// The account's mail address and password, for logging in again when the refresh token is
/// refused. `Debug` shows neither.
#[derive(Clone)]
pub struct Login {
    /// The mail address registered with J-Quants.
    pub mail_address: SecretString,
    /// Its password.
    pub password: SecretString,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Login([REDACTED])")
    }
}

#[derive(Debug, Default)]
struct State {
    refresh: Option<Token>,
    id: Option<Token>,
    /// Bumped with every new id token: the [`Credentials`] generation.
    generation: u64,
    renewed: RenewedTokens,
}

/// J-Quants V1 authentication for one account. Share it (`Arc`) between all callers of the
/// account in a process.
#[derive(Debug)]
pub struct V1Auth {
    http: reqwest::Client,
    base_url: String,
    login: Option<Login>,
    clock: Arc<dyn Clock>,
    margin: TimeDelta,
    state: Mutex<State>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshTokenBody {
    refresh_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdTokenBody {
    id_token: String,
}

/// The outcome of `auth_refresh` that decides between giving up and logging in again.
enum Refreshed {
    Id(Token),
    Refused(String),
}

impl V1Auth {
    /// Auth against the V1 API at `base_url` (e.g. `https://api.jquants.com/v1`), with no
    /// tokens yet and no login: add one or both with [`V1Auth::with_login`] and
    /// [`V1Auth::with_tokens`].
    pub fn new(client: &JQuantsClient, base_url: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            http: client.http.clone(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            login: None,
            clock,
            margin: DEFAULT_MARGIN,
            state: Mutex::new(State::default()),
        }
    }

    /// Logs in with these when there is no usable refresh token.
    pub fn with_login(mut self, login: Login) -> Self {
        self.login = Some(login);
        self
    }

    /// Starts from stored tokens (as the vault opened them, with their `*_expired_at`).
    pub fn with_tokens(self, refresh: Option<Token>, id: Option<Token>) -> Self {
        let mut state = self.state.into_inner();
        state.refresh = refresh;
        state.id = id;
        Self {
            state: Mutex::new(state),
            ..self
        }
    }

    /// Renews tokens `margin` before they expire instead of [`DEFAULT_MARGIN`].
    pub fn with_margin(mut self, margin: TimeDelta) -> Self {
        self.margin = margin;
        self
    }

    /// The tokens renewed since the last call, to be persisted; `None` if nothing changed.
    pub async fn take_renewed(&self) -> Option<RenewedTokens> {
        let mut state = self.state.lock().await;
        let renewed = std::mem::take(&mut state.renewed);
        (renewed.refresh.is_some() || renewed.id.is_some()).then_some(renewed)
    }

    fn bearer(state: &State) -> Result<Credentials, ProviderError> {
        let id = state
            .id
            .as_ref()
            .ok_or_else(|| auth_error(0, "no id token"))?;
        let value = SecretString::from(format!("Bearer {}", id.value.expose_secret()));
        Ok(Credentials::new(state.generation).header(AUTHORIZATION, value))
    }

    /// A new id token; from the refresh token while it lives and is accepted, otherwise
    /// after one login.
    async fn renew(&self, state: &mut State) -> Result<(), ProviderError> {
        let now = self.clock.now();
        if let Some(refresh) = state.refresh.clone().filter(|t| t.live(now, self.margin)) {
            match self.refresh(&refresh.value).await? {
                Refreshed::Id(id) => {
                    state.set_id(id);
                    return Ok(());
                }
                Refreshed::Refused(message) if self.login.is_none() => {
                    return Err(auth_error(400, &message));
                }
                Refreshed::Refused(_) => state.refresh = None,
            }
        }
        let login = self.login.as_ref().ok_or_else(|| {
            auth_error(
                0,
                "the refresh token has expired and no mail address and password are stored",
            )
        })?;
        let refresh = self.log_in(login).await?;
        state.set_refresh(refresh.clone());
        match self.refresh(&refresh.value).await? {
            Refreshed::Id(id) => {
                state.set_id(id);
                Ok(())
            }
            Refreshed::Refused(message) => Err(auth_error(400, &message)),
        }
    }

    /// `POST /token/auth_user`.
    async fn log_in(&self, login: &Login) -> Result<Token, ProviderError> {
        let body = json!({
            "mailaddress": login.mail_address.expose_secret(),
            "password": login.password.expose_secret(),
        });
        let issued_at = self.clock.now();
        // Never re-sent to a redirect's target: a 307 or 308 would carry the password along.
        let response = execute(
            self.http
                .post(format!("{}/token/auth_user", self.base_url))
                .json(&body),
        )
        .await?;
        let (status, body) = read(response).await?;
        if status == StatusCode::BAD_REQUEST {
            return Err(auth_error(400, &message_of(&body)));
        }
        let token: RefreshTokenBody = parse_success(status, &body)?;
        Ok(Token {
            value: token.refresh_token.into(),
            expires_at: issued_at + REFRESH_TOKEN_LIFETIME,
        })
    }

    /// `POST /token/auth_refresh?refreshtoken=...`; a 400 means the refresh token is expired
    /// or unknown (reference §4.2).
    async fn refresh(&self, refresh: &SecretString) -> Result<Refreshed, ProviderError> {
        let issued_at = self.clock.now();
        let response = execute(
            self.http
                .post(format!("{}/token/auth_refresh", self.base_url))
                .query(&[("refreshtoken", refresh.expose_secret())]),
        )
        .await?;
        let (status, body) = read(response).await?;
        if status == StatusCode::BAD_REQUEST {
            return Ok(Refreshed::Refused(message_of(&body)));
        }
        let token: IdTokenBody = parse_success(status, &body)?;
        Ok(Refreshed::Id(Token {
            value: token.id_token.into(),
            expires_at: issued_at + ID_TOKEN_LIFETIME,
        }))
    }
}

impl State {
    fn set_refresh(&mut self, token: Token) {
        self.renewed.refresh = Some(token.clone());
        self.refresh = Some(token);
    }

    fn set_id(&mut self, token: Token) {
        self.renewed.id = Some(token.clone());
        self.id = Some(token);
        self.generation += 1;
    }
}

#[async_trait]
impl Auth for V1Auth {
    async fn credentials(&self) -> Result<Credentials, ProviderError> {
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        if !state.id.as_ref().is_some_and(|t| t.live(now, self.margin)) {
            self.renew(&mut state).await?;
        }
        Self::bearer(&state)
    }

    async fn renewal_requests(&self) -> u32 {
        let state = self.state.lock().await;
        let now = self.clock.now();
        if state.id.as_ref().is_some_and(|t| t.live(now, self.margin)) {
            0
        } else if state
            .refresh
            .as_ref()
            .is_some_and(|t| t.live(now, self.margin))
        {
            1
        } else if self.login.is_some() {
            // A login, then a refresh.
            2
        } else {
            // Nothing to renew with: credentials() fails without a request.
            0
        }
    }

    async fn rejected(&self, used: &Credentials) -> Result<bool, ProviderError> {
        let mut state = self.state.lock().await;
        // Another caller already replaced the token this request was refused with.
        if state.generation != used.generation() {
            return Ok(true);
        }
        state.id = None;
        self.renew(&mut state).await?;
        Ok(true)
    }
}

fn auth_error(status: u16, message: &str) -> ProviderError {
    ProviderError::Auth {
        status,
        message: message.to_owned(),
    }
}

async fn read(response: reqwest::Response) -> Result<(StatusCode, String), ProviderError> {
    let status = response.status();
    let after = retry_after(&response);
    let body = read_capped(response, AUTH_MAX_BODY).await?;
    let body = String::from_utf8_lossy(&body).into_owned();
    // 400 is an answer here, not a failure: a refused refresh token or bad credentials.
    if status.is_success() || status == StatusCode::BAD_REQUEST {
        return Ok((status, body));
    }
    Err(ProviderError::from_status(status.as_u16(), after, &body))
}

fn parse_success<T: for<'de> Deserialize<'de>>(
    status: StatusCode,
    body: &str,
) -> Result<T, ProviderError> {
    serde_json::from_str(body)
        .map_err(|e| ProviderError::Malformed(format!("token response ({status}): {e}")))
}

fn message_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
}
