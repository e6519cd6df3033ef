//! What each user holds ([`crate::holdings`]): one item per (user, data source, series,
//! symbol) in the jobs table, beside the user's schedules and quota. A completed job adds its
//! piece in the same transaction that ends it ([`super::JobLifecycle::finish_jobs`]), so a
//! duplicate delivery adds nothing; reads, listings and deletions go through this port. The
//! jobs adapters implement it: the holdings live in their table.

#[cfg(feature = "test-util")]
pub mod contract;
mod dynamo;

pub(crate) use dynamo::held_update;

use async_trait::async_trait;

use super::StoreError;
use crate::domain::UserId;
use crate::holdings::{Coverage, HoldingKey};

/// Holdings: read, listed, rewritten.
#[async_trait]
pub trait HoldingStore: Send + Sync + std::fmt::Debug {
    /// The holdings of `keys` (of one user), in order; an empty one for a key never fetched.
    async fn holdings(&self, keys: &[HoldingKey]) -> Result<Vec<Coverage>, StoreError>;
    /// Every holding of `user`.
    async fn user_holdings(&self, user: UserId) -> Result<Vec<Coverage>, StoreError>;
    /// Replaces a holding by `coverage` (after a deletion or a compaction); a holding left
    /// without pieces is removed. A piece a job adds meanwhile may be lost: it is then
    /// fetched again, never served wrongly.
    async fn replace(&self, coverage: &Coverage) -> Result<(), StoreError>;
}
