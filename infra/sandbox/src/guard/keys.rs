//! The accepted J-Quants V2 keys and what each may do; keys can be added while running.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use crate::config::Plan;

/// What one key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeySettings {
    pub(crate) plan: Plan,
    /// Whether the per-plan rate limits and the lockout apply.
    pub(crate) rate_limit: bool,
    /// The "minute bars / ticks" add-on (Light and above only).
    pub(crate) minute_addon: bool,
    /// The key's real per-minute limit when it differs from its plan's (a limit changed by
    /// the provider, or a key declared on the wrong plan); `None`: the plan's.
    pub(crate) limit_per_minute: Option<u32>,
    /// Requests a minute another consumer of the key (the user's own scripts) sends, evenly
    /// spaced; each takes a place in the plan's window when there is one.
    pub(crate) outside_per_minute: u32,
}

impl KeySettings {
    pub(crate) fn new(plan: Plan, rate_limit: bool) -> Self {
        Self {
            plan,
            rate_limit,
            minute_addon: plan >= Plan::Light,
            limit_per_minute: None,
            outside_per_minute: 0,
        }
    }
}

/// The key table.
#[derive(Debug, Default)]
pub(crate) struct KeyRegistry(RwLock<HashMap<String, KeySettings>>);

impl KeyRegistry {
    pub(crate) fn get(&self, key: &str) -> Option<KeySettings> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .copied()
    }

    pub(crate) fn insert(&self, key: &str, settings: KeySettings) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned(), settings);
    }

    /// Changes a known key's settings; `false` if the key is unknown.
    pub(crate) fn update(&self, key: &str, change: impl FnOnce(&mut KeySettings)) -> bool {
        let mut keys = self.0.write().unwrap_or_else(PoisonError::into_inner);
        keys.get_mut(key).map(change).is_some()
    }
}
