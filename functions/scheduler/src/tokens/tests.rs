//! Renewals ahead of fires on the in-memory fakes and the sandbox provider (in process): a V1
//! account renewed once before its fire and left alone after, a V2 account never touched, a
//! refused login tried three times a fire, a busy account left for the next attempt.

use std::sync::Arc;

use chrono::TimeZone;
use sandbox::{Limits, Sandbox, SandboxConfig};
use shared::clock::{Clock, ManualClock};
use shared::crypto::LocalKeys;
use shared::domain::{DataSourceCredential, IssueCode, Plan};
use shared::queue::MemoryJobQueue;
use shared::schedule::{CronSpec, Schedule, Template, Window};
use shared::store::memory::{MemoryAccounts, MemoryJobs, MemorySchedules};
use shared::store::{DataSourceStore, ScheduleStore};

use super::*;

const MAIL: &str = "quant@example.com";
const PASSWORD: &str = "correct horse";
const KEY: &str = "v2-key";

struct Rig {
    sandbox: Sandbox,
    deps: Deps,
    vault: Arc<Vault>,
    keys: Arc<LocalKeys>,
    clock: Arc<ManualClock>,
    limiter: Arc<Limiter>,
    schedules: Arc<MemorySchedules>,
    v1: DataSource,
    v2: DataSource,
}

async fn rig() -> Rig {
    let sandbox = Sandbox::start_with(
        SandboxConfig {
            keys: vec![format!("{KEY}:light").parse().unwrap()],
            page_size: 1000,
            today: None,
        },
        Limits::default(),
    )
    .await;
    sandbox.add_v1_user(MAIL, PASSWORD, sandbox::Plan::Light);
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap(),
    ));
    let accounts = Arc::new(MemoryAccounts::default());
    let v1 = DataSource {
        id: DataSourceId::parse("jquants-v1").unwrap(),
        name: "J-Quants V1".into(),
        description: "the legacy token flow".into(),
        base_url: sandbox.v1_base_url(),
        api_version: ApiVersion::V1,
        ..DataSource::jquants_v2("")
    };
    let v2 = DataSource::jquants_v2(sandbox.base_url());
    for ds in [&v1, &v2] {
        accounts.put_data_source(ds).await.unwrap();
    }
    let keys = Arc::new(LocalKeys::default());
    let vault = Arc::new(Vault::new(accounts.clone(), keys.clone(), clock.clone()));
    let limiter = Arc::new(Limiter::new(
        Arc::new(shared::limiter::store::MemoryLimits::default()),
        clock.clone(),
    ));
    let schedules = Arc::new(MemorySchedules::default());
    let jobs = Arc::new(MemoryJobs::default());
    let deps = Deps {
        schedules: schedules.clone(),
        jobs: jobs.clone(),
        credentials: accounts.clone(),
        sources: accounts.clone(),
        users: accounts,
        parked: jobs.clone(),
        stalled: jobs,
        stalled_after: crate::STALLED_AFTER,
        queue: Arc::new(MemoryJobQueue::default()),
        clock: clock.clone(),
        vault: Some(vault.clone()),
        renewal: Some(Renewal {
            jquants: Arc::new(JQuantsClient::new(Duration::from_secs(5))),
            limiter: limiter.clone(),
        }),
    };
    Rig {
        sandbox,
        deps,
        vault,
        keys,
        clock,
        limiter,
        schedules,
        v1,
        v2,
    }
}

impl Rig {
    /// A weekday-evening schedule of `user` on `source`; its next fire.
    async fn schedule(&self, user: UserId, source: &DataSource) -> DateTime<Utc> {
        let s = Schedule::new(
            user,
            "close".into(),
            CronSpec::parse("0 18 * * 1-5", None).unwrap(),
            Template {
                data_source: source.id.clone(),
                endpoint: "prices-daily-quotes".into(),
                symbols: vec![IssueCode::parse("72030").unwrap()],
                all_listed_issues: false,
                params: Default::default(),
                window: Window::PreviousTradingDay,
            },
            self.clock.now(),
        );
        self.schedules.save_schedule(&s).await.unwrap();
        s.next_fire().unwrap()
    }

    async fn v1_user(&self, password: &str) -> UserId {
        let user = UserId::new();
        let login = CredentialSecret::V1Login {
            mail_address: MAIL.to_owned().into(),
            password: password.to_owned().into(),
        };
        self.vault
            .store(user, &self.v1.id, Plan::Light, &login, None)
            .await
            .unwrap();
        user
    }

    async fn record(&self, user: UserId, source: &DataSource) -> DataSourceCredential {
        self.vault.record(user, &source.id).await.unwrap().unwrap()
    }

    async fn tick(&self) -> TickReport {
        let mut report = TickReport::default();
        run(&self.deps, &mut report).await.unwrap();
        report
    }

    /// Ticks once a minute from `from` until `to` (inclusive); the reports added up.
    async fn tick_through(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TickReport {
        self.clock.set(from);
        let mut sum = TickReport::default();
        while self.clock.now() <= to {
            let r = self.tick().await;
            sum.tokens_renewed += r.tokens_renewed;
            sum.token_renewals_failed += r.token_renewals_failed;
            self.clock.advance(TimeDelta::minutes(1));
        }
        sum
    }

    fn v1_requests(&self, path: &str) -> u64 {
        let stats = self.sandbox.stats();
        stats
            .keys
            .get(MAIL)
            .and_then(|k| k.by_path.get(path).copied())
            .unwrap_or(0)
    }

    fn all_requests(&self) -> u64 {
        self.sandbox.stats().keys.values().map(|k| k.requests).sum()
    }
}

#[test]
fn attempts_fall_on_whole_minutes_before_the_fire() {
    let fire = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    let at = |m: i64, s: i64| fire - TimeDelta::minutes(m) + TimeDelta::seconds(s);
    assert!(attempt_now(fire, at(30, 0)));
    // A tick a few seconds late still counts as the 30-minute attempt.
    assert!(attempt_now(fire, at(30, 5)));
    assert!(!attempt_now(fire, at(29, 0)));
    assert!(attempt_now(fire, at(20, 0)) && attempt_now(fire, at(10, 0)));
    assert!(!attempt_now(fire, at(31, 0)) && !attempt_now(fire, at(5, 0)));
    assert!(!attempt_now(fire, fire) && !attempt_now(fire, fire + TimeDelta::minutes(1)));
}

/// The account signs in once, 30 minutes before the fire (a login and a refresh), and its id
/// token, sealed back, outlives the fire by [`COVER`]; the later attempts before the same fire
/// find it covered without opening anything.
#[tokio::test]
async fn a_v1_account_is_renewed_once_before_its_fire() {
    let r = rig().await;
    let user = r.v1_user(PASSWORD).await;
    let fire = r.schedule(user, &r.v1).await;
    assert!(r.record(user, &r.v1).await.id_token.is_none());

    r.clock.set(fire - TimeDelta::minutes(31));
    assert_eq!(r.tick().await.tokens_renewed, 0, "not yet");
    assert_eq!(r.all_requests(), 0);

    let sum = r
        .tick_through(fire - LOOKAHEAD, fire - TimeDelta::minutes(30))
        .await;
    assert_eq!((sum.tokens_renewed, sum.token_renewals_failed), (1, 0));
    assert_eq!(r.v1_requests("/token/auth_user"), 1);
    assert_eq!(r.v1_requests("/token/auth_refresh"), 1);
    let stored = r.record(user, &r.v1).await;
    assert!(stored.refresh_token.is_some() && stored.id_token.is_some());
    assert!(stored.id_token_expired_at.unwrap() > fire + COVER);

    let opened = r.keys.calls();
    let sum = r
        .tick_through(fire - TimeDelta::minutes(29), fire + TimeDelta::minutes(5))
        .await;
    assert_eq!((sum.tokens_renewed, sum.token_renewals_failed), (0, 0));
    assert_eq!(r.all_requests(), 2, "no request after the renewal");
    assert_eq!(
        r.keys.calls(),
        opened,
        "nothing opened for a covered account"
    );

    // The next day's fire: the token issued 30 minutes before today's would die 30 minutes
    // after tomorrow's, inside COVER, so it is renewed again; by a refresh alone this time.
    let next = r.schedules_next_fire(user).await;
    let sum = r
        .tick_through(next - TimeDelta::minutes(31), next - TimeDelta::minutes(30))
        .await;
    assert_eq!(sum.tokens_renewed, 1);
    assert_eq!(
        r.v1_requests("/token/auth_user"),
        1,
        "the refresh token still lives"
    );
    assert_eq!(r.v1_requests("/token/auth_refresh"), 2);
}

impl Rig {
    /// The next fire of `user`'s schedule once today's is handled.
    async fn schedules_next_fire(&self, user: UserId) -> DateTime<Utc> {
        let mut s = self.schedules.list_schedules(user).await.unwrap().remove(0);
        s.handled_until = s.next_fire().unwrap();
        let next = s.next_fire().unwrap();
        assert!(self.schedules.save_schedule(&s).await.unwrap());
        next
    }
}

/// A V2 key has no tokens: its schedules cost no request and open nothing.
#[tokio::test]
async fn a_v2_account_is_left_alone() {
    let r = rig().await;
    let user = UserId::new();
    r.vault
        .store_api_key(user, &r.v2.id, Plan::Light, KEY.to_owned().into())
        .await
        .unwrap();
    let fire = r.schedule(user, &r.v2).await;
    let opened = r.keys.calls();
    let sum = r.tick_through(fire - LOOKAHEAD, fire).await;
    assert_eq!((sum.tokens_renewed, sum.token_renewals_failed), (0, 0));
    assert_eq!(r.all_requests(), 0);
    assert_eq!(r.keys.calls(), opened);
}

/// A login the provider refuses is tried at the three attempts before the fire, not every
/// minute, and nothing is stored.
#[tokio::test]
async fn a_refused_login_is_tried_three_times_a_fire() {
    let r = rig().await;
    let user = r.v1_user("wrong password").await;
    let fire = r.schedule(user, &r.v1).await;
    let sum = r
        .tick_through(fire - TimeDelta::minutes(45), fire + TimeDelta::minutes(5))
        .await;
    assert_eq!((sum.tokens_renewed, sum.token_renewals_failed), (0, 3));
    assert_eq!(r.all_requests(), 3, "one sign-in a attempt");
    assert!(r.record(user, &r.v1).await.id_token.is_none());
}

/// When the account's rate budget is in use, the renewal takes no request and waits for the
/// next attempt, which renews.
#[tokio::test]
async fn a_busy_account_is_renewed_at_the_next_attempt() {
    let r = rig().await;
    let user = r.v1_user(PASSWORD).await;
    let fire = r.schedule(user, &r.v1).await;
    r.clock.set(fire - TimeDelta::minutes(30));
    let scope = Scope::for_request(&r.v1, user);
    let demands = plan_demands(Plan::Light, &r.v1);
    let spent = r
        .limiter
        .acquire_within(
            &scope,
            Ask {
                tenant: "someone",
                backlog: 60,
            },
            &demands,
            60,
            Duration::ZERO,
        )
        .await
        .unwrap();
    assert!(spent.granted > 0);
    let mut busy = TickReport::default();
    // Still busy: the budget is taken up to the window's end.
    let ask = Ask {
        tenant: "someone",
        backlog: 60,
    };
    while r
        .limiter
        .acquire_within(&scope, ask, &demands, 60, Duration::ZERO)
        .await
        .unwrap()
        .granted
        > 0
    {}
    run(&r.deps, &mut busy).await.unwrap();
    assert_eq!((busy.tokens_renewed, busy.token_renewals_failed), (0, 0));
    assert_eq!(r.all_requests(), 0, "no request without its permits");

    let sum = r
        .tick_through(fire - TimeDelta::minutes(29), fire - TimeDelta::minutes(10))
        .await;
    assert_eq!(sum.tokens_renewed, 1);
    assert_eq!(r.all_requests(), 2);
}
