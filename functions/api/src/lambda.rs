//! What the API needs from the Lambda side of API Gateway before the router sees a request.
//!
//! An HTTP API stage other than `$default` stays in the event's `rawPath` (`/v1stage/v1/health`
//! for the route `/v1/health`), and `lambda_http` passes it on (with
//! `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH`) or adds it when missing (without): either way the
//! router, which knows nothing of stages, would answer 404 to everything. [`strip_stage`] takes
//! the event's own stage off the path, so the API answers under any stage the template names.

use http::Uri;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// The request with `/{stage}` taken off the front of its path, when the event names a stage
/// other than `$default` and the path starts with it; otherwise unchanged.
pub fn strip_stage(mut req: Request) -> Request {
    let stage = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.stage.clone(),
        Some(RequestContext::ApiGatewayV1(c)) => c.stage.clone(),
        _ => None,
    };
    if let Some(stage) = stage.filter(|s| s != "$default" && !s.is_empty())
        && let Some(uri) = without_prefix(req.uri(), &stage)
    {
        *req.uri_mut() = uri;
    }
    req
}

fn without_prefix(uri: &Uri, stage: &str) -> Option<Uri> {
    let rest = uri.path().strip_prefix('/')?.strip_prefix(stage)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        // `/v1stagex/...` is not under the stage `v1stage`.
        return None;
    }
    let path = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(stage: &str, raw_path: &str, query: &str) -> Request {
        let body = serde_json::json!({
            "version": "2.0",
            "routeKey": "ANY /{proxy+}",
            "rawPath": raw_path,
            "rawQueryString": query,
            "headers": {"host": "abc123.execute-api.ap-northeast-1.amazonaws.com"},
            "requestContext": {
                "accountId": "123456789012", "apiId": "abc123",
                "domainName": "abc123.execute-api.ap-northeast-1.amazonaws.com",
                "domainPrefix": "abc123",
                "http": {"method": "GET", "path": raw_path, "protocol": "HTTP/1.1",
                         "sourceIp": "192.0.2.1", "userAgent": "curl/8"},
                "requestId": "r-1", "routeKey": "ANY /{proxy+}", "stage": stage,
                "time": "06/Dec/2026:08:00:00 +0000", "timeEpoch": 1796544000000_i64
            },
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&body.to_string()).unwrap()
    }

    #[test]
    fn a_named_stage_is_taken_off_the_path_and_the_query_kept() {
        for (stage, raw, want) in [
            ("v1stage", "/v1stage/v1/health", "/v1/health"),
            ("$default", "/v1/health", "/v1/health"),
            // Not under the stage: left for the router to answer.
            ("v1stage", "/v1stagex/v1/health", "/v1stagex/v1/health"),
            ("prod", "/v1/health", "/v1/health"),
        ] {
            let req = strip_stage(event(stage, raw, "limit=5"));
            assert_eq!(req.uri().path(), want, "{stage} {raw}");
            assert_eq!(req.uri().query(), Some("limit=5"), "{stage} {raw}");
        }
    }
}
