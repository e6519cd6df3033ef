//! The limiter's unit tests: the buckets a request is charged to, and the per-process
//! bookkeeping of answers across processes on the in-memory store.

use super::*;
use crate::catalog;
use crate::domain::DataSourceId;

fn demands_for(plan: Plan, endpoint: &str) -> Vec<(String, u32)> {
    let source = DataSource::jquants_v2("http://127.0.0.1:9");
    let endpoint = catalog::find(&DataSourceId::parse("jquants-v2").unwrap(), endpoint)
        .expect("catalog entry");
    demands(plan, &source, endpoint)
        .into_iter()
        .map(|d| (d.bucket, d.limits.per_minute))
        .collect()
}

#[test]
fn each_request_is_charged_to_the_buckets_the_provider_counts() {
    assert_eq!(
        demands_for(Plan::Light, "eq-bars-daily"),
        vec![("plan".into(), 60)]
    );
    assert_eq!(
        demands_for(Plan::Premium, "fin-summary"),
        vec![("plan".into(), 500), ("fin-summary".into(), 60)],
        "the endpoint's own cap on top of the plan's"
    );
    assert_eq!(
        demands_for(Plan::Free, "eq-bars-minute"),
        vec![("add-on".into(), 60)],
        "minute bars count against the add-on's bucket only"
    );
}

#[test]
fn the_plan_bucket_alone_is_the_plan_limit_under_the_data_source() {
    let mut source = DataSource::jquants_v2("http://127.0.0.1:9");
    let plan = plan_demands(Plan::Light, &source);
    assert_eq!(
        plan,
        vec![Demand {
            bucket: "plan".into(),
            limits: Limits {
                per_minute: 60,
                per_hour: Some(30_000),
                per_day: Some(720_000),
            },
            shared: false,
        }]
    );
    let daily = catalog::find(&source.id, "eq-bars-daily").expect("catalog entry");
    assert_eq!(
        demands(Plan::Light, &source, daily),
        plan,
        "a plan endpoint without a cap of its own"
    );
    source.rate_limit_per_minute = 40;
    assert_eq!(
        plan_demands(Plan::Premium, &source)[0].limits.per_minute,
        40,
        "capped by the data source"
    );
    source.provider_type = ProviderType::Yfinance;
    source.rate_limit_per_minute = 60;
    assert_eq!(
        plan_demands(Plan::Free, &source)[0].limits.per_minute,
        60,
        "no accounts: the data source's limit, whatever the plan"
    );
}

/// The limiter's answers bookkeeping across processes, on the in-memory store.
#[cfg(feature = "test-util")]
mod reports {
    use super::super::*;
    use crate::clock::{ManualClock, test_epoch as t0};
    use crate::limiter::store::MemoryLimits;

    /// Ten a slice, so a test's grants are not spread over time.
    fn plan() -> Vec<Demand> {
        vec![Demand::per_minute("plan", 600)]
    }

    fn two_processes() -> (Arc<MemoryLimits>, Arc<ManualClock>, Limiter, Limiter) {
        let store = Arc::new(MemoryLimits::default());
        let clock = Arc::new(ManualClock::new(t0()));
        let a = Limiter::new(store.clone(), clock.clone());
        let b = Limiter::new(store.clone(), clock.clone());
        (store, clock, a, b)
    }

    #[tokio::test]
    async fn slow_start_waits_for_answers_which_ride_on_the_next_acquire() {
        let (store, clock, a, b) = two_processes();
        let scope = Scope("jquants-v2#u".into());
        assert_eq!(
            a.acquire(&scope, &plan(), 10).await.unwrap(),
            Decision::Granted(5)
        );
        clock.advance(TimeDelta::seconds(1));
        assert!(matches!(
            b.acquire(&scope, &plan(), 10).await.unwrap(),
            Decision::Wait {
                reason: WaitReason::SlowStart,
                ..
            }
        ));
        let (_, before) = store.load_scope(scope.as_str()).await.unwrap();
        for _ in 0..5 {
            a.answered(&scope).await.unwrap();
        }
        let (_, after) = store.load_scope(scope.as_str()).await.unwrap();
        assert_eq!(before, after, "answers wait for the next acquire");
        assert_eq!(
            a.acquire(&scope, &plan(), 10).await.unwrap(),
            Decision::Granted(4),
            "five confirmed: four more may be out"
        );
        for _ in 0..4 {
            a.answered(&scope).await.unwrap();
        }
        a.flush().await.unwrap();
        let (state, _) = store.load_scope(scope.as_str()).await.unwrap();
        assert_eq!(
            state.adaptive.confirmed.len(),
            9,
            "flushed at the batch's end"
        );
    }

    #[tokio::test]
    async fn after_a_429_one_process_probes_and_its_answer_frees_the_others_at_once() {
        let (store, clock, a, b) = two_processes();
        let scope = Scope("jquants-v2#u".into());
        let warm = ScopeState::warm(t0());
        store.save_scope(scope.as_str(), &warm, 0).await.unwrap();
        assert_eq!(
            a.acquire(&scope, &plan(), 3).await.unwrap(),
            Decision::Granted(3)
        );
        let until = a.throttled(&scope, &plan(), None).await.unwrap();
        assert_eq!(a.paused_until(&scope), Some(until), "its own 429");
        assert_eq!(b.paused_until(&scope), None, "not read yet");
        assert!(matches!(
            b.acquire(&scope, &plan(), 1).await.unwrap(),
            Decision::Wait {
                reason: WaitReason::CoolingDown,
                ..
            }
        ));
        assert_eq!(b.paused_until(&scope), Some(until), "read with its refusal");
        clock.set(until);
        assert_eq!(a.paused_until(&scope), None, "over");
        assert_eq!(
            b.acquire(&scope, &plan(), 5).await.unwrap(),
            Decision::Granted(1)
        );
        assert!(matches!(
            a.acquire(&scope, &plan(), 5).await.unwrap(),
            Decision::Wait {
                reason: WaitReason::Probing,
                ..
            }
        ));
        b.answered(&scope).await.unwrap();
        assert!(
            matches!(
                a.acquire(&scope, &plan(), 5).await.unwrap(),
                Decision::Granted(_)
            ),
            "the probe's answer was written at once"
        );
        let status = a.status(&scope, &plan()).await.unwrap();
        assert_eq!(status.effective_per_minute, 300, "halved");
        assert_eq!(status.throttled_total, 1);
        assert!(status.warning.is_some());
    }

    #[tokio::test]
    async fn at_the_configured_limit_answers_cost_nothing() {
        let (store, _clock, a, _) = two_processes();
        let scope = Scope("jquants-v2#u".into());
        let warm = ScopeState::warm(t0());
        store.save_scope(scope.as_str(), &warm, 0).await.unwrap();
        assert_eq!(
            a.acquire(&scope, &plan(), 3).await.unwrap(),
            Decision::Granted(3)
        );
        let (_, version) = store.load_scope(scope.as_str()).await.unwrap();
        for _ in 0..3 {
            a.answered(&scope).await.unwrap();
        }
        a.flush().await.unwrap();
        assert_eq!(store.load_scope(scope.as_str()).await.unwrap().1, version);
    }
}
