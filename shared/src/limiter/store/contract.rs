//! Contract suites of the limiter's storage port: versioned writes, and the limiter under
//! contention from many tasks, so no permit is ever spent twice.

use std::sync::Arc;

use crate::clock::{Clock, ManualClock, test_epoch as t0};
use crate::domain::{DataSource, UserId};
use crate::limiter::{
    Decision, Demand, Limiter, LimiterStore, Limits, Scope, ScopeState, WaitReason,
};

/// Versioned writes: a write based on a stale read loses, so no permit is spent twice.
pub async fn limiter_store(store: &dyn LimiterStore) {
    let scope = format!("jquants-v2#{}", UserId::new());
    let (empty, v0) = store.load_scope(&scope).await.unwrap();
    assert_eq!((empty, v0), (ScopeState::default(), 0));
    let mut state = ScopeState::default();
    let plan = [Demand {
        bucket: "plan".into(),
        limits: Limits {
            per_minute: 120,
            per_hour: Some(100),
            per_day: Some(1000),
        },
        shared: false,
    }];
    assert_eq!(state.decide(&plan, t0(), 2), Decision::Granted(2));
    assert!(store.save_scope(&scope, &state, 0).await.unwrap());
    assert!(
        !store.save_scope(&scope, &state, 0).await.unwrap(),
        "a second first write loses"
    );
    let (read, v1) = store.load_scope(&scope).await.unwrap();
    assert_eq!((&read, v1), (&state, 1));
    state.throttled(&plan, t0(), None);
    assert!(store.save_scope(&scope, &state, 1).await.unwrap());
    assert!(
        !store.save_scope(&scope, &read, 1).await.unwrap(),
        "a write based on a stale read loses"
    );
    assert_eq!(store.load_scope(&scope).await.unwrap(), (state, 2));
}

/// Many processes, many tasks each, one account: exactly the slice's share is granted, never
/// more.
pub async fn limiter_under_contention(store: Arc<dyn LimiterStore>) {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(t0()));
    let source = DataSource::jquants_v2("http://127.0.0.1:9");
    let scope = Scope::for_request(&source, UserId::new());
    // 37 a slice (a thirtieth of the minute).
    let plan = [Demand::per_minute("plan", 37 * 30)];
    // A scope with recent history: no slow start.
    assert!(
        store
            .save_scope(scope.as_str(), &ScopeState::warm(t0()), 0)
            .await
            .unwrap()
    );
    let processes: Vec<_> = (0..6)
        .map(|_| Arc::new(Limiter::new(store.clone(), clock.clone())))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for p in &processes {
        for _ in 0..10 {
            let (p, scope, plan) = (p.clone(), scope.clone(), plan.clone());
            tasks.spawn(async move {
                let mut granted = 0;
                // Retry through lost races until refused for the minute.
                loop {
                    match p.acquire(&scope, &plan, 1).await.unwrap() {
                        Decision::Granted(k) => granted += k,
                        Decision::Wait {
                            reason: WaitReason::Contention,
                            ..
                        } => {}
                        Decision::Wait { reason, .. } => {
                            assert_eq!(reason, WaitReason::Spread);
                            return granted;
                        }
                    }
                }
            });
        }
    }
    let mut total = 0;
    while let Some(r) = tasks.join_next().await {
        total += r.unwrap();
    }
    assert_eq!(total, 37, "every permit granted exactly once");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limiter::store::MemoryLimits;

    #[tokio::test]
    async fn the_memory_fake_keeps_the_contracts() {
        limiter_store(&MemoryLimits::default()).await;
        limiter_under_contention(Arc::new(MemoryLimits::default())).await;
    }
}
