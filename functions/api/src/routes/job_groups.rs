//! `POST /v1/job-groups` validates a request against the catalog, stores the group with the
//! symbols of its future jobs and sends one fan-out message (the fetcher writes the jobs and
//! sends their messages, [`shared::fanout`]); `GET /v1/job-groups/{id}` reports exact progress
//! and the rate the group's requests run at.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::catalog;
use shared::domain::{DataSourceId, EndpointRef, JobGroup, JobGroupId, JobGroupStatus, Split};
use shared::limiter::RateStatus;
use shared::queue::JobMessage;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, Errors};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Body of a group creation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewJobGroup {
    /// Data source id, e.g. `jquants-v2`.
    pub data_source: String,
    /// Endpoint id of the catalog, e.g. `eq-bars-daily`.
    pub endpoint: String,
    /// Issue codes, one job each.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Every listed issue instead of `symbols`.
    #[serde(default)]
    pub all_listed_issues: bool,
    /// Endpoint parameters such as `from` and `to`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// A group as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobGroupView {
    id: JobGroupId,
    data_source: DataSourceId,
    endpoint: String,
    params: BTreeMap<String, String>,
    status: JobGroupStatus,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    error_message: Option<String>,
    total_jobs: u32,
    completed_jobs: u32,
    failed_jobs: u32,
    /// `per-symbol`, or `per-trading-day` (then `total_jobs` is 0 until the trading calendar
    /// has planned the days).
    split: Split,
    /// `GET /v1/job-groups/{id}` only: the rate the group's requests run at, the owner's
    /// limit for the data source (the credential's plan) and what the provider has shown of
    /// it: `paused_until` while waiting after a 429, `mode` `learned` and a `warning` when the
    /// provider allows clearly less. Absent when it cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    rate: Option<RateStatus>,
}

impl From<JobGroup> for JobGroupView {
    fn from(g: JobGroup) -> Self {
        Self {
            id: g.id,
            data_source: g.data_source_id,
            endpoint: g.endpoint.to_string(),
            params: g.params,
            status: g.status,
            created_at: g.created_at,
            started_at: g.started_at,
            completed_at: g.completed_at,
            error_message: g.error_message,
            total_jobs: g.total_jobs,
            completed_jobs: g.completed_jobs,
            failed_jobs: g.failed_jobs,
            split: g.split,
            rate: None,
        }
    }
}

/// Creates a group: 202 with the group, or a 4xx before anything is stored.
#[utoipa::path(post, path = "/v1/job-groups", tag = "job groups", request_body = NewJobGroup,
    responses((status = 202, body = JobGroupView), Errors))]
pub async fn create(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiJson(req): ApiJson<NewJobGroup>,
) -> Result<(StatusCode, Json<JobGroupView>), ApiError> {
    let group = create_group(&state, &user, &req).await?;
    Ok((StatusCode::ACCEPTED, Json(group.into())))
}

/// Validates `req`, stores the group within the owner's quotas and starts its fan-out.
pub(crate) async fn create_group(
    state: &AppState,
    user: &shared::domain::User,
    req: &NewJobGroup,
) -> Result<JobGroup, ApiError> {
    let max_symbols = state.limits.symbols_per_group;
    if req.symbols.len() > max_symbols as usize {
        return Err(crate::limits::static_limit(
            "symbols_per_group",
            max_symbols,
            &format!(
                "{} symbols given; split them over several groups",
                req.symbols.len()
            ),
        ));
    }
    let ds_id =
        DataSourceId::parse(&req.data_source).map_err(|_| unknown_source(&req.data_source))?;
    let ds = state
        .sources
        .get_data_source(&ds_id)
        .await?
        .ok_or_else(|| unknown_source(&req.data_source))?;
    if !ds.is_enabled {
        return Err(ApiError::Conflict(format!(
            "data source `{ds_id}` is disabled"
        )));
    }
    let endpoint = EndpointRef::parse(&ds_id, &req.endpoint).map_err(|_| {
        let ids: Vec<_> = catalog::ENDPOINTS
            .iter()
            .filter(|e| e.data_source == ds_id.as_str())
            .map(|e| e.id)
            .collect();
        ApiError::BadRequest(format!(
            "data source `{ds_id}` has no endpoint `{}`: use one of {}",
            req.endpoint,
            ids.join(", ")
        ))
    })?;
    let valid = validate(&endpoint, &req.symbols, req.all_listed_issues, &req.params)?;
    catalog::check_yahoo_limits(&endpoint, &valid.params, state.clock.now())
        .map_err(|e| ApiError::BadRequest(e.0))?;
    if let Some(plan) = plan_for(state, user, &ds, &endpoint).await? {
        let today = state
            .clock
            .now()
            .with_timezone(&shared::schedule::MARKET_TIME_ZONE)
            .date_naive();
        endpoint
            .check_window(plan, &valid.params, today)
            .map_err(|e| ApiError::BadRequest(e.0))?;
    }
    let (group, symbols) = valid.into_group(
        JobGroupId::new(),
        user.id,
        ds_id,
        endpoint,
        state.clock.now(),
    );
    // A constant number of AWS calls whatever the size: the group, its symbol list and the
    // owner's quota counters (active jobs, groups this minute) in one transaction, one
    // fan-out message; the fetcher writes and enqueues the jobs in chunks.
    let now = state.clock.now();
    state
        .quotas
        .create_group_within(&group, &symbols, &crate::limits::group_quota(state), now)
        .await?
        .map_err(|e| crate::limits::exceeded(e, now))?;
    state.queue.start_fan_out(group.id).await.map_err(|e| {
        ApiError::Unavailable(anyhow::anyhow!(
            "job group {} was stored but could not be started ({e}): POST /v1/job-groups/{}/retry starts it",
            group.id, group.id
        ))
    })?;
    tracing::info!(job_group_id = %group.id, total_jobs = group.total_jobs, "job group created");
    Ok(group)
}

/// `symbols`, or every listed issue, with `params`, checked against `endpoint`.
pub(crate) fn validate(
    endpoint: &catalog::Endpoint,
    symbols: &[String],
    all_listed_issues: bool,
    params: &BTreeMap<String, String>,
) -> Result<catalog::ValidRequest, ApiError> {
    match (all_listed_issues, symbols.is_empty()) {
        (true, false) => Err(ApiError::BadRequest(
            "give either `symbols` or `all_listed_issues`, not both".into(),
        )),
        (true, true) => endpoint
            .validate_all_listed(params)
            .map_err(|e| ApiError::BadRequest(e.0)),
        (false, _) => endpoint
            .validate(symbols, params)
            .map_err(|e| ApiError::BadRequest(e.0)),
    }
}

/// The plan of the caller's credential for `ds`, which must reach `endpoint`; `None` for a
/// provider without accounts (Yahoo), which needs no credential.
pub(crate) async fn plan_for(
    state: &AppState,
    user: &shared::domain::User,
    ds: &shared::domain::DataSource,
    endpoint: &catalog::Endpoint,
) -> Result<Option<shared::domain::Plan>, ApiError> {
    if ds.provider_type == shared::domain::ProviderType::Yfinance {
        return Ok(None);
    }
    let ds_id = &ds.id;
    let credential = state
        .vault
        .record(user.id, ds_id)
        .await
        .map_err(crate::routes::credentials::vault_error)?
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "no credential stored for `{ds_id}`: store one with PUT /v1/credentials/{ds_id} first"
            ))
        })?;
    if credential.plan < endpoint.min_plan {
        return Err(ApiError::Forbidden(format!(
            "endpoint `{}` needs the {} plan or higher; your {ds_id} credential is on the {} plan",
            endpoint.id, endpoint.min_plan, credential.plan
        )));
    }
    Ok(Some(credential.plan))
}

fn unknown_source(id: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "unknown data source `{id}`: GET /v1/data-sources lists them"
    ))
}

/// The caller's group by id; another user's group is not found.
#[utoipa::path(get, path = "/v1/job-groups/{id}", tag = "job groups", params(("id" = String, Path, description = "job group id")),
    responses((status = 200, body = JobGroupView), Errors))]
pub async fn get(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<JobGroupView>, ApiError> {
    let group = owned_group(&state, &user, &id).await?;
    let rate = crate::routes::rate::group_rate(&state, &group).await;
    Ok(Json(JobGroupView {
        rate,
        ..group.into()
    }))
}

pub(crate) async fn owned_group(
    state: &AppState,
    user: &shared::domain::User,
    id: &str,
) -> Result<JobGroup, ApiError> {
    let id = JobGroupId::parse(id).map_err(|_| ApiError::NotFound("job group"))?;
    state
        .jobs
        .get_group(id)
        .await?
        .filter(|g| g.user_id == user.id)
        .ok_or(ApiError::NotFound("job group"))
}

/// `POST /v1/job-groups/{id}/cancel`: jobs that have not started are skipped (they count as
/// failed, with the error "cancelled before it ran"); running jobs finish; the group then ends
/// `failed` with an error that says it was cancelled. 202 with the group; 409 once it ended.
#[utoipa::path(post, path = "/v1/job-groups/{id}/cancel", tag = "job groups", params(("id" = String, Path, description = "job group id")),
    responses((status = 202, body = JobGroupView), Errors))]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<JobGroupView>), ApiError> {
    let group = owned_group(&state, &user, &id).await?;
    let group = state
        .jobs
        .request_cancel(group.id, state.clock.now())
        .await?
        .ok_or_else(|| {
            ApiError::Conflict("the job group already ended: nothing to cancel".into())
        })?;
    tracing::info!(job_group_id = %group.id, "cancel requested");
    Ok((StatusCode::ACCEPTED, Json(group.into())))
}

/// `POST /v1/job-groups/{id}/retry`: runs the failed jobs again (completed ones are kept);
/// `failed_jobs` drops by the jobs reset, the group runs again. Safe to repeat. 202 with the
/// group; 409 when it is not failed.
#[utoipa::path(post, path = "/v1/job-groups/{id}/retry", tag = "job groups", params(("id" = String, Path, description = "job group id")),
    responses((status = 202, body = JobGroupView), Errors))]
pub async fn retry(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<JobGroupView>), ApiError> {
    let group = owned_group(&state, &user, &id).await?;
    // A kill switch holds for retries too: no new work for a disabled data source.
    if state
        .sources
        .get_data_source(&group.data_source_id)
        .await?
        .is_none_or(|ds| !ds.is_enabled)
    {
        return Err(ApiError::Conflict(format!(
            "data source `{}` is disabled: retry once it is enabled again",
            group.data_source_id
        )));
    }
    // A fan-out that never started or stopped (the create call's message was lost) resumes.
    if let Some(f) = state.jobs.fan_out(group.id).await?
        && !f.is_done()
    {
        state
            .queue
            .start_fan_out(group.id)
            .await
            .map_err(|e| ApiError::Unavailable(e.into()))?;
        return Ok((StatusCode::ACCEPTED, Json(group.into())));
    }
    let pending = state
        .jobs
        .retry_failed(group.id, state.clock.now())
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "only a failed job group can be retried; this one is {}",
                group.status.as_str()
            ))
        })?;
    let messages: Vec<JobMessage> = pending
        .iter()
        .map(|j| JobMessage {
            job_group_id: group.id,
            job_id: *j,
        })
        .collect();
    state
        .queue
        .enqueue(&messages)
        .await
        .map_err(|e| ApiError::Unavailable(e.into()))?;
    tracing::info!(job_group_id = %group.id, jobs = messages.len(), "retry enqueued");
    let group = state
        .jobs
        .get_group(group.id)
        .await?
        .ok_or(ApiError::NotFound("job group"))?;
    Ok((StatusCode::ACCEPTED, Json(group.into())))
}
