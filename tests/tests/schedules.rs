//! Schedules end to end on the emulator: the API's schedule resource (the deployed `api`
//! binary), scheduler ticks racing for the same minute, and ten-plus simulated days of "daily
//! bars, previous trading day, all issues" run by the real `fetcher` binary on the Lambda-shaped
//! runtime against the sandbox's real Japanese calendar. The scheduler runs in-process on a
//! manual clock (simulated days), so the deployed one's schedule is off.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use devstack::client::ApiClient;
use devstack::runtime::deployed::Options;
use integration_tests::World;
use reqwest::Method;
use serde_json::json;
use shared::clock::ManualClock;

use shared::domain::{DataSourceId, JobGroupId, JobGroupStatus, UserId};
use shared::schedule::{CronSpec, Schedule, Template, TradingCalendar, Window};
use shared::store::dynamo::DynamoJobs;
use shared::store::{JobQueries, ScheduleStore};

/// The deployed API alone: no fetcher takes the fan-outs the ticks send, no scheduler ticks.
fn api_only() -> Options {
    Options {
        without_mapping: true,
        without_schedule: true,
        ..Options::default()
    }
}

fn jobs(w: &World) -> DynamoJobs {
    DynamoJobs::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.fetcher_config.jobs_table,
    )
}

async fn user_id(user: &ApiClient) -> UserId {
    let me = user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    UserId::parse(me["user_id"].as_str().unwrap()).unwrap()
}

/// A "daily bars, previous trading day, every issue" schedule at 18:00 Tokyo, deciding fires
/// after `since`.
fn daily_bars(user: UserId, since: DateTime<Utc>) -> Schedule {
    Schedule::new(
        user,
        "yesterday's bars".into(),
        CronSpec::parse("0 18 * * *", Some("Asia/Tokyo")).unwrap(),
        Template {
            data_source: DataSourceId::parse("jquants-v2").unwrap(),
            endpoint: "eq-bars-daily".into(),
            symbols: Vec::new(),
            all_listed_issues: false,
            params: BTreeMap::new(),
            window: Window::PreviousTradingDay,
        },
        since,
    )
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// 18:00 Tokyo on `day`.
fn six_pm(day: &str) -> DateTime<Utc> {
    chrono_tz::Asia::Tokyo
        .from_local_datetime(&d(day).and_hms_opt(18, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn queued(w: &World) -> u64 {
    let out = w
        .stack
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(&w.stack.fetcher_config.jobs_queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    out.attributes()
        .into_iter()
        .flat_map(|a| a.values())
        .map(|v| v.parse::<u64>().unwrap())
        .sum()
}

#[tokio::test]
async fn schedules_are_checked_listed_replaced_and_deleted_per_user() {
    let w = World::deployed(100, sandbox::Plan::Light, api_only()).await;
    let body = json!({
        "name": "close", "cron": "0 18 * * 1-5",
        "template": {"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                     "window": {"kind": "previous-trading-day"}},
    });
    let created = w
        .user
        .expect(Method::POST, "/v1/schedules", Some(&body), 201)
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["time_zone"], "Asia/Tokyo");
    let next = DateTime::parse_from_rfc3339(created["next_fire_at"].as_str().unwrap()).unwrap();
    assert!(next > Utc::now(), "fires from now on: {created}");
    assert_eq!(
        next.with_timezone(&chrono_tz::Asia::Tokyo)
            .format("%H:%M")
            .to_string(),
        "18:00"
    );

    // Refused before anything is stored, each with what to change.
    for (bad, status, says) in [
        (json!({"cron": "0 18 * *"}), 400, "five-field"),
        (json!({"time_zone": "Mars/Olympus"}), 400, "time zone"),
        (
            json!({"template": {"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
            "params": {"from": "2026-01-05"}, "window": {"kind": "previous-trading-day"}}}),
            400,
            "window",
        ),
        (
            json!({"template": {"data_source": "jquants-v2", "endpoint": "no-such",
            "window": {"kind": "previous-trading-day"}}}),
            400,
            "no endpoint",
        ),
        (
            json!({"template": {"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
            "window": {"kind": "last-trading-days", "days": 0}}}),
            400,
            "between 1 and 250",
        ),
        (
            json!({"template": {"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
            "symbols": ["not a code"], "window": {"kind": "previous-trading-day"}}}),
            400,
            "",
        ),
        (json!({"extra": 1}), 400, "extra"),
    ] {
        let mut b = body.clone();
        for (k, v) in bad.as_object().unwrap() {
            b[k] = v.clone();
        }
        let r = w
            .user
            .call(Method::POST, "/v1/schedules", Some(&b))
            .await
            .unwrap();
        assert!(
            r.status == status || (status == 400 && r.status == 422),
            "{b}: {} {}",
            r.status,
            r.body
        );
        assert!(
            r.body["detail"].as_str().unwrap_or_default().contains(says),
            "{}",
            r.body
        );
    }
    let list = w
        .user
        .expect(Method::GET, "/v1/schedules", None, 200)
        .await
        .unwrap();
    assert_eq!(
        list["schedules"].as_array().unwrap().len(),
        1,
        "nothing stored by refusals"
    );

    // Replace: disabled, it waits for nothing.
    let mut off = body.clone();
    off["enabled"] = json!(false);
    let replaced = w
        .user
        .expect(Method::PUT, &format!("/v1/schedules/{id}"), Some(&off), 200)
        .await
        .unwrap();
    assert_eq!(replaced["enabled"], false);
    assert!(replaced["next_fire_at"].is_null());

    // Another user sees nothing and changes nothing.
    let other = devstack::client::add_user(&w.api, &w.admin, "someone-else", "light")
        .await
        .unwrap();
    for (m, b) in [
        (Method::GET, None),
        (Method::PUT, Some(&body)),
        (Method::DELETE, None),
    ] {
        let r = other
            .call(m.clone(), &format!("/v1/schedules/{id}"), b)
            .await
            .unwrap();
        assert_eq!(r.status, 404, "{m} by another user: {}", r.body);
    }
    let theirs = other
        .expect(Method::GET, "/v1/schedules", None, 200)
        .await
        .unwrap();
    assert!(theirs["schedules"].as_array().unwrap().is_empty());

    w.user
        .expect(Method::DELETE, &format!("/v1/schedules/{id}"), None, 204)
        .await
        .unwrap();
    let r = w
        .user
        .call(Method::GET, &format!("/v1/schedules/{id}"), None)
        .await
        .unwrap();
    assert_eq!(r.status, 404);
}

/// Two scheduler invocations racing for the same minute, five fires in a row: one group per
/// fire, one fan-out message per group, and a tick repeated afterwards adds nothing.
#[tokio::test]
async fn racing_scheduler_ticks_create_one_group_per_fire() {
    let w = World::deployed(100, sandbox::Plan::Light, api_only()).await;
    let user = user_id(&w.user).await;
    let store = jobs(&w);
    let first = d("2026-12-01");
    let last = d("2027-03-31");
    let trading = first
        .iter_days()
        .take_while(|x| *x <= last)
        .filter(|x| chrono::Datelike::weekday(x).num_days_from_monday() < 5);
    store
        .merge_calendar(&TradingCalendar::new(
            first,
            last,
            trading,
            six_pm("2026-12-07"),
        ))
        .await
        .unwrap();
    let since = six_pm("2026-12-07") - TimeDelta::hours(1);
    let schedule = daily_bars(user, since);
    assert!(store.save_schedule(&schedule).await.unwrap());
    let clock = Arc::new(ManualClock::new(since));
    // No fetcher runs here: the groups' fan-outs stand still on purpose, the sweep is
    // tests/tests/sweep.rs's.
    let (mut a, mut b) = (w.scheduler(clock.clone()), w.scheduler(clock.clone()));
    (a.stalled_after, b.stalled_after) = (TimeDelta::days(3650), TimeDelta::days(3650));
    let mut fires = Vec::new();
    for day in [
        "2026-12-07",
        "2026-12-08",
        "2026-12-09",
        "2026-12-10",
        "2026-12-11",
    ] {
        let fire = six_pm(day);
        clock.set(fire + TimeDelta::seconds(5));
        let (ra, rb) = tokio::join!(scheduler::tick(&a), scheduler::tick(&b));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(
            ra.groups_created + rb.groups_created,
            1,
            "{day}: {ra:?} {rb:?}"
        );
        let again = scheduler::tick(&a).await.unwrap();
        assert_eq!(again.groups_created, 0, "{day}: decided once");
        fires.push(fire);
    }
    for fire in &fires {
        let g = store
            .get_group(JobGroupId::for_fire(schedule.id, *fire, 0))
            .await
            .unwrap()
            .expect("the fire's group");
        assert_eq!(g.user_id, user);
        assert_eq!(g.status, JobGroupStatus::Pending);
    }
    assert_eq!(
        queued(&w).await,
        5,
        "one fan-out message per group, no more"
    );
    let s = store
        .get_schedule(user, schedule.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.handled_until, fires[4]);
    assert_eq!(s.last_run.unwrap().groups.len(), 1);
}

/// Twelve simulated days around Golden Week 2026 (29 April, 4-6 May closed; weekends too) of
/// "daily bars, previous trading day, all issues" at 18:00 Tokyo, ticked every few simulated
/// minutes with repeated and racing ticks, run by real fetchers: exactly one group per trading
/// day, none on the other days, each day's rows fetched once and stored once.
#[tokio::test]
async fn ten_simulated_days_make_one_group_per_trading_day() {
    let w = World::deployed(
        5000,
        sandbox::Plan::Premium,
        Options {
            without_schedule: true,
            ..Options::default()
        },
    )
    .await;
    let user = user_id(&w.user).await;
    let store = jobs(&w);
    let start = six_pm("2026-04-27") - TimeDelta::hours(9);
    let schedule = daily_bars(user, start);
    assert!(store.save_schedule(&schedule).await.unwrap());
    let clock = Arc::new(ManualClock::new(start));
    // The simulated days jump the clock past any stall bound: the sweep is
    // tests/tests/sweep.rs's.
    let (mut a, mut b) = (w.scheduler(clock.clone()), w.scheduler(clock.clone()));
    (a.stalled_after, b.stalled_after) = (TimeDelta::days(3650), TimeDelta::days(3650));

    let days = [
        "2026-04-27",
        "2026-04-28",
        "2026-04-29",
        "2026-04-30",
        "2026-05-01",
        "2026-05-02",
        "2026-05-03",
        "2026-05-04",
        "2026-05-05",
        "2026-05-06",
        "2026-05-07",
        "2026-05-08",
    ];
    // Fire day -> the previous trading day it fetches (real exchange calendar).
    let want: BTreeMap<&str, &str> = [
        ("2026-04-27", "2026-04-24"),
        ("2026-04-28", "2026-04-27"),
        ("2026-04-30", "2026-04-28"),
        ("2026-05-01", "2026-04-30"),
        ("2026-05-07", "2026-05-01"),
        ("2026-05-08", "2026-05-07"),
    ]
    .into();
    let mut created = 0;
    let mut fired = Vec::new();
    let mut calendar_reads = 0;
    let began = Instant::now();
    for day in days {
        let fire = six_pm(day);
        // The day's ticks: before the fire, at it (two racing), just after, late evening.
        for t in [fire - TimeDelta::hours(8), fire - TimeDelta::minutes(1)] {
            clock.set(t);
            let r = scheduler::tick(&a).await.unwrap();
            created += r.groups_created;
            calendar_reads += r.calendar_reads;
        }
        clock.set(fire);
        let (ra, rb) = tokio::join!(scheduler::tick(&a), scheduler::tick(&b));
        for r in [ra.unwrap(), rb.unwrap()] {
            created += r.groups_created;
            calendar_reads += r.calendar_reads;
        }
        // Until this fire is decided (the first one waits for the calendar to be read),
        // a tick a simulated minute, a real half second apart.
        let mut minute = 0;
        loop {
            let s = store
                .get_schedule(user, schedule.id)
                .await
                .unwrap()
                .unwrap();
            if s.handled_until >= fire {
                break;
            }
            assert!(minute < 240, "{day}: fire not decided: {s:?}");
            minute += 1;
            clock.set(fire + TimeDelta::minutes(minute));
            tokio::time::sleep(Duration::from_millis(500)).await;
            let r = scheduler::tick(&a).await.unwrap();
            created += r.groups_created;
            calendar_reads += r.calendar_reads;
        }
        clock.set(fire + TimeDelta::hours(5));
        created += scheduler::tick(&a).await.unwrap().groups_created;

        let group = store
            .get_group(JobGroupId::for_fire(schedule.id, fire, 0))
            .await
            .unwrap();
        match want.get(day) {
            Some(fetched) => {
                let g = group.unwrap_or_else(|| panic!("{day}: no group"));
                assert_eq!(
                    g.params.get("from").map(String::as_str),
                    Some(*fetched),
                    "{day}"
                );
                assert_eq!(
                    g.params.get("to").map(String::as_str),
                    Some(*fetched),
                    "{day}"
                );
                let view = w
                    .user
                    .wait_for_group(&g.id.to_string(), Duration::from_secs(240))
                    .await
                    .unwrap();
                assert_eq!(view["status"], "completed", "{day}: {view}");
                assert_eq!(view["total_jobs"], 1, "{day}: one date-only job: {view}");
                fired.push(g.id.to_string());
            }
            None => assert!(group.is_none(), "{day}: the market is closed, no group"),
        }
    }
    assert_eq!(created, want.len(), "exactly one group per trading day");
    let mut rows = Vec::new();
    for id in &fired {
        rows.extend(integration_tests::group_rows(&w.stack, id).await);
    }
    assert!(
        calendar_reads >= 1,
        "the calendar was read through the provider"
    );
    let s = store
        .get_schedule(user, schedule.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.skipped_closed, 6, "{s:?}");
    assert_eq!(s.skipped_late, 0);
    assert!(s.last_error.is_none(), "{s:?}");

    // Each fetched day asked the provider once (one page: every issue of the date) ...
    let stats = w.sandbox.stats();
    let key = &stats.keys[integration_tests::KEY];
    assert_eq!(
        key.by_path.get("/equities/bars/daily"),
        Some(&(want.len() as u64)),
        "{key:?}"
    );
    // ... and its rows are stored once each, equal to the provider's.
    for code in ["72030", "67580", "13010"] {
        let mut stored: Vec<&serde_json::Map<String, serde_json::Value>> = rows
            .iter()
            .map(|(_, r)| r)
            .filter(|r| r["Code"] == code)
            .collect();
        stored.sort_by_key(|r| r["Date"].as_str().map(str::to_owned));
        let dates: Vec<&str> = stored.iter().map(|r| r["Date"].as_str().unwrap()).collect();
        let mut fetched: Vec<&str> = want.values().copied().collect();
        fetched.sort_unstable();
        assert_eq!(dates, fetched, "{code}");
        for r in &stored {
            let day = r["Date"].as_str().unwrap();
            let truth = sandbox::daily_bar(code, d(day), sandbox::Plan::Premium).unwrap();
            assert_eq!(**r, truth, "{code} {day}");
        }
    }
    eprintln!(
        "12 simulated days: {} groups, {} calendar read(s), {:.0} s",
        want.len(),
        calendar_reads,
        began.elapsed().as_secs_f64()
    );
}
