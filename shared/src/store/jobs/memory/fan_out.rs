//! The fan-out in memory: a group's creation, its plan, and its written and enqueued cursors.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::{MemoryJobs, lock};
use crate::domain::{IssueCode, Job, JobGroup, JobGroupId};
use crate::store::jobs::{FanOutPlan, FanOutStore};
use crate::store::{FanOut, FanOutCursor, StoreError};

#[async_trait]
impl FanOutStore for MemoryJobs {
    async fn create_group(
        &self,
        group: &JobGroup,
        symbols: &[Option<IssueCode>],
    ) -> Result<(), StoreError> {
        let mut all = lock(&self.0);
        let entry = all.entry(group.id).or_default();
        if entry.group.is_some() {
            return Err(StoreError::AlreadyExists);
        }
        entry.group = Some(group.clone());
        entry.fan_out = FanOut {
            plan: FanOutPlan::new(group.split, symbols),
            written: 0,
            enqueued: 0,
        };
        Ok(())
    }
    async fn fan_out(&self, group: JobGroupId) -> Result<Option<FanOut>, StoreError> {
        Ok(lock(&self.0)
            .get(&group)
            .filter(|e| e.group.is_some())
            .map(|e| e.fan_out.clone()))
    }
    async fn write_jobs(&self, jobs: &[Job]) -> Result<(), StoreError> {
        let mut all = lock(&self.0);
        for j in jobs {
            all.entry(j.job_group_id)
                .or_default()
                .jobs
                .insert(j.id, j.clone());
        }
        Ok(())
    }
    async fn claim_fan_out(
        &self,
        group: JobGroupId,
        written: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut all = lock(&self.0);
        let Some(entry) = all.get_mut(&group).filter(|e| e.group.is_some()) else {
            return Ok(false);
        };
        if entry.fan_out.written != written || entry.claim_until.is_some_and(|c| c >= now) {
            return Ok(false);
        }
        entry.claim_until = Some(until);
        Ok(true)
    }
    async fn plan_days(&self, group: JobGroupId, days: &[NaiveDate]) -> Result<bool, StoreError> {
        let mut all = lock(&self.0);
        let Some(entry) = all.get_mut(&group) else {
            return Ok(false);
        };
        if entry.fan_out.plan != FanOutPlan::PerTradingDay(None) {
            return Ok(false);
        }
        entry.fan_out.plan = FanOutPlan::PerTradingDay(Some(days.to_vec()));
        if let Some(g) = entry.group.as_mut() {
            g.total_jobs = u32::try_from(days.len()).expect("days of a range");
        }
        Ok(true)
    }
    async fn plan_issues(
        &self,
        group: JobGroupId,
        issues: &[IssueCode],
    ) -> Result<bool, StoreError> {
        let mut all = lock(&self.0);
        let Some(entry) = all.get_mut(&group) else {
            return Ok(false);
        };
        if entry.fan_out.plan != FanOutPlan::PerListedIssue(None) {
            return Ok(false);
        }
        entry.fan_out.plan = FanOutPlan::PerListedIssue(Some(issues.to_vec()));
        if let Some(g) = entry.group.as_mut() {
            g.total_jobs = u32::try_from(issues.len()).expect("listed issues");
        }
        Ok(true)
    }
    async fn advance_fan_out(
        &self,
        group: JobGroupId,
        cursor: FanOutCursor,
        from: u32,
        to: u32,
    ) -> Result<bool, StoreError> {
        let mut all = lock(&self.0);
        let Some(entry) = all.get_mut(&group) else {
            return Ok(false);
        };
        let c = match cursor {
            FanOutCursor::Written => &mut entry.fan_out.written,
            FanOutCursor::Enqueued => &mut entry.fan_out.enqueued,
        };
        if *c != from {
            return Ok(false);
        }
        *c = to;
        if cursor == FanOutCursor::Written {
            entry.claim_until = None;
        }
        Ok(true)
    }
}
