//! Reading groups and jobs in memory, paged as the DynamoDB queries page them.

use async_trait::async_trait;

use super::{MemoryJobs, lock};
use crate::domain::{Job, JobGroup, JobGroupId, JobId, JobStatus, UserId};
use crate::store::jobs::JobQueries;
use crate::store::{GroupCursor, JOBS_EXAMINED, StoreError};

#[async_trait]
impl JobQueries for MemoryJobs {
    async fn get_group(&self, id: JobGroupId) -> Result<Option<JobGroup>, StoreError> {
        Ok(lock(&self.0).get(&id).and_then(|e| e.group.clone()))
    }
    async fn list_groups(
        &self,
        user: UserId,
        after: Option<GroupCursor>,
        limit: u32,
    ) -> Result<(Vec<JobGroup>, Option<GroupCursor>), StoreError> {
        let mut groups: Vec<(String, JobGroup)> = lock(&self.0)
            .values()
            .filter_map(|e| e.group.clone())
            .filter(|g| g.user_id == user)
            .map(|g| (GroupCursor::after(&g).sort_key(), g))
            .filter(|(key, _)| after.is_none_or(|c| *key < c.sort_key()))
            .collect();
        groups.sort_by(|a, b| b.0.cmp(&a.0));
        let more = groups.len() > limit as usize;
        let page: Vec<JobGroup> = groups
            .into_iter()
            .take(limit as usize)
            .map(|(_, g)| g)
            .collect();
        let next = more.then(|| page.last().map(GroupCursor::after)).flatten();
        Ok((page, next))
    }
    async fn get_job(
        &self,
        group: JobGroupId,
        job: JobId,
    ) -> Result<Option<(JobGroup, Job)>, StoreError> {
        let all = lock(&self.0);
        let Some(entry) = all.get(&group) else {
            return Ok(None);
        };
        Ok(entry.group.clone().zip(entry.jobs.get(&job).cloned()))
    }
    async fn list_jobs(&self, group: JobGroupId) -> Result<Vec<Job>, StoreError> {
        Ok(lock(&self.0)
            .get(&group)
            .map(|e| e.jobs.values().cloned().collect())
            .unwrap_or_default())
    }
    async fn list_group_jobs(
        &self,
        group: JobGroupId,
        status: Option<JobStatus>,
        after: Option<JobId>,
        limit: u32,
    ) -> Result<(Vec<Job>, Option<JobId>), StoreError> {
        let all = lock(&self.0);
        let Some(entry) = all.get(&group) else {
            return Ok((Vec::new(), None));
        };
        let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        // As the DynamoDB query does: look at a window of jobs, keep those that match.
        let window = if status.is_some() {
            JOBS_EXAMINED
        } else {
            limit
        };
        let mut examined = entry
            .jobs
            .range((start, std::ops::Bound::Unbounded))
            .map(|(_, j)| j);
        let mut page = Vec::new();
        let mut last = None;
        for job in examined.by_ref().take(window as usize) {
            last = Some(job.id);
            if status.is_none_or(|s| job.status == s) {
                page.push(job.clone());
                if page.len() == limit as usize {
                    break;
                }
            }
        }
        let more = examined.next().is_some();
        Ok((page, last.filter(|_| more)))
    }
}
