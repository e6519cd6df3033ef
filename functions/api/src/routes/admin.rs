//! Administration: the bootstrap of the first user (authenticated by the admin secret held in
//! Secrets Manager, once per deployment), creating users, and seeding or tuning data sources.
//! Managing users (listing, disabling, revoking and re-issuing keys) is in [`super::users`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use shared::domain::{DataSource, DataSourceId, User, UserId};
use shared::store::ApiKeyRecord;
use utoipa::ToSchema;

use crate::auth::{Admin, check_bootstrap_secret, hashers};
use crate::error::{ApiError, Errors};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Body of user creation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Display name, 1–100 characters.
    pub name: String,
}

/// A created user and its first API key, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    /// The user's id.
    pub user_id: UserId,
    /// The API key. It is not stored and cannot be shown again.
    pub api_key: String,
    /// Whether the user administers the system.
    pub is_admin: bool,
}

/// Who is being created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The first administrator, once per deployment.
    FirstAdmin,
    /// A user, by an administrator.
    User,
}

async fn create(state: &AppState, name: String, role: Role) -> Result<CreatedUser, ApiError> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::BadRequest(
            "`name` must be 1 to 100 characters".into(),
        ));
    }
    let now = state.clock.now();
    let is_admin = role == Role::FirstAdmin;
    let user = User {
        id: UserId::new(),
        name,
        is_admin,
        created_at: now,
        disabled: false,
    };
    let key = hashers(state).await?[0].generate();
    let record = ApiKeyRecord::new(user.id, &key, None, now);
    match role {
        Role::User => state.users.create_user(&user, &record).await?,
        Role::FirstAdmin => {
            if !state.users.create_first_admin(&user, &record).await? {
                return Err(ApiError::Conflict(
                    "the first administrator was bootstrapped already: an administrator creates users with POST /v1/admin/users".into(),
                ));
            }
        }
    }
    tracing::info!(user_id = %user.id, is_admin, "user created");
    Ok(CreatedUser {
        user_id: user.id,
        api_key: key.plaintext.expose_secret().to_owned(),
        is_admin,
    })
}

/// `POST /v1/admin/bootstrap` with `Authorization: Bearer <admin secret>` (its current
/// version only): creates the first administrator and returns its API key, once per
/// deployment; later calls answer 409 and create nothing.
#[utoipa::path(post, path = "/v1/admin/bootstrap", tag = "admin", request_body = NewUser,
    responses((status = 201, body = CreatedUser), Errors))]
pub async fn bootstrap(
    State(state): State<AppState>,
    parts: Parts,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    check_bootstrap_secret(&parts, &state).await?;
    Ok((
        StatusCode::CREATED,
        Json(create(&state, body.name, Role::FirstAdmin).await?),
    ))
}

/// `POST /v1/admin/users`: an administrator creates a user.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", request_body = NewUser,
    responses((status = 201, body = CreatedUser), Errors))]
pub async fn create_user(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create(&state, body.name, Role::User).await?),
    ))
}

/// Body of a data-source upsert: the whole definition except the id (from the path).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSourceBody {
    name: String,
    description: String,
    provider_type: shared::domain::ProviderType,
    is_enabled: bool,
    base_url: String,
    api_version: shared::domain::ApiVersion,
    rate_limit_per_minute: u32,
    rate_limit_per_hour: u32,
    rate_limit_per_day: u32,
}

/// `PUT /v1/admin/data-sources/{id}`: creates or replaces a data source.
#[utoipa::path(put, path = "/v1/admin/data-sources/{id}", tag = "admin",
    params(("id" = String, Path, description = "data source id, e.g. `jquants-v2`")),
    request_body = DataSourceBody,
    responses((status = 200, body = DataSource), Errors))]
pub async fn put_data_source(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DataSourceBody>,
) -> Result<Json<DataSource>, ApiError> {
    let id = DataSourceId::parse(&id).map_err(|_| {
        ApiError::BadRequest("data source ids are 1-40 characters of a-z, 0-9 and -".into())
    })?;
    DataSource::check_base_url(&b.base_url)
        .map_err(|e| ApiError::BadRequest(format!("`base_url`: {e}")))?;
    if b.rate_limit_per_minute == 0 || b.rate_limit_per_hour == 0 || b.rate_limit_per_day == 0 {
        return Err(ApiError::BadRequest("rate limits must be positive".into()));
    }
    let ds = DataSource {
        id,
        name: b.name,
        description: b.description,
        provider_type: b.provider_type,
        is_enabled: b.is_enabled,
        base_url: b.base_url,
        api_version: b.api_version,
        rate_limit_per_minute: b.rate_limit_per_minute,
        rate_limit_per_hour: b.rate_limit_per_hour,
        rate_limit_per_day: b.rate_limit_per_day,
    };
    state.sources.put_data_source(&ds).await?;
    Ok(Json(ds))
}

/// Body of a rotation sweep call.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepBody {
    /// Where a previous call stopped (`next_cursor`).
    #[serde(default)]
    cursor: Option<String>,
    /// Records to read in this call (default 500, at most 5,000).
    #[serde(default)]
    max_records: Option<u32>,
}

/// `POST /v1/admin/key-rotation`: re-wraps credentials to the KMS key now behind the alias.
/// Call again with `next_cursor` until it is null; safe to repeat and to run beside fetchers.
/// Where the scheduled re-wrap stands: the key it moves envelopes onto, how far it got, and
/// when it finished (the scheduler runs a page a minute after the alias moves); 404 before
/// its first run.
#[utoipa::path(get, path = "/v1/admin/key-rotation", tag = "admin",
    responses((status = 200, body = shared::store::schedules::RotationProgress), Errors))]
pub async fn key_rotation_progress(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<shared::store::schedules::RotationProgress>, ApiError> {
    let (progress, _) = state
        .schedules
        .rotation()
        .await?
        .ok_or(ApiError::NotFound("key-rotation sweep"))?;
    Ok(Json(progress))
}

#[utoipa::path(post, path = "/v1/admin/key-rotation", tag = "admin", request_body = SweepBody,
    responses((status = 200, body = shared::vault::SweepReport), Errors))]
pub async fn key_rotation(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(body): ApiJson<SweepBody>,
) -> Result<Json<shared::vault::SweepReport>, ApiError> {
    // The cursor comes back from a previous answer: `<user id>#<data source id>`.
    if let Some(c) = &body.cursor {
        let ours = c
            .split_once('#')
            .is_some_and(|(u, ds)| UserId::parse(u).is_ok() && DataSourceId::parse(ds).is_ok());
        if !ours {
            return Err(ApiError::BadRequest(
                "`cursor` is not one this API gave: pass the previous answer's `next_cursor`, or none to start".into(),
            ));
        }
    }
    let max = body.max_records.unwrap_or(500);
    if max == 0 || max > 5000 {
        return Err(ApiError::BadRequest(
            "`max_records` must be 1 to 5000".into(),
        ));
    }
    let report = state
        .vault
        .rotation_sweep(body.cursor, max)
        .await
        .map_err(crate::routes::credentials::vault_error)?;
    tracing::info!(
        scanned = report.scanned,
        rewrapped = report.rewrapped,
        failed = report.failed,
        "rotation sweep"
    );
    Ok(Json(report))
}

/// Body of a redrive.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedriveBody {
    /// Messages to move (default 1,000, at most 10,000).
    #[serde(default)]
    max_messages: Option<usize>,
}

/// `POST /v1/admin/dlq/redrive`: moves dead-lettered job messages back to the job queue
/// (after the cause was fixed). Answers how many moved.
#[utoipa::path(post, path = "/v1/admin/dlq/redrive", tag = "admin", request_body = RedriveBody,
    responses((status = 200, body = Redriven), Errors))]
pub async fn redrive(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(body): ApiJson<RedriveBody>,
) -> Result<Json<Redriven>, ApiError> {
    let max = body.max_messages.unwrap_or(1000);
    if max == 0 || max > 10_000 {
        return Err(ApiError::BadRequest(
            "`max_messages` must be 1 to 10000".into(),
        ));
    }
    let moved = state
        .queue
        .redrive(max)
        .await
        .map_err(|e| ApiError::Unavailable(e.into()))?;
    tracing::info!(moved, "dead letters redriven");
    Ok(Json(Redriven { moved }))
}

/// What a redrive moved.
#[derive(Debug, Serialize, ToSchema)]
pub struct Redriven {
    /// Messages moved back to the job queue.
    moved: usize,
}
