//! `/v1/schedules`: a user's recurring job groups. A schedule is checked here as a job group
//! would be (data source, endpoint, symbols, parameters, plan) so that a bad one is refused at
//! once rather than failing at 18:00 every day; the scheduler Lambda runs the fires.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::catalog;
use shared::domain::{DataSourceId, ScheduleId, User};
use shared::schedule::{CronSpec, Run, Schedule, Template, Window};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, Errors};
use crate::extract::ApiJson;
use crate::routes::job_groups;
use crate::state::AppState;

/// Fires looked at for the shortest interval of a cron expression: a week of fires every five
/// minutes, years of daily ones.
const FIRES_EXAMINED: usize = 2016;

/// Body of a schedule creation or replacement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// A name for it.
    pub name: String,
    /// Five-field cron expression, e.g. `0 18 * * 1-5`.
    pub cron: String,
    /// IANA zone the expression is read in; Asia/Tokyo when absent.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Disabled schedules never fire.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What each fire fetches.
    pub template: TemplateBody,
}

fn yes() -> bool {
    true
}

/// The job group each fire creates.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// Data source id.
    pub data_source: String,
    /// Endpoint id of the catalog.
    pub endpoint: String,
    /// Issue codes.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Every listed issue instead of `symbols`.
    #[serde(default)]
    pub all_listed_issues: bool,
    /// Endpoint parameters other than dates.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The dates each fire fetches.
    pub window: Window,
}

/// A schedule as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    id: ScheduleId,
    name: String,
    cron: String,
    time_zone: String,
    enabled: bool,
    template: Template,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The next fire it waits for.
    next_fire_at: Option<DateTime<Utc>>,
    last_run: Option<Run>,
    skipped_closed: u32,
    skipped_late: u32,
    skipped_busy: u32,
    last_error: Option<String>,
}

impl From<Schedule> for ScheduleView {
    fn from(s: Schedule) -> Self {
        Self {
            id: s.id,
            next_fire_at: s.next_fire(),
            name: s.name,
            cron: s.cron.expression().to_owned(),
            time_zone: s.cron.zone().name().to_owned(),
            enabled: s.enabled,
            template: s.template,
            created_at: s.created_at,
            updated_at: s.updated_at,
            last_run: s.last_run,
            skipped_closed: s.skipped_closed,
            skipped_late: s.skipped_late,
            skipped_busy: s.skipped_busy,
            last_error: s.last_error,
        }
    }
}

/// `POST /v1/schedules`: 201 with the schedule; it fires from now on (never for past times).
#[utoipa::path(post, path = "/v1/schedules", tag = "schedules", request_body = ScheduleBody,
    responses((status = 201, body = ScheduleView), Errors))]
pub async fn create(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<(StatusCode, Json<ScheduleView>), ApiError> {
    let (cron, template) = check(&state, &user, &body).await?;
    let max = state.limits.schedules_per_user;
    if state.schedules.list_schedules(user.id).await?.len() >= max as usize {
        return Err(crate::limits::static_limit(
            "schedules_per_user",
            max,
            "delete a schedule first (DELETE /v1/schedules/{id})",
        ));
    }
    let schedule = Schedule {
        enabled: body.enabled,
        ..Schedule::new(user.id, body.name, cron, template, state.clock.now())
    };
    if !state.schedules.save_schedule(&schedule).await? {
        return Err(ApiError::Conflict("schedule id taken: retry".into()));
    }
    tracing::info!(schedule_id = %schedule.id, "schedule created");
    Ok((StatusCode::CREATED, Json(schedule.into())))
}

/// The caller's schedules.
#[derive(Debug, Serialize, ToSchema)]
pub struct Schedules {
    schedules: Vec<ScheduleView>,
}

/// `GET /v1/schedules`: the caller's schedules, oldest first.
#[utoipa::path(get, path = "/v1/schedules", tag = "schedules",
    responses((status = 200, body = Schedules), Errors))]
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Schedules>, ApiError> {
    let all: Vec<ScheduleView> = state
        .schedules
        .list_schedules(user.id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(Schedules { schedules: all }))
}

/// `GET /v1/schedules/{id}`.
#[utoipa::path(get, path = "/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path, description = "schedule id")),
    responses((status = 200, body = ScheduleView), Errors))]
pub async fn get(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    Ok(Json(owned(&state, &user, &id).await?.into()))
}

/// `PUT /v1/schedules/{id}`: replaces name, cron, zone, template and `enabled`. A changed
/// expression or a re-enabled schedule fires from now on, never for the time in between.
#[utoipa::path(put, path = "/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path, description = "schedule id")),
    request_body = ScheduleBody, responses((status = 200, body = ScheduleView), Errors))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Json<ScheduleView>, ApiError> {
    let old = owned(&state, &user, &id).await?;
    let (cron, template) = check(&state, &user, &body).await?;
    let now = state.clock.now();
    let restart = cron != old.cron || (body.enabled && !old.enabled);
    let schedule = Schedule {
        name: body.name,
        handled_until: if restart { now } else { old.handled_until },
        cron,
        template,
        enabled: body.enabled,
        updated_at: now,
        ..old
    };
    if !state.schedules.save_schedule(&schedule).await? {
        return Err(ApiError::Conflict(
            "the schedule changed meanwhile (a fire was recorded): send the change again".into(),
        ));
    }
    let stored = owned(&state, &user, &id).await?;
    Ok(Json(stored.into()))
}

/// `DELETE /v1/schedules/{id}`: 204; groups it created stay.
#[utoipa::path(delete, path = "/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path, description = "schedule id")),
    responses((status = 204, description = "deleted"), Errors))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = ScheduleId::parse(&id).map_err(|_| ApiError::NotFound("schedule"))?;
    if state.schedules.delete_schedule(user.id, id).await? {
        tracing::info!(schedule_id = %id, "schedule deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("schedule"))
    }
}

async fn owned(state: &AppState, user: &User, id: &str) -> Result<Schedule, ApiError> {
    let id = ScheduleId::parse(id).map_err(|_| ApiError::NotFound("schedule"))?;
    state
        .schedules
        .get_schedule(user.id, id)
        .await?
        .ok_or(ApiError::NotFound("schedule"))
}

/// The shortest time between two of the next [`FIRES_EXAMINED`] fires after `now` (`None`
/// when it fires at most once).
fn shortest_interval(cron: &CronSpec, now: DateTime<Utc>) -> Option<chrono::Duration> {
    let mut last = cron.next_after(now)?;
    let mut shortest: Option<chrono::Duration> = None;
    for _ in 0..FIRES_EXAMINED {
        let Some(next) = cron.next_after(last) else {
            break;
        };
        let gap = next - last;
        shortest = Some(shortest.map_or(gap, |s| s.min(gap)));
        last = next;
    }
    shortest
}

/// Everything a fire will need, checked now: the expression, the data source, the endpoint
/// and its parameters (with sample dates in place of the window's), the plan.
async fn check(
    state: &AppState,
    user: &User,
    body: &ScheduleBody,
) -> Result<(CronSpec, Template), ApiError> {
    let bad = |m: String| ApiError::BadRequest(m);
    if body.name.trim().is_empty() || body.name.len() > 200 {
        return Err(bad("`name` must be 1 to 200 characters".into()));
    }
    let cron = CronSpec::parse(&body.cron, body.time_zone.as_deref()).map_err(|e| bad(e.0))?;
    let min = state.limits.min_schedule_interval_minutes;
    if let Some(gap) = shortest_interval(&cron, state.clock.now())
        && gap < chrono::Duration::minutes(i64::from(min))
    {
        return Err(crate::limits::static_limit(
            "min_schedule_interval_minutes",
            min,
            &format!(
                "`{}` fires {} minute(s) apart; fire at most every {min} minutes",
                body.cron,
                gap.num_minutes()
            ),
        ));
    }
    let t = &body.template;
    t.window.validate().map_err(|e| bad(e.0))?;
    if let Some(k) = ["from", "to", "date"]
        .iter()
        .find(|k| t.params.contains_key(**k))
    {
        return Err(bad(format!(
            "`template.params.{k}` is set by the schedule's `window`: remove it"
        )));
    }
    let ds_id = DataSourceId::parse(&t.data_source)
        .map_err(|_| bad(format!("unknown data source `{}`", t.data_source)))?;
    let ds = state
        .sources
        .get_data_source(&ds_id)
        .await?
        .filter(|d| d.is_enabled)
        .ok_or_else(|| {
            bad(format!(
                "unknown or disabled data source `{ds_id}`: GET /v1/data-sources lists them"
            ))
        })?;
    let endpoint = catalog::find(&ds.id, &t.endpoint).ok_or_else(|| {
        bad(format!(
            "data source `{ds_id}` has no endpoint `{}`",
            t.endpoint
        ))
    })?;
    // The window's dates are filled in at each fire; any two dates stand in for them here.
    let sample = NaiveDate::from_ymd_opt(2026, 1, 5).expect("a valid date");
    let mut params = t.params.clone();
    params.insert("from".into(), sample.to_string());
    params.insert("to".into(), sample.to_string());
    let valid = job_groups::validate(endpoint, &t.symbols, t.all_listed_issues, &params)?;
    let Some(plan) = job_groups::plan_for(state, user, &ds, endpoint).await? else {
        return Err(bad(format!(
            "schedules follow the J-Quants trading calendar and plans; `{ds_id}` is not a J-Quants data source: create job groups for it instead"
        )));
    };
    if plan == shared::domain::Plan::Free && !matches!(t.window, Window::SinceLastSuccess { .. }) {
        return Err(bad(
            "a free account reads data 12 weeks late, so a window relative to the last trading days finds nothing: use `since-last-success`, or a credential on a paid plan".into(),
        ));
    }
    let symbols = valid.symbols.into_iter().flatten().collect();
    Ok((
        cron,
        Template {
            data_source: ds_id,
            endpoint: endpoint.id.to_owned(),
            symbols,
            all_listed_issues: t.all_listed_issues,
            params: t.params.clone(),
            window: t.window,
        },
    ))
}
