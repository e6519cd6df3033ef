//! `GET /v1/job-groups?limit=&cursor=`: the caller's job groups, newest first, a page at a
//! time (one indexed query per page, never a scan). `next_cursor` resumes the listing; it is
//! `null` after the last page.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared::store::GroupCursor;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, Errors};
use crate::extract::ApiQuery;
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
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupPage {
    job_groups: Vec<JobGroupView>,
    next_cursor: Option<String>,
}

/// Lists the caller's groups.
#[utoipa::path(get, path = "/v1/job-groups", tag = "job groups",
    params(("limit" = Option<u32>, Query, description = "groups per page, 1 to 100 (default 20)"),
           ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = GroupPage), Errors))]
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<GroupPage>, ApiError> {
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
