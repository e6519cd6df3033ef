//! Fetched rows, keyed by their natural key: the port, its DynamoDB adapter (the market-data
//! table), the in-memory fake and the contract suite.

#[cfg(feature = "test-util")]
pub mod contract;
mod dynamo;
#[cfg(feature = "test-util")]
mod memory;

pub use dynamo::DynamoRows;
#[cfg(feature = "test-util")]
pub use memory::MemoryRows;

use async_trait::async_trait;

use super::StoreError;
use crate::dataset::{DatasetKind, Record};
use crate::domain::UserId;

/// Whose rows of which dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowScope {
    /// Owner: rows fetched with a user's account belong to that user.
    pub user_id: UserId,
    /// The dataset.
    pub dataset: DatasetKind,
}

/// Fetched rows, keyed by their natural key (storing a row again overwrites it).
#[async_trait]
pub trait RowStore: Send + Sync + std::fmt::Debug {
    /// Stores rows.
    async fn put_rows(&self, scope: RowScope, rows: &[Record]) -> Result<(), StoreError>;
    /// Rows of one partition (e.g. one issue code) with `sort` in `[from, to]`, in order.
    async fn query_rows(
        &self,
        scope: RowScope,
        partition: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<Record>, StoreError>;
}
