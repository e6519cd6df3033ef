//! The sweep's view in memory: groups that stopped moving, and their counters reconciled.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryJobs, lock};
use crate::domain::{JobGroup, JobGroupId};
use crate::store::{StalledGroups, StoreError};

#[async_trait]
impl StalledGroups for MemoryJobs {
    async fn stalled(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<JobGroup>, StoreError> {
        let all = lock(&self.0);
        let mut found: Vec<(DateTime<Utc>, JobGroup)> = all
            .values()
            .filter_map(|e| {
                let g = e.group.as_ref()?;
                let at = e.progressed_at.unwrap_or(g.created_at);
                (!g.status.is_terminal() && at < before).then(|| (at, g.clone()))
            })
            .collect();
        found.sort_by_key(|(at, g)| (*at, g.id.to_string()));
        Ok(found.into_iter().take(limit).map(|(_, g)| g).collect())
    }

    async fn swept(
        &self,
        group: JobGroupId,
        seen: (u32, u32),
        actual: (u32, u32),
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut all = lock(&self.0);
        let Some(entry) = all.get_mut(&group) else {
            return Ok(false);
        };
        let Some(g) = entry.group.as_mut() else {
            return Ok(false);
        };
        if g.status.is_terminal() || (g.completed_jobs, g.failed_jobs) != seen {
            return Ok(false);
        }
        (g.completed_jobs, g.failed_jobs) = actual;
        entry.progressed_at = Some(now);
        Ok(true)
    }
}
