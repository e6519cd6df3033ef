//! `POST /v1/job-groups` validates a request against the catalog, stores the group and its jobs
//! and enqueues one message per job; `GET /v1/job-groups/{id}` reports exact progress.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::catalog;
use shared::domain::{DataSourceId, Job, JobGroup, JobGroupId, JobGroupStatus, JobId};
use shared::queue::JobMessage;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// Body of a group creation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewJobGroup {
    /// Data source id, e.g. `jquants-v2`.
    pub data_source: String,
    /// Endpoint id of the catalog, e.g. `eq-bars-daily`.
    pub endpoint: String,
    /// Issue codes, one job each.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Endpoint parameters such as `from` and `to`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// A group as the API shows it.
#[derive(Debug, Serialize)]
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
}

impl From<JobGroup> for JobGroupView {
    fn from(g: JobGroup) -> Self {
        Self {
            id: g.id,
            data_source: g.data_source_id,
            endpoint: g.endpoint_id,
            params: g.params,
            status: g.status,
            created_at: g.created_at,
            started_at: g.started_at,
            completed_at: g.completed_at,
            error_message: g.error_message,
            total_jobs: g.total_jobs,
            completed_jobs: g.completed_jobs,
            failed_jobs: g.failed_jobs,
        }
    }
}

/// Creates a group: 202 with the group, or a 4xx before anything is stored.
pub async fn create(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiJson(req): ApiJson<NewJobGroup>,
) -> Result<(StatusCode, Json<JobGroupView>), ApiError> {
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
    let endpoint = catalog::find(&ds_id, &req.endpoint).ok_or_else(|| {
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
    let valid = endpoint
        .validate(&req.symbols, &req.params)
        .map_err(|e| ApiError::BadRequest(e.0))?;
    let credential = state.vault.record(user.id, &ds_id).await.map_err(crate::routes::credentials::vault_error)?.ok_or_else(|| {
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

    let group = JobGroup {
        id: JobGroupId::new(),
        user_id: user.id,
        data_source_id: ds_id,
        endpoint_id: endpoint.id.to_owned(),
        params: valid.params,
        status: JobGroupStatus::Pending,
        created_at: state.clock.now(),
        started_at: None,
        completed_at: None,
        error_message: None,
        total_jobs: u32::try_from(valid.symbols.len()).expect("at most MAX_SYMBOLS"),
        completed_jobs: 0,
        failed_jobs: 0,
    };
    let jobs: Vec<Job> = valid
        .symbols
        .into_iter()
        .enumerate()
        .map(|(i, sym)| Job::new(group.id, JobId::new(i as u32), sym))
        .collect();
    state.jobs.create_group(&group, &jobs).await?;
    let messages: Vec<JobMessage> = jobs
        .iter()
        .map(|j| JobMessage {
            job_group_id: group.id,
            job_id: j.id,
        })
        .collect();
    state
        .queue
        .enqueue(&messages)
        .await
        .map_err(|e| ApiError::Unavailable(e.into()))?;
    tracing::info!(job_group_id = %group.id, total_jobs = group.total_jobs, "job group created");
    Ok((StatusCode::ACCEPTED, Json(group.into())))
}

fn unknown_source(id: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "unknown data source `{id}`: GET /v1/data-sources lists them"
    ))
}

/// The caller's group by id; another user's group is not found.
pub async fn get(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<JobGroupView>, ApiError> {
    let id = JobGroupId::parse(&id).map_err(|_| ApiError::NotFound("job group"))?;
    let group = state
        .jobs
        .get_group(id)
        .await?
        .filter(|g| g.user_id == user.id)
        .ok_or(ApiError::NotFound("job group"))?;
    Ok(Json(group.into()))
}
