//! Turning due schedule fires into job groups. Each fire's group id is derived from the
//! schedule and the fire time ([`JobGroupId::for_fire`]), so creating it is the claim: two
//! scheduler invocations handling the same minute create one group, and a tick repeated after
//! a crash finds the group it already made. A schedule's `handled_until` moves past a fire
//! only once the fire's group exists; a store or queue failure leaves the fire for the next
//! tick.

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Timelike, Utc};
use shared::catalog;
use shared::domain::{EndpointRef, JobGroupId, JobGroupStatus};
use shared::schedule::{
    self, Due, Fire, Resolved, Run, RunGroup, Schedule, TradingCalendar, Window,
    chunk_trading_days, chunks,
};
use shared::store::StoreError;

use crate::{Deps, TickReport};

/// Schedules read per tick at most (the rest are due at the next tick).
const MAX_SCHEDULES: usize = 500;
/// Groups one fire may create at most (a backfill's chunks).
const MAX_CHUNKS: usize = 200;
/// The calendar is read again when it ends sooner than this.
const CALENDAR_AHEAD: Days = Days::new(30);
/// Around the day it is needed for, the calendar is read over these days.
const CALENDAR_BEFORE: Days = Days::new(40);
const CALENDAR_AFTER: Days = Days::new(120);
/// A group found created but not fanned out this long after its creation was left by a
/// scheduler that stopped in between: its fan-out is started again.
const STUCK_AFTER: TimeDelta = TimeDelta::minutes(2);
/// The chunk number reserved for a schedule's calendar reads.
const CALENDAR_CHUNK: u16 = u16::MAX;

/// What one fire came to.
enum Fired {
    /// Its groups exist; `usize` of them were created by this call (the rest by another
    /// scheduler racing for the same fire).
    Created(Run, usize),
    /// An incremental schedule with nothing new.
    UpToDate,
    /// An incremental schedule whose previous run is still going: this fire is skipped, the
    /// next one covers its days.
    Busy,
    /// It cannot run as the schedule stands (no credential, a plan too low, parameters the
    /// endpoint refuses): recorded on the schedule for its owner, not retried.
    Refused(String),
    /// The trading calendar does not cover the days the window needs: the fire waits (it is
    /// decided again next tick) while the calendar is read from this day.
    Waiting(NaiveDate),
}

/// Runs every due schedule's fires.
pub(crate) async fn run(deps: &Deps, report: &mut TickReport) -> anyhow::Result<()> {
    let now = deps.clock.now();
    let due = deps.schedules.due_schedules(now, MAX_SCHEDULES).await?;
    if due.is_empty() {
        return Ok(());
    }
    let calendar = deps.schedules.calendar().await?;
    let stale = calendar.as_ref().is_none_or(|c| {
        !c.covers_all(now.date_naive(), now.date_naive() + CALENDAR_AHEAD)
            || now - c.fetched_at > TimeDelta::days(7)
    });
    let known = calendar.unwrap_or_else(TradingCalendar::empty);
    let mut calendar_asked = false;
    for d in schedule::due(now, &due, &known) {
        let Some(s) = due.iter().find(|s| s.id == d.schedule) else {
            continue;
        };
        if !calendar_asked && (d.needs_calendar.is_some() || stale) {
            let day = d.needs_calendar.unwrap_or(now.date_naive());
            // One request a tick (another scheduler's, or this schedule's of this hour, counts).
            calendar_asked = true;
            let (from, to) = (
                day.checked_sub_days(CALENDAR_BEFORE).unwrap_or(day),
                day.checked_add_days(CALENDAR_AFTER).unwrap_or(day),
            );
            report.calendar_reads += usize::from(ask_for_calendar(s, from, to, now, deps).await);
        }
        match apply(s.clone(), &d, &known, now, deps, report).await {
            Ok(Some(since)) if !calendar_asked => {
                calendar_asked = true;
                let to = now.date_naive();
                report.calendar_reads +=
                    usize::from(ask_for_calendar(s, since, to, now, deps).await);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(schedule_id = %s.id, error.message = %e, "schedule left for the next tick");
            }
        }
    }
    Ok(())
}

/// Decides one schedule's fires and records how far it got; says from which day the calendar
/// must be read when a fire waits for it.
async fn apply(
    mut s: Schedule,
    d: &Due,
    calendar: &TradingCalendar,
    now: DateTime<Utc>,
    deps: &Deps,
    report: &mut TickReport,
) -> anyhow::Result<Option<NaiveDate>> {
    let mut handled = d.handled_until;
    let mut outcome = Ok(None);
    // Read once per schedule and tick, at its first fire that runs.
    let mut switched_off = None;
    for (i, fire) in d.fires.iter().enumerate() {
        if !fire.runs {
            s.skipped_closed += 1;
            report.skipped_closed += 1;
            continue;
        }
        let fired = match switched_off_by(&s, &mut switched_off, deps).await {
            Ok(Some(why)) => Ok(Fired::Refused(why)),
            Ok(None) => fire_one(&s, fire, calendar, now, deps).await,
            Err(e) => Err(e.into()),
        };
        match fired {
            Ok(Fired::Created(run, made)) => {
                report.groups_created += made;
                tracing::info!(schedule_id = %s.id, fire_at = %fire.at, groups = run.groups.len(), created = made, "schedule fired");
                s.last_run = Some(run);
                s.last_error = None;
            }
            Ok(Fired::UpToDate) => {}
            Ok(Fired::Busy) => {
                s.skipped_busy += 1;
                report.skipped_busy += 1;
            }
            Ok(Fired::Refused(why)) => {
                tracing::warn!(schedule_id = %s.id, fire_at = %fire.at, reason = %why, "schedule fire refused");
                s.last_error = Some(why);
                report.refused += 1;
            }
            waits @ (Ok(Fired::Waiting(_)) | Err(_)) => {
                // This fire and the later ones are decided again next tick: handled up to just
                // before it (fires are whole minutes, so nothing lies in between).
                handled = d.fires[..i]
                    .last()
                    .map_or(fire.at - TimeDelta::milliseconds(1), |f| f.at);
                outcome = waits.map(|w| match w {
                    Fired::Waiting(since) => Some(since),
                    _ => None,
                });
                break;
            }
        }
    }
    s.skipped_late += d.too_late;
    report.skipped_late += d.too_late as usize;
    s.handled_until = handled;
    if !deps.schedules.save_schedule(&s).await? {
        tracing::info!(schedule_id = %s.id, "another scheduler recorded this schedule first");
    }
    outcome
}

async fn fire_one(
    s: &Schedule,
    fire: &Fire,
    calendar: &TradingCalendar,
    now: DateTime<Utc>,
    deps: &Deps,
) -> anyhow::Result<Fired> {
    let t = &s.template;
    let Some(credential) = deps
        .credentials
        .get_credential(s.user_id, &t.data_source)
        .await?
    else {
        return Ok(Fired::Refused(format!(
            "no credential stored for `{}`: store one with PUT /v1/credentials/{}",
            t.data_source, t.data_source
        )));
    };
    let Ok(endpoint) = EndpointRef::parse(&t.data_source, &t.endpoint) else {
        return Ok(Fired::Refused(format!(
            "endpoint `{}` is no longer in the catalog",
            t.endpoint
        )));
    };
    if credential.plan < endpoint.min_plan {
        return Ok(Fired::Refused(format!(
            "endpoint `{}` needs the {} plan or higher; the {} credential is on the {} plan",
            endpoint.id, endpoint.min_plan, t.data_source, credential.plan
        )));
    }
    let incremental = matches!(t.window, Window::SinceLastSuccess { .. });
    let key = s.watermark_key();
    let mut watermark = None;
    if incremental {
        if let Some(run) = &s.last_run {
            // The watermark moves over the previous run's chunks that completed, in date
            // order, and stops at the first that did not: what failed is fetched again.
            for g in &run.groups {
                match deps.jobs.get_group(g.id).await?.map(|g| g.status) {
                    Some(JobGroupStatus::Completed) => {
                        deps.schedules
                            .advance_watermark(s.user_id, &key, g.last_day)
                            .await?;
                    }
                    Some(JobGroupStatus::Pending | JobGroupStatus::Running) => {
                        return Ok(Fired::Busy);
                    }
                    Some(JobGroupStatus::Failed) | None => break,
                }
            }
        }
        watermark = deps.schedules.watermark(s.user_id, &key).await?;
    }
    let (from, to) = match t.window.resolve(fire.market_date, calendar, watermark) {
        Resolved::Range(from, to) => (from, to),
        Resolved::UpToDate => return Ok(Fired::UpToDate),
        Resolved::Unknown { since } => return Ok(Fired::Waiting(since)),
    };
    // An incremental run reads what the plan can see (a free account lags 12 weeks); the
    // watermark then follows the window.
    let today = now.with_timezone(&schedule::MARKET_TIME_ZONE).date_naive();
    let window = credential.plan.data_window(
        today,
        endpoint.dataset == shared::dataset::DatasetKind::MktCal,
    );
    let (from, to) = if incremental {
        (from.max(window.from), to.min(window.to))
    } else {
        (from, to)
    };
    if from > to {
        return Ok(Fired::UpToDate);
    }
    let ranges = if incremental {
        chunks(from, to, calendar, chunk_trading_days(credential.plan))
            .unwrap_or_else(|| vec![(from, to)])
    } else {
        vec![(from, to)]
    };
    if ranges.len() > MAX_CHUNKS {
        return Ok(Fired::Refused(format!(
            "{from}..{to} would take {} groups (at most {MAX_CHUNKS} per run): start the backfill later",
            ranges.len()
        )));
    }
    let symbols: Vec<String> = t.symbols.iter().map(|c| c.as_str().to_owned()).collect();
    let mut groups = Vec::with_capacity(ranges.len());
    let mut made = 0;
    for (chunk, (first, last)) in (0u16..).zip(&ranges) {
        let mut params = t.params.clone();
        params.insert("from".into(), first.to_string());
        params.insert("to".into(), last.to_string());
        let valid = if t.all_listed_issues {
            endpoint.validate_all_listed(&params)
        } else {
            endpoint.validate(&symbols, &params)
        };
        let valid = match valid.and_then(|v| {
            endpoint.check_window(credential.plan, &v.params, today)?;
            Ok(v)
        }) {
            Ok(v) => v,
            Err(e) => return Ok(Fired::Refused(e.0)),
        };
        let id = JobGroupId::for_fire(s.id, fire.at, chunk);
        made += usize::from(create(id, valid, s, endpoint, now, deps).await?);
        groups.push(RunGroup {
            id,
            last_day: *last,
        });
    }
    Ok(Fired::Created(
        Run {
            fire_at: fire.at,
            groups,
        },
        made,
    ))
}

/// Creates the group `id` and starts its fan-out (`true`); when it exists already (another
/// scheduler made it: `false`), starts its fan-out only if its creator evidently stopped
/// before doing so.
async fn create(
    id: JobGroupId,
    valid: catalog::ValidRequest,
    s: &Schedule,
    endpoint: EndpointRef,
    now: DateTime<Utc>,
    deps: &Deps,
) -> anyhow::Result<bool> {
    let (group, symbols) =
        valid.into_group(id, s.user_id, s.template.data_source.clone(), endpoint, now);
    match deps.jobs.create_group(&group, &symbols).await {
        Ok(()) => {
            deps.queue.start_fan_out(id).await?;
            Ok(true)
        }
        Err(StoreError::AlreadyExists) => {
            let existing = deps.jobs.get_group(id).await?;
            let fan_out = deps.jobs.fan_out(id).await?;
            if let (Some(g), Some(f)) = (existing, fan_out)
                && g.status == JobGroupStatus::Pending
                && f.written == 0
                && f.enqueued == 0
                && now - g.created_at > STUCK_AFTER
            {
                tracing::warn!(job_group_id = %id, "scheduled group was never fanned out; starting it");
                deps.queue.start_fan_out(id).await?;
            }
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Which kill switch refuses `s`'s fires, if one does: its data source's or its owner's
/// (`memo` keeps the answer for the schedule's other fires of the tick).
async fn switched_off_by(
    s: &Schedule,
    memo: &mut Option<Option<String>>,
    deps: &Deps,
) -> Result<Option<String>, StoreError> {
    if let Some(why) = memo {
        return Ok(why.clone());
    }
    let why = match unusable_source(&s.template.data_source, deps).await? {
        Some(why) => Some(why),
        None if !deps.users.user_is_active(s.user_id).await? => {
            Some("the schedule's owner is disabled by an administrator".into())
        }
        None => None,
    };
    *memo = Some(why.clone());
    Ok(why)
}

/// Why no fire may use `id` (it no longer exists, or the operator disabled it), if so.
async fn unusable_source(
    id: &shared::domain::DataSourceId,
    deps: &Deps,
) -> Result<Option<String>, StoreError> {
    Ok(match deps.sources.get_data_source(id).await? {
        None => Some(format!("data source `{id}` no longer exists")),
        Some(ds) if !ds.is_enabled => Some(format!(
            "data source `{id}` is disabled by the operator: no request goes to it"
        )),
        Some(_) => None,
    })
}

/// Asks for the markets calendar of `from..=to` as a small group of the schedule's owner (the
/// fetcher stores every calendar it reads); at most one per schedule per hour. `true` when
/// this call made the request.
async fn ask_for_calendar(
    s: &Schedule,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
    deps: &Deps,
) -> bool {
    let Ok(endpoint) = EndpointRef::parse(&s.template.data_source, "mkt-cal") else {
        return false;
    };
    if !matches!(
        unusable_source(&s.template.data_source, deps).await,
        Ok(None)
    ) {
        return false;
    }
    let params = [
        ("from".to_owned(), from.to_string()),
        ("to".to_owned(), to.to_string()),
    ]
    .into();
    let Ok(valid) = endpoint.validate(&[], &params) else {
        return false;
    };
    let hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    let id = JobGroupId::for_fire(s.id, hour, CALENDAR_CHUNK);
    match create(id, valid, s, endpoint, now, deps).await {
        Ok(made) => {
            if made {
                tracing::info!(schedule_id = %s.id, job_group_id = %id, %from, %to, "trading calendar requested");
            }
            made
        }
        Err(e) => {
            tracing::warn!(schedule_id = %s.id, error.message = %e, "could not request the trading calendar");
            false
        }
    }
}

#[cfg(test)]
mod tests;
