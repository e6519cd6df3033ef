//! The API as the CLI calls it: bearer authentication, JSON bodies, and every error answer
//! (RFC 9457 problem+json) turned into a [`CliError`] carrying the API's `detail`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, Response};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{CliError, chain};

/// A JSON call's time limit.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of the API with the user's key.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    config: Config,
}

/// A job group as `GET /v1/job-groups/{id}` shows it. Fields the CLI does not use are kept in
/// `rest`, so `--json` prints everything the API said.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct GroupView {
    /// The group's id.
    pub id: String,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    /// Jobs planned (0 until a per-trading-day group is planned).
    pub total_jobs: u64,
    /// Jobs that completed.
    pub completed_jobs: u64,
    /// Jobs that failed.
    pub failed_jobs: u64,
    /// Why the group failed.
    #[serde(default)]
    pub error_message: Option<String>,
    /// The endpoint parameters.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Everything else the API said.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl GroupView {
    /// Whether the group has ended (it changes no more unless retried).
    pub fn has_ended(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed")
    }

    /// Jobs that have ended either way.
    pub fn finished_jobs(&self) -> u64 {
        self.completed_jobs + self.failed_jobs
    }

    /// A top-level text field of the view, e.g. `endpoint`.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.rest.get(field).and_then(Value::as_str)
    }

    /// The rate the group's requests run at, when the API said it (`GET` of one group) in a
    /// form the CLI reads; anything else is no rate, never an error.
    pub fn rate(&self) -> Option<Rate> {
        self.rest
            .get("rate")
            .and_then(|v| Rate::deserialize(v).ok())
    }
}

/// The `rate` of a group view: the owner's limit at the provider and what the provider has
/// shown of it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Rate {
    /// What the declared plan (and the data source) allow a minute.
    pub configured_per_minute: u32,
    /// What is in force a minute: less than configured once the provider said so.
    pub effective_per_minute: u32,
    /// `open`, `slow_start` or `learned` (below the configured limit since a 429).
    pub mode: String,
    /// 429s the provider has answered for this account.
    #[serde(default)]
    pub throttled_total: u64,
    /// Nothing is sent to the provider before this.
    #[serde(default)]
    pub paused_until: Option<DateTime<Utc>>,
    /// Set when the provider allows clearly less than the declared plan.
    #[serde(default)]
    pub warning: Option<String>,
}

impl Api {
    /// A client for the configured API.
    ///
    /// # Errors
    /// [`CliError::Unexpected`] when the HTTP client cannot be built (no TLS roots).
    pub fn new(config: &Config) -> Result<Self, CliError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A 303 names a presigned link, fetched without the API key (`fetch_link`).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("moomoo-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Unexpected(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            config: config.clone(),
        })
    }

    /// Sends `method path` (with a JSON body) and returns the successful response.
    ///
    /// # Errors
    /// [`CliError::Api`] for an error status, [`CliError::Unreachable`] when no answer came.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Option<Duration>,
    ) -> Result<Response, CliError> {
        let resp = self.request(method, path, body, timeout).await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(Self::refusal(resp).await)
    }

    /// Sends `method path` and returns the answer whatever its status (a redirect too).
    ///
    /// # Errors
    /// [`CliError::Unreachable`] when no answer came.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Option<Duration>,
    ) -> Result<Response, CliError> {
        let url = format!("{}{path}", self.config.api_url);
        let mut req = self
            .http
            .request(method, &url)
            .bearer_auth(self.config.api_key.expose_secret());
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.map_err(|e| CliError::Unreachable {
            url: self.config.api_url.clone(),
            cause: chain(&e),
        })
    }

    /// The error an unsuccessful answer stands for, with its problem+json `detail`.
    pub async fn refusal(resp: Response) -> CliError {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        CliError::Api {
            status: status.as_u16(),
            detail: problem_detail(&text)
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
        }
    }

    /// The API's URL, for errors about its answers.
    pub fn url(&self) -> &str {
        &self.config.api_url
    }

    /// A JSON call; the answer parsed as `T`.
    ///
    /// # Errors
    /// As [`Api::send`], and [`CliError::Unexpected`] for an answer that is not a `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, CliError> {
        self.call_within(method, path, body, CALL_TIMEOUT).await
    }

    /// A JSON call allowed `timeout` (an export is written before it answers).
    ///
    /// # Errors
    /// As [`Api::call`].
    pub async fn call_within<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<T, CliError> {
        let what = format!("{method} {path}");
        let resp = self.send(method, path, body, Some(timeout)).await?;
        let bytes = resp.bytes().await.map_err(|e| CliError::Unreachable {
            url: self.config.api_url.clone(),
            cause: chain(&e),
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| CliError::Unexpected(format!("{what}: unreadable answer: {e}")))
    }

    /// `GET url` for a link the API handed out (a presigned export): sent without the API
    /// key, which must never leave for another host.
    ///
    /// # Errors
    /// [`CliError::Unreachable`] when no answer came or the answer is an error.
    pub async fn fetch_link(&self, url: &str) -> Result<Response, CliError> {
        let host = || url.split('?').next().unwrap_or(url).to_owned();
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| CliError::Unreachable {
                url: host(),
                cause: chain(&e),
            })?;
        if !resp.status().is_success() {
            return Err(CliError::Unreachable {
                url: host(),
                cause: format!("the download answered {}", resp.status()),
            });
        }
        Ok(resp)
    }

    /// A call whose success has no body (e.g. `DELETE`).
    ///
    /// # Errors
    /// As [`Api::send`].
    pub async fn call_no_content(&self, method: Method, path: &str) -> Result<(), CliError> {
        self.send(method, path, None, Some(CALL_TIMEOUT)).await?;
        Ok(())
    }

    /// `GET /v1/job-groups/{id}`.
    ///
    /// # Errors
    /// As [`Api::call`]; another user's group is not found (404).
    pub async fn group(&self, id: &str) -> Result<GroupView, CliError> {
        self.call(
            Method::GET,
            &format!("/v1/job-groups/{}", segment(id)?),
            None,
        )
        .await
    }
}

/// A path segment from user input; refuses what would change the path.
///
/// # Errors
/// [`CliError::Usage`] for an empty id or one with `/`, `?`, `#` or `%`.
pub fn segment(id: &str) -> Result<&str, CliError> {
    if id.is_empty() || id.contains(['/', '?', '#', '%', ' ']) {
        return Err(CliError::Usage(format!("`{id}` is not a valid id")));
    }
    Ok(id)
}

/// The `detail` of a problem+json body, else a short plain-text body.
fn problem_detail(body: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        return v["detail"]
            .as_str()
            .or(v["message"].as_str())
            .map(str::to_owned);
    }
    let text = body.trim();
    (!text.is_empty() && text.len() <= 300).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_problem_detail_is_what_the_user_reads() {
        let body = r#"{"type":"about:blank","title":"Conflict","status":409,"detail":"no credential stored for `jquants-v2`: store one with PUT /v1/credentials/jquants-v2 first"}"#;
        assert_eq!(
            problem_detail(body).as_deref(),
            Some(
                "no credential stored for `jquants-v2`: store one with PUT /v1/credentials/jquants-v2 first"
            )
        );
        assert_eq!(
            problem_detail("Bad Gateway").as_deref(),
            Some("Bad Gateway")
        );
        assert_eq!(problem_detail(""), None);
    }

    #[test]
    fn ids_cannot_escape_their_path_segment() {
        assert!(segment("0191a3b4-aaaa").is_ok());
        for bad in ["", "../admin", "a?b", "a#b", "a%2f"] {
            assert_eq!(segment(bad).unwrap_err().exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn a_group_view_keeps_fields_it_does_not_name() {
        let v: GroupView = serde_json::from_value(serde_json::json!({
            "id": "g", "status": "running", "total_jobs": 3, "completed_jobs": 1,
            "failed_jobs": 1, "error_message": null, "endpoint": "eq-bars-daily",
            "params": {"from": "2026-01-05"}, "split": "per-symbol"
        }))
        .unwrap();
        assert_eq!((v.finished_jobs(), v.has_ended()), (2, false));
        assert_eq!(v.text("endpoint"), Some("eq-bars-daily"));
        let back = serde_json::to_value(&v).unwrap();
        assert_eq!(back["split"], "per-symbol");
        assert_eq!(v.rate(), None, "no `rate`");
    }

    #[test]
    fn a_group_views_rate_is_read_and_a_strange_one_ignored() {
        let view = |rate: Value| -> GroupView {
            serde_json::from_value(serde_json::json!({
                "id": "g", "status": "running", "total_jobs": 3, "completed_jobs": 1,
                "failed_jobs": 0, "rate": rate
            }))
            .unwrap()
        };
        let v = view(serde_json::json!({"configured_per_minute": 60,
            "effective_per_minute": 12, "mode": "learned", "throttled_total": 4,
            "paused_until": "2026-12-06T10:00:00Z", "warning": "w"}));
        let rate = v.rate().unwrap();
        assert_eq!(
            (
                rate.effective_per_minute,
                rate.mode.as_str(),
                rate.throttled_total
            ),
            (12, "learned", 4)
        );
        assert_eq!(
            rate.paused_until.unwrap().to_rfc3339(),
            "2026-12-06T10:00:00+00:00"
        );
        assert_eq!(serde_json::to_value(&v).unwrap()["rate"]["warning"], "w");
        assert_eq!(view(serde_json::json!({"mode": 3})).rate(), None);
        assert_eq!(view(Value::Null).rate(), None);
    }
}
