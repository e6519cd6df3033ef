//! The request log: how many requests each API key made, per path.
//!
//! Tests read it to check how a client paced itself (through [`crate::Sandbox::stats`] or
//! `GET /_sandbox/stats`). Requests with a missing or unknown key are counted under
//! [`INVALID_KEY`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::extract::State;
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
}

/// The live log shared by the server and its handle.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    keys: Mutex<HashMap<String, KeyStats>>,
}

impl RequestLog {
    pub(crate) fn record(&self, key: &str, path: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = keys.entry(key.to_owned()).or_default();
        entry.requests += 1;
        *entry.by_path.entry(path.to_owned()).or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        Stats {
            keys: keys.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        }
    }

    pub(crate) fn reset(&self) {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// `GET /_sandbox/stats`.
pub(crate) async fn show(State(log): State<Arc<RequestLog>>) -> Json<Stats> {
    Json(log.snapshot())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_path() {
        let log = RequestLog::default();
        log.record("k", "/a");
        log.record("k", "/a");
        log.record("k", "/b");
        log.record(INVALID_KEY, "/a");
        let stats = log.snapshot();
        assert_eq!(stats.requests("k"), 3);
        assert_eq!(stats.keys["k"].by_path["/a"], 2);
        assert_eq!(stats.requests(INVALID_KEY), 1);
        assert_eq!(stats.requests("other"), 0);
        log.reset();
        assert_eq!(log.snapshot(), Stats::default());
    }
}
