//! The request log: how many requests each caller made, per path, when, and how many 429s
//! it got.
//!
//! Tests and benchmarks read it to check how a client paced itself (through
//! [`crate::Sandbox::stats`] or `GET /_sandbox/stats`, which `admin` serves): `max_per_60s` is
//! the busiest sliding minute, `per_minute` a histogram by clock minute. Callers are J-Quants
//! V2 keys, V1 mail addresses and [`crate::YAHOO`]; requests with a missing or unknown key
//! count under [`INVALID_KEY`]. Times are on the sandbox clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use chrono::DateTime;
use serde::{Deserialize, Serialize};

/// The bucket for requests whose key was missing or not accepted.
pub const INVALID_KEY: &str = "<invalid>";

/// A snapshot of the request log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Per API key (or [`INVALID_KEY`]).
    pub keys: BTreeMap<String, KeyStats>,
}

impl Stats {
    /// Requests made with `key` (0 if none).
    pub fn requests(&self, key: &str) -> u64 {
        self.keys.get(key).map_or(0, |k| k.requests)
    }
}

/// The requests of one API key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyStats {
    /// All requests.
    pub requests: u64,
    /// Requests per path below the API base (e.g. `/equities/bars/daily`).
    pub by_path: BTreeMap<String, u64>,
    /// Responses with status 429 (rate limit, lockout or injected).
    #[serde(default)]
    pub too_many_requests: u64,
    /// The most requests inside any sliding 60-second window.
    #[serde(default)]
    pub max_per_60s: u64,
    /// Lockouts the key's attempts caused (each blocks the key for `lockout_secs`).
    #[serde(default)]
    pub lockouts: u64,
    /// Requests per clock minute, keyed `YYYY-MM-DDTHH:MMZ` (UTC).
    #[serde(default)]
    pub per_minute: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
struct Entry {
    stats: KeyStats,
    /// Arrival times, milliseconds since the epoch.
    times: Vec<i64>,
}

/// The live log shared by the server and its handle.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    keys: Mutex<HashMap<String, Entry>>,
}

impl RequestLog {
    pub(crate) fn record(&self, key: &str, path: &str, at_millis: i64) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = keys.entry(key.to_owned()).or_default();
        entry.stats.requests += 1;
        *entry.stats.by_path.entry(path.to_owned()).or_default() += 1;
        entry.times.push(at_millis);
    }

    /// Counts a 429 answered to `key`.
    pub(crate) fn count_too_many(&self, key: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.entry(key.to_owned())
            .or_default()
            .stats
            .too_many_requests += 1;
    }

    /// Counts a lockout of `key`.
    pub(crate) fn count_lockout(&self, key: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.entry(key.to_owned()).or_default().stats.lockouts += 1;
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        Stats {
            keys: keys.iter().map(|(k, v)| (k.clone(), finish(v))).collect(),
        }
    }

    pub(crate) fn reset(&self) {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

fn finish(entry: &Entry) -> KeyStats {
    let mut times = entry.times.clone();
    times.sort_unstable();
    let mut stats = entry.stats.clone();
    stats.max_per_60s = max_in_window(&times, 60_000);
    for t in &times {
        let minute = DateTime::from_timestamp_millis(*t)
            .map_or_else(String::new, |d| d.format("%Y-%m-%dT%H:%MZ").to_string());
        *stats.per_minute.entry(minute).or_default() += 1;
    }
    stats
}

/// The most sorted `times` inside any half-open window `[t, t + width)`.
fn max_in_window(times: &[i64], width: i64) -> u64 {
    let mut start = 0;
    let mut best = 0;
    for (end, t) in times.iter().enumerate() {
        while times[start] <= t - width {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_path() {
        let log = RequestLog::default();
        log.record("k", "/a", 0);
        log.record("k", "/a", 1);
        log.record("k", "/b", 2);
        log.record(INVALID_KEY, "/a", 3);
        let stats = log.snapshot();
        assert_eq!(stats.requests("k"), 3);
        assert_eq!(stats.keys["k"].by_path["/a"], 2);
        assert_eq!(stats.requests(INVALID_KEY), 1);
        assert_eq!(stats.requests("other"), 0);
        log.reset();
        assert_eq!(log.snapshot(), Stats::default());
    }

    #[test]
    fn the_busiest_minute_and_the_histogram() {
        let log = RequestLog::default();
        // 2026-11-20T09:00:00Z, then 5 within a minute, then one 60 s after the second.
        let t0 = 1_795_165_200_000;
        for at in [0, 10_000, 20_000, 30_000, 59_999, 70_000] {
            log.record("k", "/a", t0 + at);
        }
        log.count_too_many("k");
        let stats = &log.snapshot().keys["k"];
        assert_eq!((stats.max_per_60s, stats.too_many_requests), (5, 1));
        assert_eq!(stats.per_minute["2026-11-20T09:00Z"], 5);
        assert_eq!(stats.per_minute["2026-11-20T09:01Z"], 1);
        assert_eq!(max_in_window(&[0, 60_000], 60_000), 1);
        assert_eq!(max_in_window(&[], 60_000), 0);
    }
}
