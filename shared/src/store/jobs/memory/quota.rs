//! Per-user quotas in memory: active jobs and fixed-window counters, checked with a group's
//! creation.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryJobs, lock};
use crate::domain::{IssueCode, JobGroup, UserId};
use crate::store::jobs::{FanOutPlan, GroupQuota, QuotaExceeded, UserQuotas, WindowLimit, charge};
use crate::store::{FanOut, StoreError};

#[async_trait]
impl UserQuotas for MemoryJobs {
    async fn create_group_within(
        &self,
        group: &JobGroup,
        symbols: &[Option<IssueCode>],
        quota: &GroupQuota,
        now: DateTime<Utc>,
    ) -> Result<Result<(), QuotaExceeded>, StoreError> {
        let charge = charge(group);
        let mut all = lock(&self.0);
        let mut quotas = lock(&self.1);
        if all.get(&group.id).is_some_and(|e| e.group.is_some()) {
            return Err(StoreError::AlreadyExists);
        }
        let active = quotas.active.get(&group.user_id).copied().unwrap_or(0);
        if active + u64::from(charge) > quota.max_active_jobs {
            return Ok(Err(QuotaExceeded::ActiveJobs {
                limit: quota.max_active_jobs,
                charge,
            }));
        }
        let window = (
            group.user_id,
            quota.groups.name,
            quota.groups.window_start(now),
        );
        if quotas.windows.get(&window).copied().unwrap_or(0) >= quota.groups.max {
            return Ok(Err(QuotaExceeded::Window(quota.groups)));
        }
        *quotas.windows.entry(window).or_default() += 1;
        *quotas.active.entry(group.user_id).or_default() += u64::from(charge);
        let entry = all.entry(group.id).or_default();
        entry.group = Some(group.clone());
        entry.fan_out = FanOut {
            plan: FanOutPlan::new(group.split, symbols),
            written: 0,
            enqueued: 0,
        };
        entry.charge = charge;
        Ok(Ok(()))
    }

    async fn take(
        &self,
        user: UserId,
        limit: &WindowLimit,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut quotas = lock(&self.1);
        let count = quotas
            .windows
            .entry((user, limit.name, limit.window_start(now)))
            .or_default();
        if *count >= limit.max {
            return Ok(false);
        }
        *count += 1;
        Ok(true)
    }

    async fn active_jobs(&self, user: UserId) -> Result<u64, StoreError> {
        Ok(lock(&self.1).active.get(&user).copied().unwrap_or(0))
    }
}
