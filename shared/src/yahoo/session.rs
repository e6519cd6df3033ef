//! Yahoo's cookie + crumb (yahoo-api.md §1.3): the cookie host answers (often 404) with a
//! `Set-Cookie`, `/v1/test/getcrumb` with that cookie answers the crumb as plain text, and
//! crumb-protected endpoints want both. Fetched lazily on first use, cached in memory until
//! its expiry on the injected clock, renewed once when Yahoo answers 401; one async mutex
//! makes concurrent callers share one fetch.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::{COOKIE, SET_COOKIE};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::error::{classify, is_html};
use crate::clock::Clock;
use crate::provider::{
    AUTH_MAX_BODY, Auth, Credentials, ProviderError, dispatch, execute, read_capped, redirect,
    retry_after,
};

/// How long a crumb is used before it is fetched again by default. Yahoo publishes no
/// lifetime (its `A3` cookie says a year); renewing now and then costs two requests and
/// keeps a session from going stale between the 401s that would renew it anyway.
pub const DEFAULT_CRUMB_TTL: TimeDelta = TimeDelta::hours(6);

#[derive(Debug)]
struct Session {
    cookie: SecretString,
    crumb: SecretString,
    expires_at: DateTime<Utc>,
    generation: u64,
}

/// The cookie + crumb of one process. Share it between all Yahoo callers.
#[derive(Debug)]
pub struct CrumbAuth {
    http: reqwest::Client,
    cookie_url: String,
    crumb_url: String,
    clock: Arc<dyn Clock>,
    ttl: TimeDelta,
    session: Mutex<Option<Session>>,
    generations: std::sync::atomic::AtomicU64,
}

impl CrumbAuth {
    pub(crate) fn new(
        http: reqwest::Client,
        cookie_url: &str,
        base_url: &str,
        clock: Arc<dyn Clock>,
        ttl: TimeDelta,
    ) -> Self {
        Self {
            http,
            cookie_url: cookie_url.to_owned(),
            crumb_url: format!("{}/v1/test/getcrumb", base_url.trim_end_matches('/')),
            clock,
            ttl,
            session: Mutex::new(None),
            generations: std::sync::atomic::AtomicU64::new(0),
        }
    }

    async fn open(&self) -> Result<Session, ProviderError> {
        let cookie = self.cookie().await?;
        let response = execute(
            self.http
                .get(&self.crumb_url)
                .header(COOKIE, cookie.expose_secret()),
        )
        .await?;
        let status = response.status().as_u16();
        let after = retry_after(&response);
        let body = read_capped(response, AUTH_MAX_BODY).await?;
        let body = String::from_utf8_lossy(&body);
        if status != 200 {
            return Err(classify(status, after, &body));
        }
        let crumb = valid_crumb(&body).ok_or_else(|| classify(status, after, &body))?;
        Ok(Session {
            cookie,
            crumb: crumb.into(),
            expires_at: self.clock.now() + self.ttl,
            generation: self
                .generations
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1,
        })
    }

    /// The cookies the cookie host sets, as a `Cookie` header value. Its status is ignored:
    /// `fc.yahoo.com` answers 404 while setting the cookie. A redirect is not followed (it
    /// would carry nothing secret, but reqwest would drop the first answer's cookies): its
    /// own cookies count, and without any it is the error.
    async fn cookie(&self) -> Result<SecretString, ProviderError> {
        let response = dispatch(self.http.get(&self.cookie_url)).await?;
        if response.status().as_u16() == 429 {
            let after = retry_after(&response);
            let body = read_capped(response, AUTH_MAX_BODY)
                .await
                .unwrap_or_default();
            return Err(classify(429, after, &String::from_utf8_lossy(&body)));
        }
        let pairs: Vec<&str> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(str::trim)
            .filter(|pair| pair.contains('='))
            .collect();
        if pairs.is_empty() {
            if let Some(e) = redirect(&response) {
                return Err(e);
            }
            return Err(ProviderError::Transient(
                "the Yahoo cookie host set no cookie".into(),
            ));
        }
        Ok(pairs.join("; ").into())
    }
}

/// The crumb in a `getcrumb` body, if it looks like one (yfinance-rs's rule, reference
/// §5.1): non-empty, at most 128 characters, no whitespace, not HTML, JSON or an error text.
fn valid_crumb(body: &str) -> Option<&str> {
    let crumb = body.trim();
    let lower = crumb.to_ascii_lowercase();
    let refused = ["too many requests", "unauthorized", "invalid", "rate limit"]
        .iter()
        .any(|w| lower.contains(w));
    let ok = !crumb.is_empty()
        && crumb.len() <= 128
        && !crumb.chars().any(|c| c.is_whitespace() || c.is_control())
        && !crumb.starts_with('{')
        && !is_html(crumb)
        && !refused;
    ok.then_some(crumb)
}

#[async_trait]
impl Auth for CrumbAuth {
    async fn credentials(&self) -> Result<Credentials, ProviderError> {
        let mut session = self.session.lock().await;
        let now = self.clock.now();
        if session.as_ref().is_none_or(|s| now >= s.expires_at) {
            *session = Some(self.open().await?);
        }
        let s = session
            .as_ref()
            .ok_or_else(|| ProviderError::Transient("no Yahoo session".into()))?;
        Ok(Credentials::new(s.generation)
            .header(COOKIE, s.cookie.clone())
            .query("crumb", s.crumb.clone()))
    }

    async fn renewal_requests(&self) -> u32 {
        let session = self.session.lock().await;
        if session
            .as_ref()
            .is_none_or(|s| self.clock.now() >= s.expires_at)
        {
            // The cookie, then the crumb.
            2
        } else {
            0
        }
    }

    async fn rejected(&self, used: &Credentials) -> Result<bool, ProviderError> {
        let mut session = self.session.lock().await;
        // Another caller already replaced the session this request was refused with.
        if session
            .as_ref()
            .is_some_and(|s| s.generation != used.generation())
        {
            return Ok(true);
        }
        *session = Some(self.open().await?);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_crumb_shaped_bodies_are_crumbs() {
        assert_eq!(valid_crumb("Phb0wzVdPs6"), Some("Phb0wzVdPs6"));
        assert_eq!(valid_crumb("Phb0wzVdPs6\n"), Some("Phb0wzVdPs6"));
        for bad in [
            "",
            "Too Many Requests\r\n",
            "Edge: Too Many Requests",
            "<html><body>x</body></html>",
            r#"{"finance":{"error":{"code":"Unauthorized"}}}"#,
            "two words",
            &"x".repeat(129),
        ] {
            assert_eq!(valid_crumb(bad), None, "{bad:?}");
        }
    }
}
