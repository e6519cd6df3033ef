//! The API's one error type. Every variant is a decision about what the client is told;
//! answers are RFC 9457 problem+json, and 5xx bodies say nothing about the cause (it is logged).

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::store::StoreError;

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the message says what to change.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no or unknown API key.
    #[error("missing or invalid API key: send `Authorization: Bearer <api key>`")]
    Unauthorized,
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource for this caller (another user's ids answer the same).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 405: the route exists, the method does not.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// 409: the request conflicts with stored state; the message says how to resolve it.
    #[error("{0}")]
    Conflict(String),
    /// 429: a per-user limit is exceeded (`detail` names it and its value); nothing was
    /// stored. `Retry-After` says when to try again.
    #[error("{detail}")]
    TooManyRequests {
        /// The limit and its value, and what to do.
        detail: String,
        /// Seconds until trying again may succeed.
        retry_after_secs: u64,
    },
    /// 503: a dependency failed; retrying later may succeed.
    #[error("service temporarily unavailable, retry later")]
    Unavailable(#[source] anyhow::Error),
    /// 500: a bug or corrupt data.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => ApiError::Unavailable(e.into()),
            StoreError::AlreadyExists => ApiError::Conflict("already exists".into()),
            StoreError::Corrupt(_) => ApiError::Internal(e.into()),
        }
    }
}

/// RFC 9457 problem details: every error answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong and what to change.
    pub detail: String,
}

/// The error answers any route may give, for the OpenAPI document.
#[derive(Debug, utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// The request is malformed or refused; `detail` says what to change. Nothing was stored.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No or unknown API key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// Authenticated but not allowed (admin routes, a plan too low).
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such resource for this caller (another user's ids answer the same).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The method is not allowed on this route.
    #[response(status = 405, content_type = "application/problem+json")]
    MethodNotAllowed(Problem),
    /// Conflicts with stored state; `detail` says how to resolve it.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// A per-user limit is exceeded: `detail` names it and its value, `Retry-After` says
    /// when to try again. Nothing was stored.
    #[response(status = 429, content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "seconds to wait")))]
    TooManyRequests(Problem),
    /// A bug or corrupt data; nothing about the cause is shown.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
    /// A dependency failed; retry later.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        if status.is_server_error() {
            tracing::error!(error.message = %self, error.cause_chain = ?self, "request failed");
        }
        let body = Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: self.to_string(),
        };
        let mut resp = (status, Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}
