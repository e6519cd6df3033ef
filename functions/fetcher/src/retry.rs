//! When a transient failure is retried: exponential backoff with jitter, never sooner than
//! the provider's `Retry-After`. Applied as the message's visibility timeout, so the wait costs
//! nothing and many jobs failing together do not come back together.

use std::time::Duration;

/// First retry waits about this long.
pub const BASE: Duration = Duration::from_secs(10);
/// No retry waits longer than this (the Retry-After of a provider may).
pub const CAP: Duration = Duration::from_secs(15 * 60);

/// The wait before attempt `attempt + 1`, given a uniform `random` in `[0, 1)`: "equal jitter"
/// (half fixed, half random) over `BASE · 2^(attempt-1)` capped at [`CAP`], and at least
/// `retry_after`.
pub fn backoff(attempt: u32, retry_after: Option<Duration>, random: f64) -> Duration {
    let exp = BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(CAP);
    let jittered = exp / 2 + exp.mul_f64(random.clamp(0.0, 1.0) / 2.0);
    retry_after.map_or(jittered, |r| r.max(jittered))
}

/// When a message comes back: after `after` when the attempt named a wait, otherwise (our own
/// storage or queue failed, mostly briefly) after [`backoff`] by its delivery count, one step
/// up: 10-20 s after the first delivery instead of the whole visibility timeout, while the
/// waits before the dead-letter queue (the 8th delivery) still add up to 18-36 min, about what
/// seven six-minute visibility timeouts gave a store outage.
pub fn redelivery(after: Option<Duration>, receive_count: u32, random: f64) -> Duration {
    after.unwrap_or_else(|| backoff(receive_count.saturating_add(1), None, random))
}

/// A uniform random number in `[0, 1)`.
pub fn unit_random() -> f64 {
    let mut b = [0u8; 8];
    aws_lc_rs::rand::fill(&mut b).expect("system RNG");
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_exponentially_within_jitter_bounds_and_cap() {
        for attempt in 1..=10 {
            let exp = BASE * 2u32.pow(attempt - 1);
            let exp = exp.min(CAP);
            assert_eq!(backoff(attempt, None, 0.0), exp / 2);
            assert!(backoff(attempt, None, 0.999) <= exp);
        }
        assert_eq!(backoff(1, None, 0.0), Duration::from_secs(5));
        assert_eq!(
            backoff(30, None, 0.999_999),
            CAP.mul_f64(0.5 + 0.999_999 / 2.0)
        );
    }

    #[test]
    fn retry_after_is_a_floor() {
        assert_eq!(
            backoff(1, Some(Duration::from_secs(300)), 0.5),
            Duration::from_secs(300)
        );
        assert_eq!(backoff(8, Some(Duration::from_secs(1)), 0.0), CAP / 2);
    }

    #[test]
    fn infrastructure_failures_come_back_soon_then_less_often() {
        let wait = Duration::from_secs(42);
        assert_eq!(redelivery(Some(wait), 5, 0.3), wait, "a named wait is kept");
        assert_eq!(redelivery(None, 1, 0.0), Duration::from_secs(10));
        assert!(redelivery(None, 1, 0.999) < Duration::from_secs(20));
        let total = |random| -> Duration { (1..8).map(|n| redelivery(None, n, random)).sum() };
        assert_eq!(total(0.0), Duration::from_secs(1080));
        assert!(total(0.999) <= Duration::from_secs(2160));
        assert!((1..7).all(|n| redelivery(None, n, 0.0) < redelivery(None, n + 1, 0.0)));
    }

    #[test]
    fn random_numbers_spread_retries() {
        let waits: std::collections::HashSet<_> =
            (0..50).map(|_| backoff(4, None, unit_random())).collect();
        assert!(waits.len() > 40, "jitter spreads a burst of failures");
    }
}
