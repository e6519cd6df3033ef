//! Everything the routers share: the clock, the key and account tables, the request log,
//! rate-limit windows, faults and Yahoo sessions. One `Arc<Shared>` per sandbox. Each piece is
//! defined lower down (`clock`, `guard`, `stats`); the routers extract the whole.

use std::sync::{PoisonError, RwLock};

use crate::clock::Clock;
use crate::config::SandboxConfig;
use crate::guard::{Accounts, Faults, KeyRegistry, KeySettings, Limiter, Limits, Sessions};
use crate::stats::RequestLog;

/// The state behind one sandbox.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Rows per page (at least 1).
    pub(crate) page_size: usize,
    pub(crate) clock: Clock,
    pub(crate) keys: KeyRegistry,
    pub(crate) log: RequestLog,
    pub(crate) limiter: Limiter,
    pub(crate) faults: Faults,
    pub(crate) v1: Accounts,
    pub(crate) yahoo: Sessions,
    limits: RwLock<Limits>,
}

impl Shared {
    pub(crate) fn new(config: SandboxConfig, limits: Limits) -> Self {
        let keys = KeyRegistry::default();
        for spec in config.keys {
            keys.insert(
                &spec.key,
                KeySettings::new(spec.plan, limits.rate_limit_config_keys),
            );
        }
        Self {
            page_size: config.page_size.max(1),
            clock: Clock::new(config.today),
            keys,
            log: RequestLog::default(),
            limiter: Limiter::default(),
            faults: Faults::default(),
            v1: Accounts::default(),
            yahoo: Sessions::default(),
            limits: RwLock::new(limits),
        }
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_limits(&self, limits: Limits) {
        *self.limits.write().unwrap_or_else(PoisonError::into_inner) = limits;
    }
}
