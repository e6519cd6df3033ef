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
}

impl KeySettings {
    pub(crate) fn new(plan: Plan, rate_limit: bool) -> Self {
        Self {
            plan,
            rate_limit,
            minute_addon: plan >= Plan::Light,
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
