//! Yahoo's answers mapped onto [`ProviderError`] (yahoo-api.md §2.4, §3): the status and the
//! raw text decide first, because a rate-limited answer is plain text (`Too Many
//! Requests\r\n`) and an outage an HTML page, neither of them JSON.

use std::time::Duration;

use serde_json::Value;

use crate::provider::ProviderError;

/// How long to leave Yahoo alone after a 429 that names no wait: its blocks outlast a quick
/// retry, and every request inside one renews it (reference §3, §5.1: pause ≥ 15 minutes).
pub const COOL_DOWN: Duration = Duration::from_secs(15 * 60);

/// Whether a body is Yahoo's rate-limit text rather than data.
pub(crate) fn is_rate_limit_text(body: &str) -> bool {
    let head = body.trim_start();
    !head.starts_with('{') && head.to_ascii_lowercase().contains("too many requests")
}

/// Whether a body is an HTML page (cookie host, outage notice) rather than data.
pub(crate) fn is_html(body: &str) -> bool {
    body.trim_start().starts_with('<')
}

/// Classifies an answer that is not usable data: any non-200 status, or a 200 whose body is
/// rate-limit text or HTML.
pub(crate) fn classify(status: u16, retry_after: Option<Duration>, body: &str) -> ProviderError {
    if status == 429 || is_rate_limit_text(body) {
        return ProviderError::RateLimited {
            retry_after: Some(retry_after.unwrap_or(COOL_DOWN)),
        };
    }
    let description = description(body);
    match status {
        401 | 403 => ProviderError::Auth {
            status,
            message: description,
        },
        404 => ProviderError::NoContent(description),
        400 | 422 => ProviderError::BadRequest(description),
        200 if is_html(body) => ProviderError::Transient("Yahoo answered an HTML page".into()),
        200 => ProviderError::Malformed(description),
        _ => ProviderError::Transient(format!("HTTP {status}: {description}")),
    }
}

/// The `error` object of a `chart.error`, `finance.error` or `quoteResponse.error` answer,
/// or of a top-level `error`, as a provider error (`Not Found` → no content).
pub(crate) fn from_error_object(error: &Value) -> ProviderError {
    let code = error.get("code").and_then(Value::as_str).unwrap_or("");
    let text = error
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or(code)
        .to_owned();
    match code {
        "Not Found" => ProviderError::NoContent(text),
        "Unauthorized" => ProviderError::Auth {
            status: 401,
            message: text,
        },
        _ => ProviderError::BadRequest(text),
    }
}

fn description(body: &str) -> String {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        ["chart", "finance", "quoteResponse"]
            .iter()
            .find_map(|k| v.get(k).and_then(|inner| inner.get("error")).cloned())
            .or_else(|| v.get("error").cloned())
            .and_then(|e| {
                e.get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
    });
    from_json.unwrap_or_else(|| body.trim().chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Disposition;

    #[test]
    fn each_yahoo_answer_has_its_disposition() {
        let fifteen_minutes = Disposition::RetryAfter(COOL_DOWN);
        let table: &[(u16, Option<u64>, &str, Disposition)] = &[
            (429, None, "Too Many Requests\r\n", fifteen_minutes),
            (
                429,
                Some(60),
                "Too Many Requests\r\n",
                Disposition::RetryAfter(Duration::from_secs(60)),
            ),
            (200, None, "Edge: Too Many Requests", fifteen_minutes),
            (
                401,
                None,
                r#"{"finance":{"result":null,"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}"#,
                Disposition::Fail,
            ),
            (
                404,
                None,
                r#"{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}"#,
                Disposition::Fail,
            ),
            (
                422,
                None,
                r#"{"chart":{"result":null,"error":{"code":"Unprocessable Entity","description":"5m data not available. The requested range must be within the last 60 days."}}}"#,
                Disposition::Fail,
            ),
            (
                400,
                None,
                r#"{"chart":{"result":null,"error":{"code":"Bad Request","description":"Invalid input"}}}"#,
                Disposition::Fail,
            ),
            (
                503,
                None,
                "<html><body>Will be right back...</body></html>",
                Disposition::Retry,
            ),
            (
                200,
                None,
                "<html><body>Will be right back...</body></html>",
                Disposition::Retry,
            ),
            (500, None, "", Disposition::Retry),
            (200, None, r#"{"chart":{"resu"#, Disposition::RetryOnce),
        ];
        for (status, after, body, want) in table {
            let e = classify(*status, after.map(Duration::from_secs), body);
            assert_eq!(e.disposition(), *want, "{status} {body}: {e:?}");
        }
    }

    #[test]
    fn descriptions_come_from_the_error_object() {
        let body = r#"{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}"#;
        assert_eq!(
            classify(404, None, body),
            ProviderError::NoContent("No data found, symbol may be delisted".into())
        );
        let invalid = serde_json::json!({"code": "Unauthorized", "description": "Invalid Crumb"});
        assert!(matches!(
            from_error_object(&invalid),
            ProviderError::Auth { status: 401, .. }
        ));
        let period =
            serde_json::json!({"code": "InvalidPeriod", "description": "period1 > period2"});
        assert_eq!(
            from_error_object(&period),
            ProviderError::BadRequest("period1 > period2".into())
        );
    }

    #[test]
    fn json_mentioning_rate_limits_is_not_rate_limit_text() {
        assert!(is_rate_limit_text("Too Many Requests\r\n"));
        assert!(!is_rate_limit_text(
            r#"{"quoteResponse":{"result":[{"longName":"Too Many Requests Inc"}]}}"#
        ));
    }
}
