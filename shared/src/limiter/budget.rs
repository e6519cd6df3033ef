//! The rate-limit decision as a pure function of stored state and the time: which permits a
//! scope may use now, or until when it must wait.
//!
//! The minute limit is a sliding log: the instants of the permits granted in the last
//! [`MINUTE_WINDOW`]. A permit is granted only while fewer than the limit lie in that window, so
//! no 60 s window as the provider counts it (by arrival, a little after our grant) holds more
//! than the limit, and a full budget is usable the moment it frees (a token bucket would have to
//! trade burst for safety, which costs a 5/min plan a fifth of its rate). The window is a
//! second longer than the provider's to absorb the delay between a grant and the request's
//! arrival. Hour and day limits (the data source's own quotas) are fixed UTC windows, counted.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// The provider's 60 s plus a guard for the time between our grant and the request's arrival.
pub const MINUTE_WINDOW: TimeDelta = TimeDelta::seconds(61);
/// How long a 429 without `Retry-After` pauses the scope: the provider's window empties.
pub const COOL_DOWN: TimeDelta = TimeDelta::seconds(61);
/// Repeated 429s within this span look like a lockout in the making...
pub const STRIKE_SPAN: TimeDelta = TimeDelta::minutes(5);
/// ...and from this many on, the pause is the provider's lockout length (about 5 minutes).
pub const STRIKES_FOR_LOCKOUT: usize = 3;
/// The pause once a lockout is likely.
pub const LOCKOUT: TimeDelta = TimeDelta::minutes(5);

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
}

/// Why permits are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// The provider answered 429: everyone pauses.
    CoolingDown,
    /// The minute budget is used up.
    Minute,
    /// The hour quota is used up.
    Hour,
    /// The day quota is used up.
    Day,
    /// Too many fetchers raced for the same state: try again shortly.
    Contention,
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
    /// The provider's recent 429s (ms), for lockout escalation.
    #[serde(default)]
    pub strikes: VecDeque<i64>,
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
    fn available(&self, limits: &Limits, now: i64) -> (u32, Option<(i64, WaitReason)>) {
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
        let now_ms = now.timestamp_millis();
        if let Some(until) = self.cool_down_until {
            if until > now_ms {
                return Decision::Wait {
                    until: at(until),
                    reason: WaitReason::CoolingDown,
                };
            }
            self.cool_down_until = None;
        }
        for b in self.buckets.values_mut() {
            b.prune(now_ms);
        }
        // Buckets no request names any more would otherwise be carried forever.
        self.buckets
            .retain(|_, b| !b.recent.is_empty() || b.hour.count > 0 || b.day.count > 0);
        let mut grant = want.max(1);
        let mut wait: Option<(i64, WaitReason)> = None;
        for d in demands {
            let bucket = self.buckets.entry(d.bucket.clone()).or_default();
            bucket.prune(now_ms);
            let (free, w) = bucket.available(&d.limits, now_ms);
            grant = grant.min(free);
            if let Some((t, r)) = w
                && wait.is_none_or(|(old, _)| t > old)
            {
                wait = Some((t, r));
            }
        }
        if grant == 0 {
            let (until, reason) = wait.unwrap_or((now_ms, WaitReason::Minute));
            return Decision::Wait {
                until: at(until),
                reason,
            };
        }
        for d in demands {
            let bucket = self.buckets.entry(d.bucket.clone()).or_default();
            bucket
                .recent
                .extend(std::iter::repeat_n(now_ms, grant as usize));
            bucket.hour.count += grant;
            bucket.day.count += grant;
        }
        Decision::Granted(grant)
    }

    /// The provider answered 429: pause the whole scope, for `retry_after` when the provider
    /// said so, else for a full window, or a lockout's length when 429s keep coming.
    pub fn throttled(
        &mut self,
        now: DateTime<Utc>,
        retry_after: Option<TimeDelta>,
    ) -> DateTime<Utc> {
        let now_ms = now.timestamp_millis();
        let span = STRIKE_SPAN.num_milliseconds();
        while self.strikes.front().is_some_and(|&t| t <= now_ms - span) {
            self.strikes.pop_front();
        }
        self.strikes.push_back(now_ms);
        // The provider's own word wins; without it, repeated 429s mean a lockout is near.
        let pause = match retry_after {
            Some(d) => d,
            None if self.strikes.len() >= STRIKES_FOR_LOCKOUT => LOCKOUT,
            None => COOL_DOWN,
        };
        let until = (now + pause).timestamp_millis();
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
        vec![Demand {
            bucket: "plan".into(),
            limits: Limits {
                per_minute,
                per_hour: None,
                per_day: None,
            },
        }]
    }

    fn ms(s: f64) -> TimeDelta {
        TimeDelta::milliseconds((s * 1000.0) as i64)
    }

    #[test]
    fn the_whole_minute_budget_is_usable_at_once_then_frees_permit_by_permit() {
        let mut s = ScopeState::default();
        assert_eq!(s.decide(&plan(5), t0(), 3), Decision::Granted(3));
        assert_eq!(s.decide(&plan(5), t0() + ms(1.0), 9), Decision::Granted(2));
        assert_eq!(
            s.decide(&plan(5), t0() + ms(2.0), 1),
            Decision::Wait {
                until: t0() + MINUTE_WINDOW,
                reason: WaitReason::Minute
            }
        );
        assert_eq!(
            s.decide(&plan(5), t0() + MINUTE_WINDOW + ms(0.001), 9),
            Decision::Granted(3),
            "the first three left the window"
        );
    }

    /// Simulated greedy clients asking at random instants: no provider-style 60 s window
    /// (arrival up to the guard after the grant) ever holds more than the limit, and the
    /// budget is used: over ten minutes, close to ten minutes' worth of permits.
    #[test]
    fn no_sixty_second_window_exceeds_the_limit_and_the_budget_is_used() {
        for limit in [1u32, 5, 60, 120, 500] {
            let mut s = ScopeState::default();
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
        let fins = Demand {
            bucket: "fins-summary".into(),
            limits: Limits {
                per_minute: 2,
                per_hour: None,
                per_day: None,
            },
        };
        let mut both = plan(500);
        both.push(fins);
        let mut s = ScopeState::default();
        assert_eq!(s.decide(&both, t0(), 5), Decision::Granted(2));
        assert!(matches!(
            s.decide(&both, t0(), 1),
            Decision::Wait {
                reason: WaitReason::Minute,
                ..
            }
        ));
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
                per_minute: 100,
                per_hour: Some(4),
                per_day: Some(6),
            },
        }];
        let mut s = ScopeState::default();
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
    fn a_429_pauses_everyone_and_repeated_429s_pause_for_a_lockout() {
        let mut s = ScopeState::default();
        let until = s.throttled(t0(), None);
        assert_eq!(until, t0() + COOL_DOWN);
        assert_eq!(
            s.decide(&plan(60), t0() + ms(1.0), 1),
            Decision::Wait {
                until,
                reason: WaitReason::CoolingDown
            }
        );
        assert_eq!(s.decide(&plan(60), until, 1), Decision::Granted(1));
        assert_eq!(
            s.throttled(until, Some(TimeDelta::seconds(7))),
            until + TimeDelta::seconds(7),
            "Retry-After is honoured"
        );
        let third = until + TimeDelta::seconds(8);
        assert_eq!(s.throttled(third, None), third + LOCKOUT);
        let much_later = third + TimeDelta::hours(1);
        assert_eq!(
            s.throttled(much_later, None),
            much_later + COOL_DOWN,
            "old strikes are forgotten"
        );
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut s = ScopeState::default();
        s.decide(&plan(5), t0(), 2);
        s.throttled(t0(), None);
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ScopeState>(&text).unwrap(), s);
    }
}
