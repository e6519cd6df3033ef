//! The distributed rate limiter: every request a fetcher sends to a provider takes a permit
//! first, from state shared by all fetchers in the [`LimiterStore`], so together they stay
//! inside each limit that applies while using the whole budget.
//!
//! - [`budget`]: the decision, a pure function of the stored state and the time.
//! - [`Limiter`]: reads the state, decides, and writes it back with a version check; a lost
//!   race re-reads. Tasks of one process queue on a local lock first, so DynamoDB sees one
//!   contender per process rather than one per task.
//!
//! Scopes: a J-Quants account (one user's credential for one data source) carries the plan's
//! limit capped by the data source's limits, plus the endpoint's own cap where the catalog
//! sets one; a provider without accounts (Yahoo) is limited per deployment.

pub mod budget;
pub mod store;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Mutex;

pub use budget::{Decision, Demand, Limits, ScopeState, WaitReason};
pub use store::LimiterStore;

use crate::catalog::{Endpoint, RateBucket};
use crate::clock::Clock;
use crate::domain::{DataSource, Plan, ProviderType, UserId};
use crate::store::StoreError;

/// The J-Quants add-on (minute bars) bucket, on every plan (jquants-api.md §4.1).
pub const ADD_ON_PER_MINUTE: u32 = 60;

/// Lost races tolerated before answering "wait a moment".
const MAX_RACES: u32 = 8;

/// Whose budget a request spends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope(String);

impl Scope {
    /// The scope of requests to `source` on behalf of `user`.
    pub fn for_request(source: &DataSource, user: UserId) -> Self {
        match source.provider_type {
            ProviderType::Jquants => Self(format!("{}#{user}", source.id)),
            _ => Self(source.id.to_string()),
        }
    }

    /// The stored key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The buckets one request to `endpoint` counts against.
pub fn demands(plan: Plan, source: &DataSource, endpoint: &Endpoint) -> Vec<Demand> {
    let per_minute = match source.provider_type {
        ProviderType::Jquants => plan.requests_per_minute().min(source.rate_limit_per_minute),
        _ => source.rate_limit_per_minute,
    };
    let (bucket, per_minute) = match endpoint.bucket {
        RateBucket::Plan => ("plan", per_minute),
        // The add-on's own bucket, not the plan's (still under the data source's cap).
        RateBucket::AddOn => (
            "add-on",
            ADD_ON_PER_MINUTE.min(source.rate_limit_per_minute),
        ),
    };
    let mut out = vec![Demand {
        bucket: bucket.into(),
        limits: Limits {
            per_minute,
            per_hour: Some(source.rate_limit_per_hour),
            per_day: Some(source.rate_limit_per_day),
        },
    }];
    if let Some(cap) = endpoint.rate_limit_per_minute {
        out.push(Demand {
            bucket: endpoint.id.into(),
            limits: Limits {
                per_minute: cap,
                per_hour: None,
                per_day: None,
            },
        });
    }
    out
}

/// Takes permits from the shared state.
#[derive(Debug)]
pub struct Limiter {
    store: Arc<dyn LimiterStore>,
    clock: Arc<dyn Clock>,
    local: Mutex<HashMap<Scope, Arc<Mutex<()>>>>,
}

impl Limiter {
    /// A limiter over `store`.
    pub fn new(store: Arc<dyn LimiterStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            local: Mutex::default(),
        }
    }

    async fn local_lock(&self, scope: &Scope) -> Arc<Mutex<()>> {
        self.local
            .lock()
            .await
            .entry(scope.clone())
            .or_default()
            .clone()
    }

    /// Takes up to `want` permits of every bucket in `demands`, or says until when to wait.
    pub async fn acquire(
        &self,
        scope: &Scope,
        demands: &[Demand],
        want: u32,
    ) -> Result<Decision, StoreError> {
        let lock = self.local_lock(scope).await;
        let _turn = lock.lock().await;
        for _ in 0..MAX_RACES {
            let (mut state, version) = self.store.load_scope(scope.as_str()).await?;
            let decision = state.decide(demands, self.clock.now(), want);
            if let Decision::Wait { .. } = decision {
                return Ok(decision);
            }
            if self
                .store
                .save_scope(scope.as_str(), &state, version)
                .await?
            {
                return Ok(decision);
            }
        }
        Ok(Decision::Wait {
            until: self.clock.now() + TimeDelta::seconds(1),
            reason: WaitReason::Contention,
        })
    }

    /// When the next permit of `demands` frees, without taking it: now if one is free.
    pub async fn next_free(
        &self,
        scope: &Scope,
        demands: &[Demand],
    ) -> Result<DateTime<Utc>, StoreError> {
        let (mut state, _) = self.store.load_scope(scope.as_str()).await?;
        let now = self.clock.now();
        // Decided on a copy that is never written back: nothing is taken.
        Ok(match state.decide(demands, now, 1) {
            Decision::Granted(_) => now,
            Decision::Wait { until, .. } => until,
        })
    }

    /// The provider answered 429 for `scope`: pauses every fetcher of the scope. Returns the
    /// end of the pause.
    pub async fn throttled(
        &self,
        scope: &Scope,
        retry_after: Option<Duration>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let retry_after = retry_after.and_then(|d| TimeDelta::from_std(d).ok());
        let lock = self.local_lock(scope).await;
        let _turn = lock.lock().await;
        let mut until = self.clock.now();
        for _ in 0..MAX_RACES {
            let (mut state, version) = self.store.load_scope(scope.as_str()).await?;
            until = state.throttled(self.clock.now(), retry_after);
            if self
                .store
                .save_scope(scope.as_str(), &state, version)
                .await?
            {
                break;
            }
        }
        // Even if every write lost a race, this fetcher pauses; the racers were writing too.
        Ok(until)
    }
}

#[cfg(test)]
mod tests {
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
}
