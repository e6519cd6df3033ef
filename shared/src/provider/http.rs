//! The HTTP rules every provider request follows, so that whoever answers in a provider's
//! name can neither carry a secret away nor exhaust the process: requests go to https URLs
//! only (plain http only to this machine), redirects are never followed (reqwest would resend
//! `x-api-key`, a V1 sign-in body or a crumb to the host a redirect names), no `Referer` is
//! sent, bodies are read chunk by chunk up to a cap counted after decompression (a gzip bomb
//! stops there), a `Retry-After` is clamped to a day, and a pagination key sent twice ends the
//! paging ([`PageKeys`]).

use std::collections::HashSet;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{LOCATION, RETRY_AFTER};
use reqwest::{RequestBuilder, Response};

use super::ProviderError;
use crate::domain::DataSource;

/// The largest body a data request reads by default, decompressed. Real pages weigh a few
/// MB; the fetcher runs four jobs at once in 256 MB, so four bodies at the cap still fit.
pub const DEFAULT_MAX_BODY: u64 = 32 * 1024 * 1024;

/// The largest body of an authentication answer (tokens, a crumb): bytes in practice.
pub(crate) const AUTH_MAX_BODY: u64 = 1024 * 1024;

/// The longest `Retry-After` believed: anything longer is read as a day, so no later sum
/// with a date can overflow.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A client builder with the rules above that a client can set (no redirects, no
/// `Referer`) and the timeouts: `timeout` bounds the whole exchange, the body's last byte
/// included, so a body dripping slowly ends in a timeout.
pub(crate) fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(60))
}

/// Sends `request` once its URL passes [`DataSource::check_base_url`]; a redirect comes
/// back as [`ProviderError::Redirected`].
///
/// # Errors
/// [`ProviderError::InsecureUrl`] before sending; [`ProviderError::Transient`] when it
/// cannot be sent or times out; [`ProviderError::Redirected`].
pub(crate) async fn execute(request: RequestBuilder) -> Result<Response, ProviderError> {
    let response = dispatch(request).await?;
    match redirect(&response) {
        Some(e) => Err(e),
        None => Ok(response),
    }
}

/// [`execute`] without judging the status: for the Yahoo cookie host, whose answer counts
/// only for its `Set-Cookie`, whatever the status.
pub(crate) async fn dispatch(request: RequestBuilder) -> Result<Response, ProviderError> {
    let (client, request) = request.build_split();
    let request =
        request.map_err(|e| ProviderError::BadRequest(format!("request not built: {e}")))?;
    DataSource::check_base_url(request.url().as_str())
        .map_err(|e| ProviderError::InsecureUrl(e.to_string()))?;
    client.execute(request).await.map_err(|e| transient(&e))
}

/// The error a 3xx answer is, naming its target (resolved against the request's URL,
/// without its query).
pub(crate) fn redirect(response: &Response) -> Option<ProviderError> {
    let status = response.status();
    if !status.is_redirection() {
        return None;
    }
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map_or_else(
            || "nowhere (no Location header)".to_owned(),
            |target| match response.url().join(target) {
                Ok(mut url) => {
                    url.set_query(None);
                    url.set_fragment(None);
                    format!("`{}`", url.as_str().chars().take(200).collect::<String>())
                }
                Err(_) => format!("`{}`", target.chars().take(200).collect::<String>()),
            },
        );
    Some(ProviderError::Redirected {
        status: status.as_u16(),
        location,
    })
}

/// The body, read chunk by chunk (decompressed) until its end or until it passes `cap`
/// bytes, whichever comes first: memory never holds more than `cap`.
///
/// # Errors
/// [`ProviderError::BodyTooLarge`]; [`ProviderError::Transient`] when the connection fails
/// or the client's timeout passes mid-body.
pub(crate) async fn read_capped(mut response: Response, cap: u64) -> Result<Bytes, ProviderError> {
    // Only a length the server declares for the bytes as they arrive: reqwest hides it when
    // it decompresses.
    let declared = response.content_length().unwrap_or(0);
    if declared > cap {
        return Err(ProviderError::BodyTooLarge { cap });
    }
    // Chunks are kept as they come and joined at the end: a growing buffer would hold its
    // old and new copies at once, half as much again as the cap while a bomb is read.
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| transient(&e))? {
        total += chunk.len() as u64;
        if total > cap {
            return Err(ProviderError::BodyTooLarge { cap });
        }
        chunks.push(chunk);
    }
    if chunks.len() == 1 {
        return Ok(chunks.swap_remove(0));
    }
    let mut body = BytesMut::with_capacity(usize::try_from(total).unwrap_or(0));
    for chunk in chunks {
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A transport failure, described without the URL: it may carry query parameters a user
/// considers private, or a token.
pub(crate) fn transient(e: &reqwest::Error) -> ProviderError {
    let what = if e.is_timeout() {
        "request timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "connection error"
    };
    ProviderError::Transient(what.into())
}

/// `Retry-After` in seconds, if the response has one, at most [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // More digits than a u64 holds is as good as "much later".
    let secs = value.parse::<u64>().unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// The pagination keys one paging run has been given. A provider that sends a key again
/// would have its client ask for the same pages for ever.
#[derive(Debug, Default)]
pub struct PageKeys(HashSet<String>);

impl PageKeys {
    /// Records `next`, the key the provider gave for the next page.
    ///
    /// # Errors
    /// [`ProviderError::RepeatedPageKey`] when it gave the same key before.
    pub fn record(&mut self, next: &str) -> Result<(), ProviderError> {
        if self.0.insert(next.to_owned()) {
            Ok(())
        } else {
            Err(ProviderError::repeated_key(next))
        }
    }
}

#[cfg(test)]
mod tests;
