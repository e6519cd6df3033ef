//! Injected failures per caller (a V2 key, a V1 mail address, or [`crate::YAHOO`]): server
//! errors, timeouts, malformed bodies, added latency and bursts of 429s, or a hostile answer
//! to every request ([`Hostile`]).
//!
//! Each request of a caller draws the next number of a sequence seeded per caller, so a given
//! seed and request order always fail the same requests.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Hostile;
use crate::hash::{mix, unit};

/// The faults one caller gets (admin `POST /_sandbox/faults`, [`crate::Sandbox::set_faults`]).
/// Omitted JSON fields take their defaults; all rates 0 and no burst means no faults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultSpec {
    /// Share of requests answered 500 with the reference's body.
    pub error_rate: f64,
    /// Share of requests held for `timeout_ms`, then answered 504.
    pub timeout_rate: f64,
    /// Share of requests whose body is cut in half (invalid JSON, status unchanged).
    pub malformed_rate: f64,
    /// Delay added to every request.
    pub latency_ms: u64,
    /// The next this-many requests get 429, before any other draw.
    pub burst_429: u32,
    /// Seed of the draw sequence; `None` picks one from the time.
    pub seed: Option<u64>,
    /// How long a timed-out request is held (default 60 s, longer than the usual 30 s client
    /// timeout and API Gateway's 29 s).
    pub timeout_ms: u64,
    /// A hostile answer to every request instead of the data (the rates and bursts above
    /// are then ignored).
    pub hostile: Option<Hostile>,
}

impl Default for FaultSpec {
    fn default() -> Self {
        Self {
            error_rate: 0.0,
            timeout_rate: 0.0,
            malformed_rate: 0.0,
            latency_ms: 0,
            burst_429: 0,
            seed: None,
            timeout_ms: 60_000,
            hostile: None,
        }
    }
}

/// The outcome of one draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Error,
    Timeout(Duration),
    Malformed,
    TooMany,
}

#[derive(Debug)]
struct Caller {
    spec: FaultSpec,
    seed: u64,
    drawn: u64,
    burst_left: u32,
}

/// Every caller's faults.
#[derive(Debug, Default)]
pub(crate) struct Faults(Mutex<HashMap<String, Caller>>);

impl Faults {
    pub(crate) fn set(&self, key: &str, spec: FaultSpec) {
        let seed = spec.seed.unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            nanos as u64
        });
        let caller = Caller {
            burst_left: spec.burst_429,
            spec,
            seed,
            drawn: 0,
        };
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned(), caller);
    }

    /// The caller's hostile answer, if it has one.
    pub(crate) fn hostile(&self, key: &str) -> Option<Hostile> {
        let callers = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        callers.get(key).and_then(|c| c.spec.hostile.clone())
    }

    /// The added latency and the fault for the caller's next request.
    pub(crate) fn draw(&self, key: &str) -> (Duration, Fault) {
        let mut callers = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(caller) = callers.get_mut(key) else {
            return (Duration::ZERO, Fault::None);
        };
        let latency = Duration::from_millis(caller.spec.latency_ms);
        if caller.burst_left > 0 {
            caller.burst_left -= 1;
            return (latency, Fault::TooMany);
        }
        let r = unit(mix(&[caller.seed, caller.drawn]));
        caller.drawn += 1;
        let spec = &caller.spec;
        let fault = if r < spec.error_rate {
            Fault::Error
        } else if r < spec.error_rate + spec.timeout_rate {
            Fault::Timeout(Duration::from_millis(spec.timeout_ms))
        } else if r < spec.error_rate + spec.timeout_rate + spec.malformed_rate {
            Fault::Malformed
        } else {
            Fault::None
        };
        (latency, fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(seed: u64) -> Vec<Fault> {
        let faults = Faults::default();
        let spec = FaultSpec {
            error_rate: 0.1,
            timeout_rate: 0.05,
            malformed_rate: 0.05,
            burst_429: 2,
            seed: Some(seed),
            timeout_ms: 10,
            ..FaultSpec::default()
        };
        faults.set("k", spec);
        (0..2000).map(|_| faults.draw("k").1).collect()
    }

    #[test]
    fn a_seed_fixes_the_sequence_and_rates_hold() {
        let (a, b) = (faults(7), faults(7));
        assert_eq!(a, b);
        assert_ne!(a, faults(8));
        assert_eq!(&a[..2], [Fault::TooMany, Fault::TooMany]);
        let count = |f: Fault| a.iter().filter(|x| **x == f).count();
        assert!(
            (150..250).contains(&count(Fault::Error)),
            "{}",
            count(Fault::Error)
        );
        let timeouts = count(Fault::Timeout(Duration::from_millis(10)));
        assert!((60..140).contains(&timeouts), "{timeouts}");
        assert!((60..140).contains(&count(Fault::Malformed)));
        assert_eq!(
            Faults::default().draw("other"),
            (Duration::ZERO, Fault::None)
        );
    }
}
