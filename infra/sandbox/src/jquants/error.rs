//! Error responses: a status code and a `{"message": "..."}` body, as J-Quants sends them.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::Window;

/// Missing or unknown `x-api-key` (V2 text unverified; it contains "invalid or expired" as
/// the help page describes).
pub(crate) const INVALID_KEY: &str = "The incoming API key is invalid or expired. Check that the x-api-key header holds a valid key.";
/// A path (or method) J-Quants does not serve; API Gateway's wording, since there is no 404.
pub(crate) const UNKNOWN_PATH: &str = "Missing Authentication Token";
/// Neither `code` nor `date` given (exact V2 text from the reference).
pub(crate) const CODE_OR_DATE_REQUIRED: &str =
    "This API requires at least 1 parameter as follows; date, code";
pub(crate) const INVALID_CODE: &str = "'code' must be a 4 or 5 character issue code made of digits and capital letters, such as 7203, 72030 or 130A0.";
pub(crate) const DATE_WITH_RANGE: &str = "'date' cannot be combined with 'from' or 'to'.";
pub(crate) const FROM_AFTER_TO: &str = "'from' must not be after 'to'.";
pub(crate) const INVALID_PAGE_KEY: &str = "'pagination_key' is invalid. Send it back unchanged with the same parameters as the request that returned it.";
pub(crate) const MALFORMED_QUERY: &str = "The query string is malformed.";

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
