//! Rows in memory, keyed like the table; held to the contract suite of [`super::DynamoRows`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::dataset::Record;
use crate::domain::UserId;
use crate::store::{RowScope, RowStore, StoreError};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Rows in memory, keyed like the table.
#[derive(Debug, Default)]
pub struct MemoryRows(Mutex<BTreeMap<(RowScopeKey, String, String), Record>>);

type RowScopeKey = (UserId, &'static str);

#[async_trait]
impl RowStore for MemoryRows {
    async fn put_rows(&self, scope: RowScope, rows: &[Record]) -> Result<(), StoreError> {
        let mut all = lock(&self.0);
        for r in rows {
            let key = (
                (scope.user_id, scope.dataset.as_str()),
                r.partition.clone(),
                r.sort.clone(),
            );
            all.insert(key, r.clone());
        }
        Ok(())
    }

    async fn query_rows(
        &self,
        scope: RowScope,
        partition: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<Record>, StoreError> {
        let all = lock(&self.0);
        Ok(all
            .iter()
            .filter(|((s, p, sort), _)| {
                *s == (scope.user_id, scope.dataset.as_str())
                    && p == partition
                    && from.is_none_or(|f| sort.as_str() >= f)
                    && to.is_none_or(|t| sort.as_str() <= t)
            })
            .map(|(_, r)| r.clone())
            .collect())
    }
}
