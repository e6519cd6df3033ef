//! Cancel, retry and finalize in memory; finalizing releases the group's quota charge.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryJobs, lock};
use crate::domain::{JobGroup, JobGroupId, JobGroupStatus, JobId, JobStatus};
use crate::store::StoreError;
use crate::store::jobs::GroupControl;

#[async_trait]
impl GroupControl for MemoryJobs {
    async fn request_cancel(
        &self,
        group: JobGroupId,
        now: DateTime<Utc>,
    ) -> Result<Option<JobGroup>, StoreError> {
        let mut all = lock(&self.0);
        let Some(g) = all.get_mut(&group).and_then(|e| e.group.as_mut()) else {
            return Ok(None);
        };
        Ok(g.request_cancel(now).ok().map(|()| g.clone()))
    }
    async fn retry_failed(
        &self,
        group: JobGroupId,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<JobId>>, StoreError> {
        let mut all = lock(&self.0);
        let Some(entry) = all.get_mut(&group) else {
            return Ok(None);
        };
        let Some(g) = entry.group.as_mut() else {
            return Ok(None);
        };
        let failed: Vec<JobId> = entry
            .jobs
            .values()
            .filter(|j| j.status == JobStatus::Failed)
            .map(|j| j.id)
            .collect();
        if g.reopen_for_retry(failed.len() as u32).is_err() {
            return Ok(None);
        }
        entry.first_error = None;
        for id in &failed {
            if let Some(j) = entry.jobs.get_mut(id) {
                j.reset_for_retry(now)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            }
        }
        Ok(Some(
            entry
                .jobs
                .values()
                .filter(|j| j.status == JobStatus::Pending)
                .map(|j| j.id)
                .collect(),
        ))
    }
    async fn finalize_group(
        &self,
        group: JobGroupId,
        now: DateTime<Utc>,
    ) -> Result<Option<JobGroupStatus>, StoreError> {
        let mut all = lock(&self.0);
        let Some(entry) = all.get_mut(&group) else {
            return Ok(None);
        };
        let first_error = entry.first_error.clone();
        let Some(g) = entry.group.as_mut() else {
            return Ok(None);
        };
        if !g.finish(now, first_error.as_deref()) {
            return Ok(None);
        }
        let charge = std::mem::take(&mut entry.charge);
        if charge > 0 {
            let mut quotas = lock(&self.1);
            let active = quotas.active.entry(g.user_id).or_default();
            *active = active.saturating_sub(u64::from(charge));
        }
        Ok(Some(g.status))
    }
}
