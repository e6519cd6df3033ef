//! Per-key rate limits over a sliding 60-second window of the sandbox clock, and the lockout
//! that follows sustained abuse (reference §4.1).
//!
//! Buckets: every request counts against the plan's limit (or the key's own, when a test gave
//! it one: a key whose real limit is not its plan's, or changes mid-run), except minute bars,
//! which have the add-on's own 60/min bucket; `/fins/summary` and `/fins/details` also count
//! against their own 60/min bucket "regardless of plan". Only admitted requests use up a
//! window. The key is blocked for `lockout_secs` when, within 60 s, its attempts (admitted or
//! not) exceed `lockout_factor` times its limit, or its refusals exceed `lockout_after`. An
//! outside consumer of the key (the user's own scripts) takes places in the plan's window at
//! its own steady rate, as if it had been running for a minute when it is switched on.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::KeySettings;

const WINDOW_MS: i64 = 60_000;

/// The tunable limit behaviour (admin `POST /_sandbox/limits`, [`crate::Sandbox::set_limits`]).
/// Omitted JSON fields take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// `Retry-After` seconds on J-Quants rate-limit 429s; `None` (default) sends no header,
    /// since the reference could not confirm that J-Quants sends one. During a lockout the
    /// header, when enabled, carries the lockout's remaining seconds instead.
    pub retry_after_secs: Option<u64>,
    /// A key is locked out after more than this many rate-limit 429s within 60 s (default 10).
    pub lockout_after: u32,
    /// A key is locked out when its attempts within 60 s exceed this many times its limit
    /// (default 2, the threshold a J-Quants key is known to be locked at); `None`: never.
    pub lockout_factor: Option<u32>,
    /// How long a lockout lasts (default 300 s, the reference's "about 5 minutes").
    pub lockout_secs: u64,
    /// Yahoo requests allowed per sliding 60 s for the whole deployment; `None` = unlimited.
    /// Default 120.
    pub yahoo_per_minute: Option<u32>,
    /// Whether keys given in `SandboxConfig::keys` are rate limited (default `false`: other
    /// crates' tests send bursts with them). Read when the sandbox starts.
    pub rate_limit_config_keys: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            retry_after_secs: None,
            lockout_after: 10,
            lockout_factor: Some(2),
            lockout_secs: 300,
            yahoo_per_minute: Some(120),
            rate_limit_config_keys: false,
        }
    }
}

/// A window a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Bucket {
    Plan,
    FinsSummary,
    FinsDetails,
    Addon,
}

impl Bucket {
    fn for_path(path: &str) -> &'static [Self] {
        match path {
            "/fins/summary" => &[Self::Plan, Self::FinsSummary],
            "/fins/details" => &[Self::Plan, Self::FinsDetails],
            "/equities/bars/minute" => &[Self::Addon],
            _ => &[Self::Plan],
        }
    }

    fn limit(self, key: &KeySettings) -> usize {
        match self {
            Self::Plan => {
                key.limit_per_minute
                    .unwrap_or_else(|| key.plan.requests_per_minute()) as usize
            }
            Self::FinsSummary | Self::FinsDetails | Self::Addon => 60,
        }
    }
}

/// What to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Admit,
    /// Over a limit of `limit` per minute; the oldest counted request leaves the window in
    /// `retry_in_ms`.
    Limited {
        limit: u32,
        retry_in_ms: i64,
    },
    /// Locked out for another `remaining_ms`; `started`: by this request.
    Locked {
        remaining_ms: i64,
        started: bool,
    },
}

#[derive(Debug, Default)]
struct KeyWindows {
    admitted: HashMap<Bucket, VecDeque<i64>>,
    refusals: VecDeque<i64>,
    attempts: VecDeque<i64>,
    locked_until: i64,
    /// When the outside consumer sends next; `None`: not yet started.
    outside_next: Option<i64>,
    /// The outside consumer's requests admitted, and those that found the window full.
    outside_served: (u64, u64),
}

impl KeyWindows {
    /// The outside consumer's requests up to `now`, each admitted when the plan's window has
    /// room (it backs off politely otherwise, so its refusals count nowhere).
    fn outside(&mut self, key: &KeySettings, now: i64) {
        if key.outside_per_minute == 0 {
            self.outside_next = None;
            return;
        }
        let every = (WINDOW_MS / i64::from(key.outside_per_minute)).max(1);
        // A consumer that starts now has been sending for a minute already: the window holds
        // its share from the first request on.
        let mut next = self.outside_next.unwrap_or(now - WINDOW_MS + every);
        let limit = Bucket::Plan.limit(key);
        while next <= now {
            let times = self.admitted.entry(Bucket::Plan).or_default();
            prune(times, next);
            if times.len() < limit {
                times.push_back(next);
                self.attempts.push_back(next);
                self.outside_served.0 += 1;
            } else {
                self.outside_served.1 += 1;
            }
            next += every;
        }
        self.outside_next = Some(next);
    }
}

/// The live windows of every rate-limited key.
#[derive(Debug, Default)]
pub(crate) struct Limiter(Mutex<HashMap<String, KeyWindows>>);

fn prune(times: &mut VecDeque<i64>, now: i64) {
    while times.front().is_some_and(|t| *t <= now - WINDOW_MS) {
        times.pop_front();
    }
}

impl Limiter {
    pub(crate) fn check(
        &self,
        key: &str,
        settings: &KeySettings,
        path: &str,
        now: i64,
        limits: &Limits,
    ) -> Verdict {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let windows = keys.entry(key.to_owned()).or_default();
        windows.outside(settings, now);
        if now < windows.locked_until {
            return Verdict::Locked {
                remaining_ms: windows.locked_until - now,
                started: false,
            };
        }
        prune(&mut windows.attempts, now);
        windows.attempts.push_back(now);
        let buckets = Bucket::for_path(path);
        let full = buckets.iter().find_map(|bucket| {
            let times = windows.admitted.entry(*bucket).or_default();
            prune(times, now);
            let limit = bucket.limit(settings);
            (times.len() >= limit).then(|| (limit, times.front().copied().unwrap_or(now)))
        });
        let Some((limit, oldest)) = full else {
            for bucket in buckets {
                windows.admitted.entry(*bucket).or_default().push_back(now);
            }
            return Verdict::Admit;
        };
        prune(&mut windows.refusals, now);
        windows.refusals.push_back(now);
        let too_many_attempts = limits
            .lockout_factor
            .is_some_and(|f| windows.attempts.len() > limit.saturating_mul(f as usize));
        if too_many_attempts || windows.refusals.len() > limits.lockout_after as usize {
            let lockout_ms =
                i64::try_from(limits.lockout_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            windows.locked_until = now.saturating_add(lockout_ms);
            windows.refusals.clear();
            windows.attempts.clear();
            return Verdict::Locked {
                remaining_ms: lockout_ms,
                started: true,
            };
        }
        Verdict::Limited {
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            retry_in_ms: oldest + WINDOW_MS - now,
        }
    }
}

impl Limiter {
    /// The outside consumer of `key`: requests admitted, and refused because the window was
    /// full (taken by the key's other user).
    pub(crate) fn outside_served(&self, key: &str) -> (u64, u64) {
        let keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        keys.get(key).map_or((0, 0), |w| w.outside_served)
    }
}

/// A plain sliding-window counter (Yahoo's per-deployment limit).
#[derive(Debug, Default)]
pub(crate) struct Window(Mutex<VecDeque<i64>>);

impl Window {
    /// Counts the request if fewer than `limit` were counted in the last 60 s.
    pub(crate) fn admit(&self, now: i64, limit: u32) -> bool {
        let mut times = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        prune(&mut times, now);
        let admit = times.len() < limit as usize;
        if admit {
            times.push_back(now);
        }
        admit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Plan;

    fn key(plan: Plan) -> KeySettings {
        KeySettings::new(plan, true)
    }

    #[test]
    fn free_admits_five_a_minute_then_recovers() {
        let limiter = Limiter::default();
        let limits = Limits::default();
        let check = |at| limiter.check("k", &key(Plan::Free), "/equities/bars/daily", at, &limits);
        for i in 0..5 {
            assert_eq!(check(i * 1000), Verdict::Admit);
        }
        assert_eq!(
            check(10_000),
            Verdict::Limited {
                limit: 5,
                retry_in_ms: 50_000
            }
        );
        assert_eq!(check(60_001), Verdict::Admit);
    }

    #[test]
    fn fins_summary_has_its_own_sixty_and_minute_bars_skip_the_plan_bucket() {
        let limiter = Limiter::default();
        let limits = Limits::default();
        for i in 0..60 {
            let v = limiter.check("p", &key(Plan::Premium), "/fins/summary", i, &limits);
            assert_eq!(v, Verdict::Admit);
        }
        let v = limiter.check("p", &key(Plan::Premium), "/fins/summary", 100, &limits);
        assert!(matches!(v, Verdict::Limited { limit: 60, .. }));
        let v = limiter.check(
            "p",
            &key(Plan::Premium),
            "/equities/bars/daily",
            100,
            &limits,
        );
        assert_eq!(v, Verdict::Admit);
        for i in 0..5 {
            let v = limiter.check("f", &key(Plan::Free), "/equities/bars/minute", i, &limits);
            assert_eq!(v, Verdict::Admit);
        }
    }

    #[test]
    fn sustained_abuse_locks_the_key_out() {
        let limiter = Limiter::default();
        let limits = Limits {
            lockout_after: 2,
            lockout_secs: 300,
            ..Limits::default()
        };
        let check = |at| limiter.check("k", &key(Plan::Free), "/x", at, &limits);
        let verdicts: Vec<Verdict> = (0..8).map(check).collect();
        assert!(matches!(verdicts[5], Verdict::Limited { .. }));
        assert!(matches!(
            verdicts[7],
            Verdict::Locked {
                remaining_ms: 300_000,
                started: true
            }
        ));
        assert!(matches!(check(200_000), Verdict::Locked { .. }));
        assert_eq!(check(300_008), Verdict::Admit);
        let window = Window::default();
        assert!(window.admit(0, 1) && !window.admit(1, 1) && window.admit(60_001, 1));
    }
}

#[cfg(test)]
mod outside_and_attempts {
    use super::*;
    use crate::config::Plan;

    #[test]
    fn attempts_over_twice_the_limit_lock_the_key() {
        let limiter = Limiter::default();
        let limits = Limits::default();
        let free = KeySettings::new(Plan::Free, true);
        let verdicts: Vec<Verdict> = (0..11)
            .map(|i| limiter.check("k", &free, "/x", i, &limits))
            .collect();
        assert!(
            matches!(verdicts[9], Verdict::Limited { .. }),
            "ten attempts: 2x"
        );
        assert!(matches!(
            verdicts[10],
            Verdict::Locked { started: true, .. }
        ));
    }

    #[test]
    fn a_key_s_own_limit_and_an_outside_consumer_share_the_window() {
        let limiter = Limiter::default();
        let limits = Limits::default();
        let mut light = KeySettings::new(Plan::Light, true);
        light.limit_per_minute = Some(30);
        light.outside_per_minute = 20;
        assert_eq!(limiter.check("k", &light, "/x", 0, &limits), Verdict::Admit);
        // The consumer's 20 (one every 3 s) and our first: 9 places left.
        let admitted = (0..60)
            .filter(|i| limiter.check("k", &light, "/x", 59_000 + i, &limits) == Verdict::Admit)
            .count();
        assert_eq!(admitted, 9);
    }
}
