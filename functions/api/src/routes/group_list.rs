//! `GET /v1/job-groups?limit=&cursor=`: the caller's job groups, newest first, a page at a
//! time (one indexed query per page, never a scan). `next_cursor` resumes the listing; it is
//! `null` after the last page.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use shared::store::GroupCursor;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::job_groups::JobGroupView;
use crate::state::AppState;

/// Groups per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest `limit`.
pub const MAX_LIMIT: u32 = 100;

/// The listing's query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// One page of groups.
#[derive(Debug, Serialize)]
pub struct GroupPage {
    job_groups: Vec<JobGroupView>,
    next_cursor: Option<String>,
}

/// Lists the caller's groups.
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<GroupPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "`limit` must be between 1 and {MAX_LIMIT}"
        )));
    }
    let after = q
        .cursor
        .map(|c| {
            GroupCursor::parse(&c).ok_or_else(|| {
                ApiError::BadRequest(
                    "`cursor` is not one this API gave: pass `next_cursor` of the previous page"
                        .into(),
                )
            })
        })
        .transpose()?;
    let (groups, next) = state.jobs.list_groups(user.id, after, limit).await?;
    Ok(Json(GroupPage {
        job_groups: groups.into_iter().map(Into::into).collect(),
        next_cursor: next.map(|c| c.to_string()),
    }))
}
