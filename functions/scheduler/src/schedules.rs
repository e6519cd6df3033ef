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
mod tests {
    //! The incremental path on the in-memory fakes: chunked backfill, a watermark that moves
    //! only over completed chunks, a fire skipped while the previous run is still going.

    use std::sync::Arc;

    use chrono::{Datelike, TimeZone};
    use shared::clock::{Clock, ManualClock};
    use shared::domain::Envelope;
    use shared::domain::{
        DataSourceCredential, DataSourceId, IssueCode, Job, JobId, Plan, ResponseData, ScheduleId,
        UserId,
    };
    use shared::queue::MemoryJobQueue;
    use shared::schedule::CronSpec;
    use shared::store::memory::{MemoryAccounts, MemoryJobs, MemorySchedules};
    use shared::store::{
        CredentialStore, DataSourceStore, FanOutStore, GroupControl, JobLifecycle, JobQueries,
        JobResult, ScheduleStore, UserStore,
    };

    use super::*;
    use crate::tick;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn six_pm(day: &str) -> DateTime<Utc> {
        tokyo(d(day).and_hms_opt(18, 0, 0).unwrap())
    }

    fn tokyo(t: chrono::NaiveDateTime) -> DateTime<Utc> {
        (chrono::FixedOffset::east_opt(9 * 3600).unwrap())
            .from_local_datetime(&t)
            .unwrap()
            .with_timezone(&Utc)
    }

    struct Fixture {
        deps: Deps,
        accounts: Arc<MemoryAccounts>,
        jobs: Arc<MemoryJobs>,
        schedules: Arc<MemorySchedules>,
        clock: Arc<ManualClock>,
        user: UserId,
        id: ScheduleId,
    }

    async fn fixture() -> Fixture {
        fixture_with_calendar_from("2025-06-01").await
    }

    /// The fixture, its stored calendar covering weekdays from `first` to the end of 2026.
    async fn fixture_with_calendar_from(first: &str) -> Fixture {
        let user = UserId::new();
        let ds = DataSourceId::parse("jquants-v2").unwrap();
        let accounts = Arc::new(MemoryAccounts::default());
        accounts
            .create_user(
                &shared::domain::User {
                    id: user,
                    name: "quant".into(),
                    is_admin: false,
                    created_at: Utc::now(),
                    disabled: false,
                },
                &shared::store::ApiKeyRecord {
                    id: shared::domain::ApiKeyId::new(),
                    user_id: user,
                    hash: format!("hash-of-{user}"),
                    display_prefix: "mmk_abcdef".into(),
                    name: None,
                    created_at: Utc::now(),
                    revoked_at: None,
                },
            )
            .await
            .unwrap();
        accounts
            .put_data_source(&shared::domain::DataSource::jquants_v2(
                "https://api.jquants.com",
            ))
            .await
            .unwrap();
        accounts
            .put_credential(&DataSourceCredential {
                user_id: user,
                data_source_id: ds.clone(),
                plan: Plan::Free,
                encrypted_credentials: Envelope {
                    version: 1,
                    key_arn: "arn:aws:kms:us-east-1:123456789012:key/k".into(),
                    encrypted_data_key: vec![1],
                    nonce: [0; 12],
                    ciphertext: vec![1],
                },
                refresh_token: None,
                refresh_token_expired_at: None,
                id_token: None,
                id_token_expired_at: None,
                created_at: Utc::now(),
                updated_at: Utc::now(),
                version: 1,
            })
            .await
            .unwrap();
        let schedules = Arc::new(MemorySchedules::default());
        let (first, last) = (d(first), d("2026-12-31"));
        let start = six_pm("2026-06-01") - TimeDelta::hours(1);
        schedules
            .merge_calendar(&TradingCalendar::new(
                first,
                last,
                first
                    .iter_days()
                    .take_while(|x| *x <= last)
                    .filter(|x| x.weekday().num_days_from_monday() < 5),
                start,
            ))
            .await
            .unwrap();
        let schedule = Schedule::new(
            user,
            "keep 7203 current".into(),
            CronSpec::parse("0 18 * * 1-5", None).unwrap(),
            shared::schedule::Template {
                data_source: ds,
                endpoint: "eq-bars-daily".into(),
                symbols: vec![IssueCode::parse("72030").unwrap()],
                all_listed_issues: false,
                params: Default::default(),
                window: Window::SinceLastSuccess {
                    start: d("2025-10-01"),
                },
            },
            start,
        );
        let id = schedule.id;
        schedules.save_schedule(&schedule).await.unwrap();
        let jobs = Arc::new(MemoryJobs::default());
        let clock = Arc::new(ManualClock::new(start));
        Fixture {
            deps: Deps {
                schedules: schedules.clone(),
                jobs: jobs.clone(),
                credentials: accounts.clone(),
                sources: accounts.clone(),
                users: accounts.clone(),
                parked: jobs.clone(),
                stalled: jobs.clone(),
                stalled_after: crate::STALLED_AFTER,
                queue: Arc::new(MemoryJobQueue::default()),
                clock: clock.clone(),
                vault: None,
            },
            jobs,
            accounts,
            schedules,
            clock,
            user,
            id,
        }
    }

    impl Fixture {
        async fn fire(&self, day: &str) -> (TickReport, Schedule) {
            self.clock.set(six_pm(day));
            let r = tick(&self.deps).await.unwrap();
            let s = self
                .schedules
                .get_schedule(self.user, self.id)
                .await
                .unwrap()
                .unwrap();
            (r, s)
        }

        /// Runs a group's one job to the end, as a fetcher would.
        async fn finish(&self, group: JobGroupId, ok: bool) {
            let now = self.clock.now();
            let g = self.jobs.get_group(group).await.unwrap().unwrap();
            self.jobs
                .write_jobs(&[Job::new(group, JobId::new(0), None)])
                .await
                .unwrap();
            self.jobs
                .start_job(&g, JobId::new(0), now, TimeDelta::seconds(90))
                .await
                .unwrap();
            let result = if ok {
                JobResult::Completed(ResponseData::summary(1, 1))
            } else {
                JobResult::Failed("provider said no".into())
            };
            self.jobs
                .finish_job(group, JobId::new(0), &result, now)
                .await
                .unwrap();
            self.jobs.finalize_group(group, now).await.unwrap();
        }

        async fn ranges(&self, run: &Run) -> Vec<(String, String)> {
            let mut out = Vec::new();
            for g in &run.groups {
                let g = self.jobs.get_group(g.id).await.unwrap().unwrap();
                out.push((g.params["from"].clone(), g.params["to"].clone()));
            }
            out
        }
    }

    fn strings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn weekdays(first: &str, last: &str, fetched_at: DateTime<Utc>) -> TradingCalendar {
        let (first, last) = (d(first), d(last));
        TradingCalendar::new(
            first,
            last,
            first
                .iter_days()
                .take_while(|x| *x <= last)
                .filter(|x| x.weekday().num_days_from_monday() < 5),
            fetched_at,
        )
    }

    #[tokio::test]
    async fn another_users_old_and_future_calendar_reads_do_not_poison_the_fire() {
        let f = fixture().await;
        // Some user's job reads the calendar of January 2020, another's June 2027: before
        // the calendar kept every span it was told, the second read replaced the stored one and
        // yesterday was unknown, so the fire was refused and never retried.
        let at = six_pm("2026-05-31");
        for read in [
            weekdays("2020-01-01", "2020-01-31", at),
            weekdays("2027-06-01", "2027-06-30", at),
        ] {
            f.schedules.merge_calendar(&read).await.unwrap();
        }
        let (r, s) = f.fire("2026-06-01").await;
        assert_eq!(r.refused, 0, "{:?}", s.last_error);
        assert!(s.last_error.is_none());
        assert_eq!(r.groups_created, 3);
    }

    #[tokio::test]
    async fn a_fire_whose_days_are_unknown_waits_for_the_calendar_and_then_runs() {
        // The calendar starts on the fire's own day: the trading day before it is unknown.
        let f = fixture_with_calendar_from("2026-06-01").await;
        let (r, s) = f.fire("2026-06-01").await;
        assert_eq!((r.refused, r.groups_created), (0, 0));
        assert!(s.last_error.is_none());
        assert_eq!(r.calendar_reads, 1, "the calendar is asked for");
        assert!(
            s.handled_until < six_pm("2026-06-01"),
            "the fire is still due"
        );

        // The calendar read lands (as the fetcher stores it): the next tick runs the fire.
        f.schedules
            .merge_calendar(&weekdays("2025-05-01", "2026-05-31", f.clock.now()))
            .await
            .unwrap();
        f.clock.set(six_pm("2026-06-01") + TimeDelta::minutes(1));
        let r = tick(&f.deps).await.unwrap();
        assert_eq!((r.refused, r.groups_created), (0, 3));
    }

    #[tokio::test]
    async fn a_disabled_owner_gets_no_fire() {
        let f = fixture().await;
        f.accounts.set_disabled(f.user, true).await.unwrap();
        let (r, s) = f.fire("2026-06-01").await;
        assert_eq!((r.groups_created, r.refused), (0, 1));
        assert!(
            s.last_error
                .as_deref()
                .unwrap_or_default()
                .contains("disabled by an administrator"),
            "{:?}",
            s.last_error
        );
    }

    #[tokio::test]
    async fn a_disabled_data_source_gets_no_fire() {
        let f = fixture().await;
        let mut ds = shared::domain::DataSource::jquants_v2("https://api.jquants.com");
        ds.is_enabled = false;
        f.accounts.put_data_source(&ds).await.unwrap();
        let (r, s) = f.fire("2026-06-01").await;
        assert_eq!((r.groups_created, r.refused), (0, 1));
        assert!(
            s.last_error
                .as_deref()
                .unwrap_or_default()
                .contains("disabled by the operator"),
            "{:?}",
            s.last_error
        );
        // Enabled again: the next fire runs.
        ds.is_enabled = true;
        f.accounts.put_data_source(&ds).await.unwrap();
        let (r, _) = f.fire("2026-06-02").await;
        assert_eq!(r.groups_created, 3);
    }

    #[tokio::test]
    async fn the_watermark_moves_only_over_completed_chunks() {
        let f = fixture().await;
        // A free account reads up to 12 weeks back (9 March on 1 June): the backfill from
        // 1 October is 114 trading days, in chunks of 50 (Free).
        let (r, s) = f.fire("2026-06-01").await;
        assert_eq!(r.groups_created, 3);
        let run = s.last_run.clone().unwrap();
        assert_eq!(
            f.ranges(&run).await,
            strings(&[
                ("2025-10-01", "2025-12-09"),
                ("2025-12-10", "2026-02-17"),
                ("2026-02-18", "2026-03-09"),
            ])
        );
        let key = s.watermark_key();
        assert_eq!(f.schedules.watermark(f.user, &key).await.unwrap(), None);

        // The middle chunk fails: the watermark stops before it, so the next run fetches it
        // (and what follows) again.
        f.finish(run.groups[0].id, true).await;
        f.finish(run.groups[1].id, false).await;
        f.finish(run.groups[2].id, true).await;
        let (r, s) = f.fire("2026-06-02").await;
        assert_eq!(
            f.schedules.watermark(f.user, &key).await.unwrap(),
            Some(d("2025-12-09"))
        );
        assert_eq!(r.groups_created, 2);
        let run = s.last_run.clone().unwrap();
        assert_eq!(
            f.ranges(&run).await,
            strings(&[("2025-12-10", "2026-02-17"), ("2026-02-18", "2026-03-10")])
        );

        // Still running at the next fire: skipped, nothing created.
        let (r, s) = f.fire("2026-06-03").await;
        assert_eq!(
            (r.groups_created, r.skipped_busy, s.skipped_busy),
            (0, 1, 1)
        );

        // Done: the next run takes only the new days.
        for g in &run.groups {
            f.finish(g.id, true).await;
        }
        let (r, s) = f.fire("2026-06-04").await;
        assert_eq!(
            f.schedules.watermark(f.user, &key).await.unwrap(),
            Some(d("2026-03-10"))
        );
        assert_eq!(r.groups_created, 1);
        assert_eq!(
            f.ranges(s.last_run.as_ref().unwrap()).await,
            strings(&[("2026-03-11", "2026-03-12")])
        );
        assert!(s.last_error.is_none());
    }
}
