//! One file per resource.

pub mod admin;
pub mod api_keys;
pub mod credentials;
pub mod data;
pub mod data_delete;
pub mod data_sources;
pub mod group_list;
pub mod health;
pub mod job_groups;
pub mod job_list;
mod rate;
pub mod results;
pub mod schedules;
pub mod users;
pub mod whoami;

use crate::error::ApiError;

/// Unknown routes answer problem+json too.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

/// A known route with another method answers problem+json too.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
