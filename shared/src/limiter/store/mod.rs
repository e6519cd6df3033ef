//! The limiter's storage port: one small state per scope, written with optimistic
//! concurrency, so fetchers in many processes share one budget. The DynamoDB adapter and the
//! in-memory fake sit beside it; `crate::contract::limiter_store` holds both to one suite.

#[cfg(feature = "test-util")]
pub mod contract;
mod dynamo;
#[cfg(feature = "test-util")]
mod memory;

use async_trait::async_trait;

pub use dynamo::DynamoLimits;
#[cfg(feature = "test-util")]
pub use memory::MemoryLimits;

use super::ScopeState;
use crate::store::StoreError;

/// Rate-limit state per scope, written with optimistic concurrency (see [`crate::limiter::Limiter`]).
#[async_trait]
pub trait LimiterStore: Send + Sync + std::fmt::Debug {
    /// The scope's state and its version (an empty state and 0 when never stored).
    async fn load_scope(&self, scope: &str) -> Result<(ScopeState, u64), StoreError>;
    /// Stores `state` as the version after `version`, if the stored one is still `version`.
    /// `false` when another writer got there first.
    async fn save_scope(
        &self,
        scope: &str,
        state: &ScopeState,
        version: u64,
    ) -> Result<bool, StoreError>;
}
