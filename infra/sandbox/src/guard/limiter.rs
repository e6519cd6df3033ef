//! Per-key rate limits over a sliding 60-second window of the sandbox clock, and the lockout
//! that follows sustained abuse (reference §4.1).
//!
//! Buckets: every request counts against the plan's limit, except minute bars, which have the
//! add-on's own 60/min bucket; `/fins/summary` and `/fins/details` also count against their
//! own 60/min bucket "regardless of plan". Only admitted requests use up a window: a refused
//! request counts as a refusal instead, and more than `lockout_after` refusals within 60 s
//! block the key for `lockout_secs`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::config::Plan;

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

    fn limit(self, plan: Plan) -> usize {
        match self {
            Self::Plan => plan.requests_per_minute() as usize,
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
    /// Locked out for another `remaining_ms`.
    Locked {
        remaining_ms: i64,
    },
}

#[derive(Debug, Default)]
struct KeyWindows {
    admitted: HashMap<Bucket, VecDeque<i64>>,
    refusals: VecDeque<i64>,
    locked_until: i64,
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
        plan: Plan,
        path: &str,
        now: i64,
        limits: &Limits,
    ) -> Verdict {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let windows = keys.entry(key.to_owned()).or_default();
        if now < windows.locked_until {
            return Verdict::Locked {
                remaining_ms: windows.locked_until - now,
            };
        }
        let buckets = Bucket::for_path(path);
        let full = buckets.iter().find_map(|bucket| {
            let times = windows.admitted.entry(*bucket).or_default();
            prune(times, now);
            let limit = bucket.limit(plan);
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
        if windows.refusals.len() > limits.lockout_after as usize {
            let lockout_ms =
                i64::try_from(limits.lockout_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            windows.locked_until = now.saturating_add(lockout_ms);
            windows.refusals.clear();
            return Verdict::Locked {
                remaining_ms: lockout_ms,
            };
        }
        Verdict::Limited {
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            retry_in_ms: oldest + WINDOW_MS - now,
        }
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

    #[test]
    fn free_admits_five_a_minute_then_recovers() {
        let limiter = Limiter::default();
        let limits = Limits::default();
        let check = |at| limiter.check("k", Plan::Free, "/equities/bars/daily", at, &limits);
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
            let v = limiter.check("p", Plan::Premium, "/fins/summary", i, &limits);
            assert_eq!(v, Verdict::Admit);
        }
        let v = limiter.check("p", Plan::Premium, "/fins/summary", 100, &limits);
        assert!(matches!(v, Verdict::Limited { limit: 60, .. }));
        let v = limiter.check("p", Plan::Premium, "/equities/bars/daily", 100, &limits);
        assert_eq!(v, Verdict::Admit);
        for i in 0..5 {
            let v = limiter.check("f", Plan::Free, "/equities/bars/minute", i, &limits);
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
        let check = |at| limiter.check("k", Plan::Free, "/x", at, &limits);
        let verdicts: Vec<Verdict> = (0..8).map(check).collect();
        assert!(matches!(verdicts[5], Verdict::Limited { .. }));
        assert!(matches!(
            verdicts[7],
            Verdict::Locked {
                remaining_ms: 300_000
            }
        ));
        assert!(matches!(check(200_000), Verdict::Locked { .. }));
        assert_eq!(check(300_008), Verdict::Admit);
        let window = Window::default();
        assert!(window.admit(0, 1) && !window.admit(1, 1) && window.admit(60_001, 1));
    }
}
