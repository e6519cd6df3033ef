//! The distributed rate limiter: every request a fetcher sends to a provider takes a permit
//! first, from state shared by all fetchers in the [`LimiterStore`], so together they stay
//! inside each limit that applies while using the whole budget.
//!
//! - [`budget`]: the decision, a pure function of the stored state and the time.
//! - [`adaptive`]: the limit the provider really allows, learned from its answers (slow start,
//!   AIMD, one probe after a 429, lockout escalation); the configured limit is an upper bound.
//! - [`Limiter`]: reads the state, decides, and writes it back with a version check; a lost
//!   race re-reads. Tasks of one process queue on a local lock first, so DynamoDB sees one
//!   contender per process rather than one per task. Answers are reported only while the
//!   scope learns (slow start, a probe out), and then ride on the process's next acquire
//!   (a probe's at once), so a scope at its configured limit costs no extra write.
//!
//! Scopes: a J-Quants account (one user's credential for one data source) carries the plan's
//! limit capped by the data source's limits, plus the endpoint's own cap where the catalog
//! sets one; a provider without accounts (Yahoo) is limited per deployment.

pub mod adaptive;
pub mod budget;
pub mod fair;
pub mod store;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Mutex;

pub use adaptive::RateStatus;
pub use budget::{Decision, Demand, Limits, ScopeState, WaitReason};
pub use fair::Ask;
pub use store::LimiterStore;

use crate::catalog::{Endpoint, RateBucket};
use crate::clock::Clock;
use crate::domain::{DataSource, JobGroupId, Plan, ProviderType, UserId};
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

    /// Who shares the scope of `source` fairly ([`fair`]): the users of a deployment-wide
    /// budget, the groups (one-off or scheduled) of an account.
    pub fn tenant(source: &DataSource, user: UserId, group: JobGroupId) -> String {
        match source.provider_type {
            ProviderType::Jquants => group.to_string(),
            _ => user.to_string(),
        }
    }
}

/// The plan's bucket alone: what the scope's own limit is, whatever the endpoint (the rate users
/// see beside a credential or a job group). A provider without accounts (Yahoo) ignores `plan`
/// and takes the data source's limit.
pub fn plan_demands(plan: Plan, source: &DataSource) -> Vec<Demand> {
    let per_minute = match source.provider_type {
        ProviderType::Jquants => plan.requests_per_minute().min(source.rate_limit_per_minute),
        _ => source.rate_limit_per_minute,
    };
    vec![source_bucket("plan", per_minute, source)]
}

/// Bucket `bucket` at `per_minute`, under the data source's hour and day quotas.
fn source_bucket(bucket: &str, per_minute: u32, source: &DataSource) -> Demand {
    Demand {
        shared: source.provider_type != ProviderType::Jquants,
        bucket: bucket.into(),
        limits: Limits {
            per_minute,
            per_hour: Some(source.rate_limit_per_hour),
            per_day: Some(source.rate_limit_per_day),
        },
    }
}

/// The buckets one request to `endpoint` counts against.
pub fn demands(plan: Plan, source: &DataSource, endpoint: &Endpoint) -> Vec<Demand> {
    let mut out = match endpoint.bucket {
        RateBucket::Plan => plan_demands(plan, source),
        // The add-on's own bucket, not the plan's (still under the data source's cap).
        RateBucket::AddOn => vec![source_bucket(
            "add-on",
            ADD_ON_PER_MINUTE.min(source.rate_limit_per_minute),
            source,
        )],
    };
    if let Some(cap) = endpoint.rate_limit_per_minute {
        out.push(Demand::per_minute(endpoint.id, cap));
    }
    out
}

/// What [`Limiter::acquire_within`] took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// Permits taken, at most the number asked for (possibly none).
    pub granted: u32,
    /// When the rest may be asked for; `None`: all were granted.
    pub next: Option<DateTime<Utc>>,
    /// Which limit held the rest back.
    pub reason: Option<WaitReason>,
}

/// A refusal: until when, and why.
#[derive(Debug, Clone, Copy)]
struct Wait {
    until: DateTime<Utc>,
    reason: WaitReason,
}

/// Takes permits from the shared state.
#[derive(Debug)]
pub struct Limiter {
    store: Arc<dyn LimiterStore>,
    clock: Arc<dyn Clock>,
    local: Mutex<HashMap<Scope, Arc<Mutex<()>>>>,
    reports: std::sync::Mutex<HashMap<Scope, Reports>>,
}

/// What this process owes a scope's shared state in answers, and what it last saw of it.
#[derive(Debug, Default, Clone, Copy)]
struct Reports {
    /// The scope's pause after a 429, as this process last read or wrote it.
    paused_until: Option<DateTime<Utc>>,
    /// The scope asked for answers when this process last wrote it.
    wanted: bool,
    /// This process holds the scope's probe: its answer goes out at once.
    probing: bool,
    /// Answers not yet written.
    pending: u32,
}

impl Limiter {
    /// A limiter over `store`.
    pub fn new(store: Arc<dyn LimiterStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            local: Mutex::default(),
            reports: std::sync::Mutex::default(),
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

    fn reports(&self) -> std::sync::MutexGuard<'_, HashMap<Scope, Reports>> {
        self.reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take_pending(&self, scope: &Scope) -> u32 {
        self.reports()
            .get_mut(scope)
            .map_or(0, |r| std::mem::take(&mut r.pending))
    }

    fn put_back(&self, scope: &Scope, pending: u32) {
        if pending > 0 {
            self.reports().entry(scope.clone()).or_default().pending += pending;
        }
    }

    /// Remembers what the scope's state, as this process last read or wrote it, asks of it.
    fn note(&self, scope: &Scope, state: &ScopeState) {
        let mut reports = self.reports();
        let r = reports.entry(scope.clone()).or_default();
        r.paused_until = state
            .cool_down_until
            .and_then(DateTime::from_timestamp_millis);
        r.wanted = state.wants_reports();
        r.probing = r.probing && r.wanted;
    }

    /// Reads the scope's state, applies the answers this process owes it, lets `change` decide
    /// (its result, and whether the state must be written), and writes it back under its
    /// version, reading again after a lost race. Returns `change`'s last result and the state
    /// now in force, or `None` when every race was lost (the answers are kept for later).
    /// The caller holds the scope's local lock.
    async fn update<T>(
        &self,
        scope: &Scope,
        mut change: impl FnMut(&mut ScopeState, DateTime<Utc>) -> (T, bool),
    ) -> Result<(T, Option<ScopeState>), StoreError> {
        let answered = self.take_pending(scope);
        let mut last = None;
        for _ in 0..MAX_RACES {
            let written = async {
                let (mut state, version) = self.store.load_scope(scope.as_str()).await?;
                let now = self.clock.now();
                state.answered(answered, now);
                let (out, write) = change(&mut state, now);
                let settled = !(write || answered > 0)
                    || self
                        .store
                        .save_scope(scope.as_str(), &state, version)
                        .await?;
                Ok::<_, StoreError>((out, settled.then_some(state)))
            }
            .await;
            match written {
                Ok((out, Some(state))) => {
                    self.note(scope, &state);
                    return Ok((out, Some(state)));
                }
                Ok((out, None)) => last = Some(out),
                Err(e) => {
                    self.put_back(scope, answered);
                    return Err(e);
                }
            }
        }
        self.put_back(scope, answered);
        Ok((last.expect("MAX_RACES is at least one"), None))
    }

    /// Takes up to `want` permits of every bucket in `demands`, or says until when to wait.
    pub async fn acquire(
        &self,
        scope: &Scope,
        demands: &[Demand],
        want: u32,
    ) -> Result<Decision, StoreError> {
        Ok(self.take(scope, None, demands, want).await?.0)
    }

    /// [`Limiter::acquire`], and for a grant of fewer than `want`, the wait for the rest
    /// (decided on a copy of the new state that is never written: nothing more is taken).
    async fn take(
        &self,
        scope: &Scope,
        ask: Option<Ask<'_>>,
        demands: &[Demand],
        want: u32,
    ) -> Result<(Decision, Option<Wait>), StoreError> {
        let lock = self.local_lock(scope).await;
        let _turn = lock.lock().await;
        let ((decision, rest), settled) = self
            .update(scope, |state, now| {
                let (decision, news) = state.decide_for(ask, demands, now, want);
                let rest = match decision {
                    Decision::Granted(n) if n < want => {
                        match state.clone().decide_for(ask, demands, now, 1).0 {
                            Decision::Wait { until, reason } => Some(Wait { until, reason }),
                            Decision::Granted(_) => None,
                        }
                    }
                    _ => None,
                };
                (
                    (decision, rest),
                    news || matches!(decision, Decision::Granted(_)),
                )
            })
            .await?;
        let Some(state) = settled else {
            return Ok((
                Decision::Wait {
                    until: self.clock.now() + TimeDelta::seconds(1),
                    reason: WaitReason::Contention,
                },
                None,
            ));
        };
        // The grant was the scope's probe: its answer is written at once.
        let probe = state.adaptive.probe.and_then(|p| p.sent_at);
        if matches!(decision, Decision::Granted(_))
            && probe.is_some()
            && probe == state.adaptive.active_at
        {
            self.reports().entry(scope.clone()).or_default().probing = true;
        }
        Ok((decision, rest))
    }

    /// Like [`Limiter::acquire`], but a refusal for the current slice's share
    /// ([`WaitReason::Spread`], a fraction of a second) is waited out in process, for up to
    /// `patience` in all, gathering up to `want` permits: deferring through the queue for a
    /// wait that short would cost more calls than the wait. Says how many were taken and,
    /// if fewer than `want`, when to ask for the rest. `ask`'s tenant (a user of a shared
    /// deployment budget, a group of an account) gets its fair share when others wait too.
    pub async fn acquire_within(
        &self,
        scope: &Scope,
        ask: Ask<'_>,
        demands: &[Demand],
        want: u32,
        patience: Duration,
    ) -> Result<Taken, StoreError> {
        let started = tokio::time::Instant::now();
        let mut granted = 0;
        loop {
            let (decision, rest) = self.take(scope, Some(ask), demands, want - granted).await?;
            let wait = match decision {
                Decision::Granted(n) => {
                    granted += n;
                    match rest {
                        None => {
                            // All granted, or a race freed more: ask again for what is missing.
                            if granted >= want {
                                return Ok(Taken {
                                    granted,
                                    next: None,
                                    reason: None,
                                });
                            }
                            continue;
                        }
                        Some(wait) => wait,
                    }
                }
                Decision::Wait { until, reason } => Wait { until, reason },
            };
            let pause = (wait.until - self.clock.now()).to_std().unwrap_or_default();
            if wait.reason != WaitReason::Spread || started.elapsed() + pause > patience {
                return Ok(Taken {
                    granted,
                    next: Some(wait.until),
                    reason: Some(wait.reason),
                });
            }
            tokio::time::sleep(pause.max(Duration::from_millis(1))).await;
        }
    }

    /// The scope's pause after a 429 if one is in force as far as this process knows (its
    /// own 429s and every state it read): a permit taken before the pause is better left
    /// unused than spent on another 429.
    pub fn paused_until(&self, scope: &Scope) -> Option<DateTime<Utc>> {
        let now = self.clock.now();
        self.reports()
            .get(scope)
            .and_then(|r| r.paused_until)
            .filter(|&until| until > now)
    }

    /// A request granted for `scope` got an answer other than 429. Written with the process's
    /// next acquire (a probe's answer at once, so the scope goes on), and only while the scope
    /// learns.
    pub async fn answered(&self, scope: &Scope) -> Result<(), StoreError> {
        let probing = {
            let mut reports = self.reports();
            let Some(r) = reports.get_mut(scope).filter(|r| r.wanted) else {
                return Ok(());
            };
            r.pending += 1;
            r.probing
        };
        if probing {
            self.flush_scope(scope).await?;
        }
        Ok(())
    }

    /// Writes every answer still owed (at the end of a batch: this process may not acquire
    /// again soon, and other fetchers wait for slow start's confirmations).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let owed: Vec<Scope> = self
            .reports()
            .iter()
            .filter(|(_, r)| r.pending > 0)
            .map(|(s, _)| s.clone())
            .collect();
        for scope in owed {
            self.flush_scope(&scope).await?;
        }
        Ok(())
    }

    async fn flush_scope(&self, scope: &Scope) -> Result<(), StoreError> {
        let lock = self.local_lock(scope).await;
        let _turn = lock.lock().await;
        if self.reports().get(scope).is_none_or(|r| r.pending == 0) {
            return Ok(());
        }
        self.update(scope, |_, _| ((), true)).await?;
        Ok(())
    }

    /// The scope's rate as users see it, for requests of `demands` (read only).
    pub async fn status(
        &self,
        scope: &Scope,
        demands: &[Demand],
    ) -> Result<RateStatus, StoreError> {
        let (state, _) = self.store.load_scope(scope.as_str()).await?;
        Ok(state.status(demands, self.clock.now()))
    }

    /// The provider answered 429 to a request of `demands` for `scope`: pauses every fetcher
    /// of the scope and lowers its limit. Returns the end of the pause.
    pub async fn throttled(
        &self,
        scope: &Scope,
        demands: &[Demand],
        retry_after: Option<Duration>,
    ) -> Result<DateTime<Utc>, StoreError> {
        // A `Retry-After` too large for a date is as good as "much later": capped at a day.
        let retry_after = retry_after
            .map(|d| d.min(Duration::from_secs(86_400)))
            .and_then(|d| TimeDelta::from_std(d).ok());
        let lock = self.local_lock(scope).await;
        let _turn = lock.lock().await;
        let (until, _) = self
            .update(scope, |state, now| {
                (state.throttled(demands, now, retry_after), true)
            })
            .await?;
        // Even if every write lost a race, this fetcher pauses; the racers were writing too.
        Ok(until)
    }
}

#[cfg(test)]
mod tests;
