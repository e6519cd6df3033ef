//! Error responses: a status code and a `{"message": "..."}` body, as J-Quants sends them.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::{Plan, Window};

/// Missing or unknown `x-api-key` (V2 text unverified; it contains "invalid or expired" as
/// the help page describes).
pub(crate) const INVALID_KEY: &str = "The incoming API key is invalid or expired. Check that the x-api-key header holds a valid key.";
/// A path (or method) J-Quants does not serve; API Gateway's wording, since there is no 404.
pub(crate) const UNKNOWN_PATH: &str = "Missing Authentication Token";
pub(crate) const INVALID_CODE: &str = "'code' must be a 4 or 5 character issue code made of digits and capital letters, such as 7203, 72030 or 130A0.";
pub(crate) const INVALID_PAGE_KEY: &str = "'pagination_key' is invalid. Send it back unchanged with the same parameters as the request that returned it.";
pub(crate) const MALFORMED_QUERY: &str = "The query string is malformed.";
/// 210 from `/equities/bars/daily/am` (exact V1 text, reference §8.7).
pub(crate) const NO_CONTENT: &str =
    "No content due to outside the target time or a stock code does not exist.";
/// The status J-Quants uses for "No Content (Partial)".
pub(crate) const PARTIAL_CONTENT: u16 = 210;

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
}

impl ApiError {
    pub(crate) fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub(crate) fn forbidden(message: &'static str) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    pub(crate) fn with_status(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// None of the parameters an endpoint needs at least one of was given.
    pub(crate) fn requires_one_of(names: &[&str]) -> Self {
        Self::bad_request(format!(
            "This API requires at least 1 parameter as follows; {}",
            names.join(", ")
        ))
    }

    /// A parameter value outside the accepted set.
    pub(crate) fn invalid(name: &str) -> Self {
        Self::bad_request(format!("'{name}' is invalid."))
    }

    /// The endpoint needs a higher plan than the caller's (V2 text unverified).
    pub(crate) fn plan_too_low(needed: Plan, caller: Plan) -> Self {
        Self::with_status(
            StatusCode::FORBIDDEN,
            format!(
                "This API is not available on your subscription plan ({}). It requires the {} plan or higher: https://jpx-jquants.com/",
                caller.name(),
                needed.name()
            ),
        )
    }

    /// 210: nothing to serve at this time, or no such code.
    pub(crate) fn no_content() -> Self {
        let status = StatusCode::from_u16(PARTIAL_CONTENT).unwrap_or(StatusCode::NO_CONTENT);
        Self::with_status(status, NO_CONTENT)
    }

    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// A date parameter that is not a real date in either accepted format.
    pub(crate) fn invalid_date(param: &str) -> Self {
        Self::bad_request(format!(
            "'{param}' must be a valid date in YYYYMMDD or YYYY-MM-DD format."
        ))
    }

    /// A date outside the caller's plan window.
    pub(crate) fn outside_subscription(window: Window) -> Self {
        Self::bad_request(format!(
            "Your subscription covers the following dates: {} ~ {}. If you want more data, please check other plans:  https://jpx-jquants.com/",
            window.from.format("%Y-%m-%d"),
            window.to.format("%Y-%m-%d"),
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "message": self.message }))).into_response()
    }
}
