//! The rate-limit decision as a pure function of stored state and the time: which permits a
//! scope may use now, or until when it must wait.
//!
//! The minute limit is a sliding log: the instants of the permits granted in the last
//! [`MINUTE_WINDOW`]. A permit is granted only while fewer than the limit lie in that window, so
//! no 60 s window as the provider counts it (by arrival, a little after our grant) holds more
//! than the limit, and a full budget is usable the moment it frees (a token bucket would have to
//! trade burst for safety, which costs a 5/min plan a fifth of its rate). The window is
//! two seconds longer than the provider's to absorb the delay between a grant and the request's
//! arrival. Hour and day limits (the data source's own quotas) are fixed UTC windows, counted.

mod bucket;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::adaptive::{Adaptive, Gate, RateStatus};
use super::fair::{Ask, Tenants};

pub use bucket::{BucketState, Counter};

/// The provider's 60 s plus a guard for the time between our grant and the request's arrival:
/// two seconds, since a batch takes its permits before the transaction that starts its jobs
/// (measured on the emulator, whose transactions slow with the table: a Light run's first and
/// sixty-first requests 60 s apart at the provider, one 429, with a one-second guard).
pub const MINUTE_WINDOW: TimeDelta = TimeDelta::seconds(62);
/// No slice of this many milliseconds holds more than a thirtieth of the minute's limit
/// (rounded up): a minute's budget goes out over at least six seconds rather than in one
/// instant, so when the provider's real limit turns out lower than ours (a key on a smaller
/// plan, or one whose limit just dropped), few requests are in flight when its first 429 comes
/// back. A Premium plan's 17 a slice still covers a whole batch; callers wait the slice out in
/// process (`Limiter::acquire_within`) instead of deferring.
pub const SLICE_MS: i64 = 200;
/// How long a second 429 in a row pauses the scope: the provider's window empties.
pub const COOL_DOWN: TimeDelta = TimeDelta::seconds(61);

/// The limits one bucket enforces. Every limit is at least one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests in any sliding minute.
    pub per_minute: u32,
    /// Requests per UTC clock hour.
    pub per_hour: Option<u32>,
    /// Requests per UTC day.
    pub per_day: Option<u32>,
}

/// One bucket a request counts against, e.g. the account's plan, or an endpoint's own cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demand {
    /// The bucket's name within the scope.
    pub bucket: String,
    /// Its limits.
    pub limits: Limits,
    /// A budget many users share (a provider without accounts): no [`QUARTER_MS`] holds more
    /// than a quarter of the minute's limit, so whoever comes finds part of it freeing within
    /// a quarter minute, never a whole minute spent in one burst just before.
    pub shared: bool,
}

/// The span of which a shared budget's minute holds at most a quarter ([`Demand::shared`]).
pub const QUARTER_MS: i64 = 15_000;

impl Demand {
    /// A bucket with a minute limit only (an endpoint's own cap).
    pub fn per_minute(bucket: impl Into<String>, per_minute: u32) -> Self {
        Self {
            bucket: bucket.into(),
            limits: Limits {
                per_minute,
                per_hour: None,
                per_day: None,
            },
            shared: false,
        }
    }
}

/// Why permits are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// The provider answered 429: everyone pauses.
    CoolingDown,
    /// The minute budget is used up.
    Minute,
    /// This slice's share of the minute is used up: the next is a fraction of a second away.
    Spread,
    /// The hour quota is used up.
    Hour,
    /// The day quota is used up.
    Day,
    /// Too many fetchers raced for the same state: try again shortly.
    Contention,
    /// Slow start: waiting for the provider to confirm the requests already sent.
    SlowStart,
    /// After a 429: another fetcher's probe is out.
    Probing,
    /// Other tenants of the scope wait under their fair share ([`super::fair`]).
    FairShare,
    /// A shared budget's quarter minute holds its quarter of the limit ([`Demand::shared`]).
    Quarter,
}

/// The answer to a request for permits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// This many permits (at least one, at most the number asked for) were taken.
    Granted(u32),
    /// None now; the first may be granted at `until`.
    Wait {
        /// The earliest instant worth asking again.
        until: DateTime<Utc>,
        /// Which limit refused.
        reason: WaitReason,
    },
}

/// Everything stored for one scope (one provider account, or one deployment-wide provider).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeState {
    /// Usage per bucket.
    #[serde(default)]
    pub buckets: BTreeMap<String, BucketState>,
    /// While set and in the future, nothing is granted.
    #[serde(default)]
    pub cool_down_until: Option<i64>,
    /// The limit learned from the provider's answers.
    #[serde(default)]
    pub adaptive: Adaptive,
    /// Who shares the budget, for fair shares.
    #[serde(default, skip_serializing_if = "Tenants::is_empty")]
    pub tenants: Tenants,
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl ScopeState {
    /// Takes up to `want` (at least one) permits from every bucket of `demands` at once, or none.
    pub fn decide(&mut self, demands: &[Demand], now: DateTime<Utc>, want: u32) -> Decision {
        self.decide_for(None, demands, now, want).0
    }

    /// [`ScopeState::decide`] on behalf of `ask`'s tenant, within its fair share of the scope
    /// ([`super::fair`]) when others want the budget too; and whether a refusal changed what
    /// must be stored (the tenant now waits for its share).
    pub fn decide_for(
        &mut self,
        ask: Option<Ask<'_>>,
        demands: &[Demand],
        now: DateTime<Utc>,
        want: u32,
    ) -> (Decision, bool) {
        let now_ms = now.timestamp_millis();
        if let Some(until) = self.cool_down_until {
            if until > now_ms {
                return (
                    Decision::Wait {
                        until: at(until),
                        reason: WaitReason::CoolingDown,
                    },
                    false,
                );
            }
            self.cool_down_until = None;
        }
        for b in self.buckets.values_mut() {
            b.prune(now_ms);
        }
        // Buckets no request names any more would otherwise be carried forever.
        self.buckets
            .retain(|_, b| !b.recent.is_empty() || b.hour.count > 0 || b.day.count > 0);
        let bound = Self::bound(demands);
        let used = self.used(demands);
        let gate = self.adaptive.gate(bound, used, now_ms);
        let (mut grant, cap) = match gate {
            Gate::Wait(until, reason) => {
                return (
                    Decision::Wait {
                        until: at(until),
                        reason,
                    },
                    false,
                );
            }
            Gate::Probe(cap) => (1, cap),
            Gate::Cap(cap) => (want.max(1), cap),
            Gate::Ahead(n) => (
                want.max(1)
                    .min(n.saturating_sub(used.saturating_sub(self.adaptive.refused.len() as u32))),
                None,
            ),
        };
        let mut wait: Option<(i64, WaitReason)> = None;
        let mut limit = u32::MAX;
        for d in demands {
            let bucket = self.buckets.entry(d.bucket.clone()).or_default();
            bucket.prune(now_ms);
            let mut limits = d.limits;
            if let Some(cap) = cap {
                limits.per_minute = limits.per_minute.min(cap);
            }
            limit = limit.min(limits.per_minute);
            let (free, w) = bucket.available(&limits, d.shared, now_ms);
            grant = grant.min(free);
            if let Some((t, r)) = w
                && wait.is_none_or(|(old, _)| t > old)
            {
                wait = Some((t, r));
            }
        }
        let mut news = false;
        if let Some(ask) = ask {
            let (allowed, turn) = self.tenants.allowance(ask.tenant, limit, grant, now_ms);
            if let Some(turn) = turn {
                wait = Some((turn, WaitReason::FairShare));
            }
            grant = allowed;
            if grant == 0 {
                news = self.tenants.refused(ask, want.max(1), now_ms);
            } else {
                self.tenants.granted(ask, grant, want.max(1), now_ms);
            }
        }
        if grant == 0 {
            let (until, reason) = wait.unwrap_or((now_ms, WaitReason::Minute));
            return (
                Decision::Wait {
                    until: at(until),
                    reason,
                },
                news,
            );
        }
        for d in demands {
            let bucket = self.buckets.entry(d.bucket.clone()).or_default();
            bucket
                .recent
                .extend(std::iter::repeat_n(now_ms, grant as usize));
            bucket.hour.count += grant;
            bucket.day.count += grant;
        }
        self.adaptive.granted(gate, now_ms);
        (Decision::Granted(grant), false)
    }

    /// A scope with a grant at `at`: recent history, so no slow start (where tests begin).
    #[cfg(any(test, feature = "test-util"))]
    pub fn warm(at: DateTime<Utc>) -> Self {
        let mut state = Self::default();
        state.adaptive.active_at = Some(at.timestamp_millis());
        state
    }

    /// The tightest configured minute limit of `demands`.
    pub(crate) fn bound(demands: &[Demand]) -> u32 {
        demands
            .iter()
            .map(|d| d.limits.per_minute.max(1))
            .min()
            .unwrap_or(u32::MAX)
    }

    /// Requests in the minute window of the fullest bucket of `demands`.
    fn used(&self, demands: &[Demand]) -> u32 {
        demands
            .iter()
            .filter_map(|d| self.buckets.get(&d.bucket))
            .map(|b| b.recent.len() as u32)
            .max()
            .unwrap_or(0)
    }

    /// `n` granted requests were answered (not with a 429) by `now`.
    pub fn answered(&mut self, n: u32, now: DateTime<Utc>) {
        self.adaptive.answered(n, now.timestamp_millis());
    }

    /// Whether fetchers should report answers (see [`Adaptive::wants_reports`]).
    pub fn wants_reports(&self) -> bool {
        self.adaptive.wants_reports()
    }

    /// The scope's rate as users see it, for requests of `demands`.
    pub fn status(&self, demands: &[Demand], now: DateTime<Utc>) -> RateStatus {
        self.adaptive.status(
            Self::bound(demands),
            self.cool_down_until,
            now.timestamp_millis(),
        )
    }

    /// The provider answered 429 to a request of `demands`: pauses the whole scope and lowers
    /// its limit ([`super::adaptive`]). Returns the end of the pause.
    pub fn throttled(
        &mut self,
        demands: &[Demand],
        now: DateTime<Utc>,
        retry_after: Option<TimeDelta>,
    ) -> DateTime<Utc> {
        let now_ms = now.timestamp_millis();
        for b in self.buckets.values_mut() {
            b.prune(now_ms);
        }
        let until = self.adaptive.throttled(
            now_ms,
            Self::bound(demands),
            self.used(demands),
            retry_after,
            self.cool_down_until,
        );
        // A later pause already in place stays.
        let until = self.cool_down_until.map_or(until, |u| u.max(until));
        self.cool_down_until = Some(until);
        at(until)
    }
}
