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

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::adaptive::{Adaptive, Gate, RateStatus};
use super::fair::{Ask, Tenants};

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

/// A fixed window's count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// The window's number (hours or days since the epoch).
    pub window: i64,
    /// Requests in it.
    pub count: u32,
}

/// One bucket's usage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketState {
    /// Grant instants (ms since the epoch) inside the minute window, oldest first.
    pub recent: VecDeque<i64>,
    /// This hour's count.
    pub hour: Counter,
    /// Today's count.
    pub day: Counter,
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

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl BucketState {
    fn prune(&mut self, now: i64) {
        let horizon = now - MINUTE_WINDOW.num_milliseconds();
        while self.recent.front().is_some_and(|&t| t <= horizon) {
            self.recent.pop_front();
        }
        for (counter, size) in [(&mut self.hour, HOUR_MS), (&mut self.day, DAY_MS)] {
            let window = now.div_euclid(size);
            if counter.window != window {
                *counter = Counter { window, count: 0 };
            }
        }
    }

    /// Permits available now, and if none, when the first frees and which limit holds it.
    fn available(
        &self,
        limits: &Limits,
        shared: bool,
        now: i64,
    ) -> (u32, Option<(i64, WaitReason)>) {
        let minute = limits.per_minute.max(1);
        let used = self.recent.len() as u32;
        let mut free = minute.saturating_sub(used);
        let mut wait = None;
        if free == 0 {
            // The permit that must leave the window before another fits.
            let oldest = self.recent[(used - minute) as usize];
            wait = Some((
                oldest + MINUTE_WINDOW.num_milliseconds(),
                WaitReason::Minute,
            ));
        } else {
            let per_slice = minute.div_ceil(30);
            let slice = now - SLICE_MS;
            let in_slice = self.recent.iter().rev().take_while(|&&t| t > slice).count() as u32;
            free = free.min(per_slice.saturating_sub(in_slice));
            if free == 0 {
                let oldest = self.recent[self.recent.len() - per_slice as usize];
                wait = Some((oldest + SLICE_MS, WaitReason::Spread));
            }
            if shared {
                let per_quarter = minute.div_ceil(4);
                let quarter = now - QUARTER_MS;
                let in_quarter = self
                    .recent
                    .iter()
                    .rev()
                    .take_while(|&&t| t > quarter)
                    .count() as u32;
                let left = per_quarter.saturating_sub(in_quarter);
                if left == 0 {
                    let oldest = self.recent[self.recent.len() - per_quarter as usize];
                    wait = Some((oldest + QUARTER_MS, WaitReason::Quarter));
                }
                free = free.min(left);
            }
        }
        for (counter, limit, size, reason) in [
            (self.hour, limits.per_hour, HOUR_MS, WaitReason::Hour),
            (self.day, limits.per_day, DAY_MS, WaitReason::Day),
        ] {
            let Some(limit) = limit else { continue };
            let left = limit.max(1).saturating_sub(counter.count);
            if left == 0 {
                let next = (now.div_euclid(size) + 1) * size;
                if wait.is_none_or(|(w, _)| next > w) {
                    wait = Some((next, reason));
                }
            }
            free = free.min(left);
        }
        (free, wait)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 9, 59, 0).unwrap()
    }

    fn plan(per_minute: u32) -> Vec<Demand> {
        vec![Demand::per_minute("plan", per_minute)]
    }

    fn warm() -> ScopeState {
        ScopeState::warm(t0())
    }

    fn ms(s: f64) -> TimeDelta {
        TimeDelta::milliseconds((s * 1000.0) as i64)
    }

    #[test]
    fn a_free_minute_goes_out_within_a_second_then_frees_permit_by_permit() {
        let mut s = warm();
        for k in 0..5 {
            let at = t0() + ms(f64::from(k) / 5.0);
            assert_eq!(
                s.decide(&plan(5), at, 3),
                Decision::Granted(1),
                "one a slice"
            );
        }
        assert_eq!(
            s.decide(&plan(5), t0() + ms(1.0), 1),
            Decision::Wait {
                until: t0() + MINUTE_WINDOW,
                reason: WaitReason::Minute
            }
        );
        assert_eq!(
            s.decide(&plan(5), t0() + MINUTE_WINDOW + ms(0.001), 9),
            Decision::Granted(1),
            "the first left the window"
        );
    }

    #[test]
    fn a_minute_goes_out_over_at_least_six_seconds() {
        let mut s = warm();
        s.adaptive.pace = crate::limiter::adaptive::Pace::Learned {
            limit: 120,
            since: t0().timestamp_millis(),
        };
        assert_eq!(
            s.decide(&plan(500), t0(), 9),
            Decision::Granted(4),
            "a thirtieth of the learned 120 every 200 ms"
        );
        assert_eq!(
            s.decide(&plan(500), t0() + ms(0.1), 1),
            Decision::Wait {
                until: t0() + ms(0.2),
                reason: WaitReason::Spread
            }
        );
        for k in 1..30 {
            let at = t0() + ms(f64::from(k) / 5.0);
            assert_eq!(s.decide(&plan(500), at, 9), Decision::Granted(4));
        }
        assert_eq!(
            s.decide(&plan(500), t0() + ms(6.0), 1),
            Decision::Wait {
                until: t0() + MINUTE_WINDOW,
                reason: WaitReason::Minute
            },
            "the learned 120 are out after six seconds"
        );
    }

    /// Simulated greedy clients asking at random instants: no provider-style 60 s window
    /// (arrival up to the guard after the grant) ever holds more than the limit, and the
    /// budget is used: over ten minutes, close to ten minutes' worth of permits.
    #[test]
    fn no_sixty_second_window_exceeds_the_limit_and_the_budget_is_used() {
        for limit in [1u32, 5, 60, 120, 500] {
            let mut s = warm();
            let mut rng = 0x2545_f491_4f6c_dd1d_u64;
            let mut next = || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            let mut arrivals = Vec::new();
            let mut now = t0();
            let end = t0() + TimeDelta::minutes(10);
            while now < end {
                let want = (next() % 10 + 1) as u32;
                match s.decide(&plan(limit), now, want) {
                    Decision::Granted(k) => {
                        for _ in 0..k {
                            let delay = (next() % 1000) as i64; // up to the guard
                            arrivals.push(now.timestamp_millis() + delay);
                        }
                        now += TimeDelta::milliseconds((next() % 50) as i64);
                    }
                    Decision::Wait { until, .. } => {
                        assert!(until > now);
                        now = until;
                    }
                }
            }
            arrivals.sort_unstable();
            let mut lo = 0;
            for hi in 0..arrivals.len() {
                while arrivals[hi] - arrivals[lo] >= 60_000 {
                    lo += 1;
                }
                assert!(
                    (hi - lo + 1) as u32 <= limit,
                    "limit {limit}: {} requests in 60 s",
                    hi - lo + 1
                );
            }
            let ideal = f64::from(limit) * 10.0;
            assert!(
                arrivals.len() as f64 >= ideal * 60.0 / 61.0 - f64::from(limit),
                "limit {limit}: only {} of {ideal} permits used",
                arrivals.len()
            );
        }
    }

    #[test]
    fn every_bucket_of_a_request_is_charged_or_none() {
        let fins = Demand::per_minute("fins-summary", 60);
        let mut both = plan(500);
        both.push(fins);
        let mut s = warm();
        assert_eq!(s.decide(&both, t0(), 5), Decision::Granted(2));
        assert!(matches!(s.decide(&both, t0(), 1), Decision::Wait { .. }));
        assert_eq!(
            s.buckets["plan"].recent.len(),
            2,
            "a refusal charges nothing"
        );
        assert_eq!(s.decide(&plan(500), t0(), 3), Decision::Granted(3));
    }

    #[test]
    fn hour_and_day_quotas_are_counted_per_utc_window() {
        let capped = vec![Demand {
            bucket: "plan".into(),
            limits: Limits {
                per_minute: 6000,
                per_hour: Some(4),
                per_day: Some(6),
            },
            shared: false,
        }];
        let mut s = warm();
        assert_eq!(s.decide(&capped, t0(), 10), Decision::Granted(4));
        let next_hour = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
        assert_eq!(
            s.decide(&capped, t0(), 1),
            Decision::Wait {
                until: next_hour,
                reason: WaitReason::Hour
            }
        );
        assert_eq!(s.decide(&capped, next_hour, 10), Decision::Granted(2));
        assert_eq!(
            s.decide(&capped, next_hour + ms(5.0), 1),
            Decision::Wait {
                until: Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap(),
                reason: WaitReason::Day
            }
        );
    }

    #[test]
    fn a_429_pauses_everyone_then_one_probe_and_repeated_429s_pause_for_a_lockout() {
        use crate::limiter::adaptive::LOCKOUT;
        let mut s = warm();
        assert_eq!(s.decide(&plan(600), t0(), 10), Decision::Granted(10));
        let until = s.throttled(&plan(600), t0(), Some(TimeDelta::seconds(7)));
        assert_eq!(
            until,
            t0() + TimeDelta::seconds(7),
            "Retry-After is honoured"
        );
        assert_eq!(
            s.decide(&plan(600), t0() + ms(1.0), 1),
            Decision::Wait {
                until,
                reason: WaitReason::CoolingDown
            }
        );
        assert_eq!(
            s.throttled(&plan(600), t0() + ms(0.5), None),
            until,
            "a 429 of a request sent before the pause is the same episode"
        );
        assert_eq!(s.adaptive.strikes, 1);
        assert_eq!(
            s.decide(&plan(600), until, 5),
            Decision::Granted(1),
            "one probe"
        );
        assert!(matches!(
            s.decide(&plan(600), until + ms(0.1), 5),
            Decision::Wait {
                reason: WaitReason::Probing,
                ..
            }
        ));
        let second = until + ms(0.2);
        assert_eq!(
            s.throttled(&plan(600), second, Some(TimeDelta::seconds(7))),
            second + COOL_DOWN,
            "a failed probe: a full window, whatever Retry-After says"
        );
        let probe = second + COOL_DOWN;
        assert_eq!(s.decide(&plan(600), probe, 1), Decision::Granted(1));
        let third = probe + ms(0.2);
        assert_eq!(
            s.throttled(&plan(600), third, Some(TimeDelta::seconds(7))),
            third + LOCKOUT,
            "three in a row without a success: a lockout"
        );
        let later = third + LOCKOUT;
        assert_eq!(s.decide(&plan(600), later, 1), Decision::Granted(1));
        s.answered(1, later + ms(0.3));
        assert_eq!(s.adaptive.strikes, 0, "a success ends the episode");
        assert!(s.adaptive.probe.is_none());
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut s = warm();
        s.decide(&plan(5), t0(), 2);
        s.throttled(&plan(5), t0(), None);
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ScopeState>(&text).unwrap(), s);
    }
}
