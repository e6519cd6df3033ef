//! The jobs table in memory: every capability of the jobs port under one lock, applying the
//! domain's pure transitions; held to the same contract suites as [`super::DynamoJobs`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::domain::{
    Checkpoint, IssueCode, Job, JobGroup, JobGroupId, JobGroupStatus, JobId, JobStatus, Release,
    StartRefused, UserId,
};
use crate::store::{
    FanOut, FanOutCursor, FinishOutcome, GroupCursor, JOBS_EXAMINED, JobResult, Parked, ParkedJobs,
    StalledGroups, StartOutcome, StoreError,
};

use super::*;
use crate::holdings::{Coverage, HoldingKey};
use crate::store::HoldingStore;
use crate::store::jobs::FanOutPlan;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Default)]
struct GroupEntry {
    group: Option<JobGroup>,
    fan_out: FanOut,
    claim_until: Option<DateTime<Utc>>,
    /// The last progress a sweep looks at: a job finished, or a sweep.
    progressed_at: Option<DateTime<Utc>>,
    jobs: BTreeMap<JobId, Job>,
    first_error: Option<String>,
    /// Jobs charged to the owner's active jobs, released when the group ends.
    charge: u32,
}

/// Per-user quota state: jobs charged to groups not ended, fixed-window counters.
#[derive(Debug, Default)]
struct Quotas {
    active: HashMap<UserId, u64>,
    windows: HashMap<(UserId, &'static str, i64), u32>,
}

/// Job groups and jobs in memory.
#[derive(Debug, Default)]
pub struct MemoryJobs(
    Mutex<HashMap<JobGroupId, GroupEntry>>,
    Mutex<Quotas>,
    Mutex<BTreeMap<HoldingKey, Coverage>>,
);

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

#[async_trait]
impl JobLifecycle for MemoryJobs {
    async fn start_job(
        &self,
        group: &JobGroup,
        job: JobId,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<StartOutcome, StoreError> {
        let mut all = lock(&self.0);
        let Some(entry) = all.get_mut(&group.id) else {
            return Ok(StartOutcome::NotFound);
        };
        let Some(j) = entry.jobs.get_mut(&job) else {
            return Ok(StartOutcome::NotFound);
        };
        match j.start(now, lease) {
            Ok(()) => {}
            Err(StartRefused::Terminal) => return Ok(StartOutcome::AlreadyTerminal(j.clone())),
            Err(StartRefused::Leased(until)) => return Ok(StartOutcome::Leased(until)),
        }
        let started = j.clone();
        if let Some(g) = entry.group.as_mut() {
            // A group that already ended refuses: its terminal state wins.
            let _ = g.start(now);
        }
        Ok(StartOutcome::Started(started))
    }
    async fn save_checkpoint(
        &self,
        group: JobGroupId,
        job: JobId,
        at: &Checkpoint,
    ) -> Result<(), StoreError> {
        let mut all = lock(&self.0);
        if let Some(j) = all.get_mut(&group).and_then(|e| e.jobs.get_mut(&job))
            && j.status == JobStatus::Running
        {
            j.checkpoint = Some(at.clone());
        }
        Ok(())
    }
    async fn release_job(
        &self,
        group: JobGroupId,
        job: JobId,
        why: &Release,
    ) -> Result<(), StoreError> {
        let mut all = lock(&self.0);
        if let Some(j) = all.get_mut(&group).and_then(|e| e.jobs.get_mut(&job)) {
            // Only a running job holds a lease; anything else has nothing to give up.
            let _ = j.release(why.clone());
        }
        Ok(())
    }
    async fn finish_job(
        &self,
        group: JobGroupId,
        job: JobId,
        result: &JobResult,
        now: DateTime<Utc>,
    ) -> Result<FinishOutcome, StoreError> {
        let mut all = lock(&self.0);
        let entry = all
            .get_mut(&group)
            .ok_or_else(|| StoreError::Corrupt("no such group".into()))?;
        let j = entry
            .jobs
            .get_mut(&job)
            .ok_or_else(|| StoreError::Corrupt("no such job".into()))?;
        let g = entry
            .group
            .as_mut()
            .ok_or_else(|| StoreError::Corrupt("no such group".into()))?;
        let mut next = j.clone();
        let applied = match result {
            JobResult::Completed(data) => next.complete(now, data.clone()),
            JobResult::Failed(msg) => next.fail(now, msg.clone()),
        };
        if applied.is_err() {
            return Ok(FinishOutcome::AlreadyTerminal);
        }
        let mut counted = g.clone();
        counted
            .count_terminal_job(next.status == JobStatus::Completed)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let JobResult::Failed(msg) = result {
            entry.first_error.get_or_insert_with(|| msg.clone());
        }
        *j = next;
        *g = counted;
        entry.progressed_at = Some(now);
        if let JobResult::Completed(ResponseData {
            held: Some(held), ..
        }) = result
        {
            let mut holdings = lock(&self.2);
            let c = holdings
                .entry(held.key.clone())
                .or_insert_with(|| Coverage::empty(held.key.clone()));
            c.pieces.push(held.piece.clone());
            for day in &held.events {
                c.events.entry(*day).or_insert(held.piece.at);
            }
        }
        Ok(FinishOutcome::Recorded)
    }
}

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
