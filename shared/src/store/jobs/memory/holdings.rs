//! The holdings the fake's finished jobs record, read and replaced as the holdings store.

use async_trait::async_trait;

use super::{MemoryJobs, lock};
use crate::domain::UserId;
use crate::holdings::{Coverage, HoldingKey};
use crate::store::{HoldingStore, StoreError};

#[async_trait]
impl HoldingStore for MemoryJobs {
    async fn holdings(&self, keys: &[HoldingKey]) -> Result<Vec<Coverage>, StoreError> {
        let all = lock(&self.2);
        Ok(keys
            .iter()
            .map(|k| {
                all.get(k)
                    .cloned()
                    .unwrap_or_else(|| Coverage::empty(k.clone()))
            })
            .collect())
    }

    async fn user_holdings(&self, user: UserId) -> Result<Vec<Coverage>, StoreError> {
        Ok(lock(&self.2)
            .values()
            .filter(|c| c.key.user == user)
            .cloned()
            .collect())
    }

    async fn replace(&self, coverage: &Coverage) -> Result<(), StoreError> {
        let mut all = lock(&self.2);
        if coverage.pieces.is_empty() {
            all.remove(&coverage.key);
        } else {
            all.insert(coverage.key.clone(), coverage.clone());
        }
        Ok(())
    }
}
