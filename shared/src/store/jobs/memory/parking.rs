//! Parked jobs in memory: parking, the due ones earliest first, and unparking.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryJobs, lock};
use crate::domain::{JobGroupId, JobId};
use crate::store::{Parked, ParkedJobs, StoreError};

#[async_trait]
impl ParkedJobs for MemoryJobs {
    async fn park(
        &self,
        group: JobGroupId,
        job: JobId,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(j) = lock(&self.0)
            .get_mut(&group)
            .and_then(|e| e.jobs.get_mut(&job))
            .filter(|j| !j.status.is_terminal())
        {
            j.parked_until = Some(until);
        }
        Ok(())
    }

    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Parked>, StoreError> {
        let mut due: Vec<Parked> = lock(&self.0)
            .values()
            .flat_map(|e| e.jobs.values())
            .filter_map(|j| {
                j.parked_until.filter(|u| *u <= now).map(|until| Parked {
                    group: j.job_group_id,
                    job: j.id,
                    until,
                })
            })
            .collect();
        due.sort_by_key(|p| (p.until, p.group.to_string(), p.job));
        due.truncate(limit);
        Ok(due)
    }

    async fn unpark(&self, parked: &Parked) -> Result<(), StoreError> {
        if let Some(j) = lock(&self.0)
            .get_mut(&parked.group)
            .and_then(|e| e.jobs.get_mut(&parked.job))
            .filter(|j| j.parked_until == Some(parked.until))
        {
            j.parked_until = None;
        }
        Ok(())
    }
}
