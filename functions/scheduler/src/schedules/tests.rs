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
            renewal: None,
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
