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
    fn random_numbers_spread_retries() {
        let waits: std::collections::HashSet<_> =
            (0..50).map(|_| backoff(4, None, unit_random())).collect();
        assert!(waits.len() > 40, "jitter spreads a burst of failures");
    }
}
