//! `GET /v1/job-groups/{id}/jobs?status=&limit=&cursor=`: the jobs of the caller's group in
//! job order, a page at a time (one query per page, within the group's partition), optionally
//! only those in one status. `next_cursor` resumes the listing and is `null` after the last
//! page; a filtered page may hold fewer than `limit` jobs, even none, while `next_cursor` is
//! set (the query looks at up to 1,000 jobs and keeps those that match).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::domain::{IssueCode, Job, JobStatus};
use shared::store::JobCursor;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, Errors};
use crate::extract::ApiQuery;
use crate::routes::group_list::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::routes::job_groups::owned_group;
use crate::state::AppState;

/// The listing's query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    status: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// A job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// Its position in the group, from 0.
    #[schema(value_type = u32)]
    id: shared::domain::JobId,
    /// The issue code, when the endpoint takes one.
    symbol: Option<IssueCode>,
    /// The trading day, in a group split per trading day.
    date: Option<NaiveDate>,
    status: JobStatus,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    error_message: Option<String>,
    /// Rows stored, once completed.
    rows: Option<u64>,
    /// Provider pages read, once completed.
    pages: Option<u32>,
    /// Starts after the first one.
    retry_count: u32,
    last_retry_at: Option<DateTime<Utc>>,
    /// Waiting for a rate-limit quota until then.
    parked_until: Option<DateTime<Utc>>,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        Self {
            id: j.id,
            symbol: j.symbol,
            date: j.date,
            status: j.status,
            started_at: j.started_at,
            completed_at: j.completed_at,
            error_message: j.error_message,
            rows: j.response_data.as_ref().map(|r| r.rows),
            pages: j.response_data.as_ref().map(|r| r.pages),
            retry_count: j.retry_count,
            last_retry_at: j.last_retry_at,
            parked_until: j.parked_until,
        }
    }
}

/// One page of a group's jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    jobs: Vec<JobView>,
    next_cursor: Option<String>,
}

/// Lists the jobs of the caller's group; another user's group is not found.
#[utoipa::path(get, path = "/v1/job-groups/{id}/jobs", tag = "job groups",
    params(("id" = String, Path, description = "job group id"),
           ("status" = Option<JobStatus>, Query, description = "only jobs in this status"),
           ("limit" = Option<u32>, Query, description = "jobs per page, 1 to 100 (default 20)"),
           ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = JobPage), Errors))]
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> Result<Json<JobPage>, ApiError> {
    let group = owned_group(&state, &user, &id).await?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "`limit` must be between 1 and {MAX_LIMIT}"
        )));
    }
    let status = q
        .status
        .map(|s| {
            JobStatus::parse(&s).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "unknown `status` `{s}`: use pending, running, completed or failed"
                ))
            })
        })
        .transpose()?;
    let after = q
        .cursor
        .map(|c| {
            JobCursor::parse(&c)
                .filter(|c| c.group() == group.id)
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "`cursor` is not one this listing gave: pass `next_cursor` of the previous page"
                            .into(),
                    )
                })
        })
        .transpose()?;
    let (jobs, next) = state
        .jobs
        .list_group_jobs(group.id, status, after.map(|c| c.after()), limit)
        .await?;
    Ok(Json(JobPage {
        jobs: jobs.into_iter().map(Into::into).collect(),
        next_cursor: next.map(|j| JobCursor::new(group.id, j).to_string()),
    }))
}
