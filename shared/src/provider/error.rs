//! Provider failures and their retry dispositions: one table, unit-tested.

use std::time::Duration;

/// What the caller should do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Retry with backoff.
    Retry,
    /// Retry no sooner than after the given wait.
    RetryAfter(Duration),
    /// Retry once; fail if it happens again.
    RetryOnce,
    /// Do not retry: it fails the same way until the user changes something.
    Fail,
}

/// A provider request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The credential was refused (V2 403 for a wrong key, V1 401).
    #[error("credential rejected by the provider ({status}): {message}")]
    Auth {
        /// HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// The plan does not include this data or date range.
    #[error("not included in the plan: {0}")]
    Plan(String),
    /// The request was malformed (400), or asked for more than the provider serves (Yahoo's
    /// 422 for an intraday range past its lookback).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Nothing to serve: the symbol is unknown or delisted (Yahoo's 404).
    #[error("no data: {0}")]
    NoContent(String),
    /// Too many requests (429); `retry_after` when the provider said how long.
    #[error("rate limited by the provider")]
    RateLimited {
        /// From `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// A server error, timeout or dropped connection.
    #[error("provider unavailable: {0}")]
    Transient(String),
    /// A success status with a body that is not what the endpoint returns.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// The provider answered a redirect. Redirects are never followed: the request's
    /// credentials would go wherever the redirect points.
    #[error(
        "the provider answered HTTP {status} redirecting to {location}; redirects are not followed, so credentials stay on the data source's host: check its base_url"
    )]
    Redirected {
        /// HTTP status (301, 302, 303, 307, 308).
        status: u16,
        /// The target, without its query.
        location: String,
    },
    /// A request would have gone to a URL that is neither https nor on this machine.
    #[error("refused to send a request: {0}")]
    InsecureUrl(String),
    /// The body (decompressed) was larger than the cap; reading stopped there.
    #[error(
        "the provider's answer is larger than the {} MiB cap (counted decompressed); reading stopped there",
        cap / (1024 * 1024)
    )]
    BodyTooLarge {
        /// The cap, bytes.
        cap: u64,
    },
    /// The provider sent a pagination key it had sent before: following it would loop for
    /// ever.
    #[error(
        "the provider sent pagination key `{0}` a second time; paging stopped, since following it would loop for ever"
    )]
    RepeatedPageKey(String),
}

impl ProviderError {
    /// What to do about it.
    pub fn disposition(&self) -> Disposition {
        match self {
            ProviderError::Auth { .. }
            | ProviderError::Plan(_)
            | ProviderError::BadRequest(_)
            | ProviderError::NoContent(_)
            | ProviderError::Redirected { .. }
            | ProviderError::InsecureUrl(_)
            | ProviderError::BodyTooLarge { .. }
            | ProviderError::RepeatedPageKey(_) => Disposition::Fail,
            ProviderError::RateLimited {
                retry_after: Some(d),
            } => Disposition::RetryAfter(*d),
            ProviderError::RateLimited { retry_after: None } | ProviderError::Transient(_) => {
                Disposition::Retry
            }
            ProviderError::Malformed(_) => Disposition::RetryOnce,
        }
    }

    /// A success answer whose JSON could not be read: cut short in transit (a transport fault,
    /// retried like a 500) or complete but not what the endpoint returns.
    pub fn unreadable(e: &serde_json::Error) -> Self {
        if e.is_eof() {
            ProviderError::Transient(format!("truncated body: {e}"))
        } else {
            ProviderError::Malformed(e.to_string())
        }
    }

    /// A pagination key seen before, named by at most its first 64 characters.
    pub fn repeated_key(key: &str) -> Self {
        ProviderError::RepeatedPageKey(key.chars().take(64).collect())
    }

    /// Classifies a non-success HTTP answer. `body` is the raw text: a 429 may be plain text,
    /// so the status decides before any JSON is parsed.
    pub fn from_status(status: u16, retry_after: Option<Duration>, body: &str) -> Self {
        let message = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| body.chars().take(200).collect());
        match status {
            429 => ProviderError::RateLimited { retry_after },
            400 if message.contains("subscription") => ProviderError::Plan(message),
            400 | 413 => ProviderError::BadRequest(message),
            401 => ProviderError::Auth { status, message },
            403 if message.contains("subscription") || message.contains("plan") => {
                ProviderError::Plan(message)
            }
            403 => ProviderError::Auth { status, message },
            500..=599 => ProviderError::Transient(format!("HTTP {status}: {message}")),
            _ => ProviderError::Transient(format!("unexpected HTTP {status}: {message}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_disposition() {
        let table: &[(u16, Option<u64>, &str, Disposition)] = &[
            (
                400,
                None,
                r#"{"message":"This API requires at least 1 parameter as follows; date, code"}"#,
                Disposition::Fail,
            ),
            (
                400,
                None,
                r#"{"message":"Your subscription covers the following dates: 2023-01-01 ~ 2024-01-01."}"#,
                Disposition::Fail,
            ),
            (
                401,
                None,
                r#"{"message":"The incoming token is invalid or expired."}"#,
                Disposition::Fail,
            ),
            (
                403,
                None,
                r#"{"message":"Invalid API key"}"#,
                Disposition::Fail,
            ),
            (429, None, "Too Many Requests", Disposition::Retry),
            (
                429,
                Some(30),
                "Too Many Requests",
                Disposition::RetryAfter(Duration::from_secs(30)),
            ),
            (
                500,
                None,
                r#"{"message":"Unexpected error. Please try again later."}"#,
                Disposition::Retry,
            ),
            (503, None, "<html>", Disposition::Retry),
        ];
        for (status, after, body, want) in table {
            let e = ProviderError::from_status(*status, after.map(Duration::from_secs), body);
            assert_eq!(e.disposition(), *want, "{status} {body}");
        }
        assert_eq!(
            ProviderError::Malformed("x".into()).disposition(),
            Disposition::RetryOnce
        );
        let cut =
            serde_json::from_str::<serde_json::Value>(r#"{"data": [{"Code": "72"#).unwrap_err();
        assert_eq!(
            ProviderError::unreadable(&cut).disposition(),
            Disposition::Retry,
            "a truncated body is a transport fault"
        );
        let wrong = serde_json::from_str::<serde_json::Value>(r#"{"data": [}"#).unwrap_err();
        assert_eq!(
            ProviderError::unreadable(&wrong).disposition(),
            Disposition::RetryOnce
        );
        assert_eq!(
            ProviderError::NoContent("delisted".into()).disposition(),
            Disposition::Fail
        );
    }

    #[test]
    fn a_hostile_answer_fails_the_job_at_once() {
        for e in [
            ProviderError::Redirected {
                status: 307,
                location: "http://evil.example/steal".into(),
            },
            ProviderError::InsecureUrl("`http://evil.example` must use https".into()),
            ProviderError::BodyTooLarge { cap: 32 << 20 },
            ProviderError::repeated_key("abc"),
        ] {
            assert_eq!(e.disposition(), Disposition::Fail, "{e}");
        }
        assert!(
            ProviderError::BodyTooLarge { cap: 32 << 20 }
                .to_string()
                .contains("32 MiB cap")
        );
        let long = ProviderError::repeated_key(&"k".repeat(500)).to_string();
        assert!(long.contains(&"k".repeat(64)) && !long.contains(&"k".repeat(65)));
    }

    #[test]
    fn messages_are_taken_from_json_bodies() {
        let e = ProviderError::from_status(400, None, r#"{"message":"bad date"}"#);
        assert_eq!(e, ProviderError::BadRequest("bad date".into()));
        assert!(matches!(
            ProviderError::from_status(400, None, r#"{"message":"Your subscription covers ..."}"#),
            ProviderError::Plan(_)
        ));
    }
}
