//! The limiter state in memory, for tests and the fetcher's hermetic runs.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::LimiterStore;
use crate::limiter::ScopeState;
use crate::store::StoreError;

/// Rate-limit state in memory: a map of scope to (version, state).
#[derive(Debug, Default)]
pub struct MemoryLimits(Mutex<HashMap<String, (u64, ScopeState)>>);

#[async_trait]
impl LimiterStore for MemoryLimits {
    async fn load_scope(&self, scope: &str) -> Result<(ScopeState, u64), StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(scope)
            .map(|(v, s)| (s.clone(), *v))
            .unwrap_or_default())
    }

    async fn save_scope(
        &self,
        scope: &str,
        state: &ScopeState,
        version: u64,
    ) -> Result<bool, StoreError> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let stored = all.get(scope).map_or(0, |(v, _)| *v);
        if stored != version {
            return Ok(false);
        }
        all.insert(scope.to_owned(), (version + 1, state.clone()));
        Ok(true)
    }
}
