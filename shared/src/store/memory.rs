//! In-memory fakes of the store ports, applying the domain's pure transitions under one lock.
//! Held to the same contract suites as the DynamoDB adapters.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::{
    ApiKeyRecord, CredentialStore, DataSourceStore, FanOut, FanOutCursor, FinishOutcome,
    GroupCursor, JOBS_EXAMINED, JobResult, JobStore, KeyRefused, KeyRing, Parked, ParkedJobs,
    RowScope, RowStore, ScheduleStore, StalledGroups, StartOutcome, StoreError, UserStore,
};
use crate::dataset::Record;
use crate::domain::ScheduleId;
use crate::domain::{
    ApiKeyId, Checkpoint, DataSource, DataSourceCredential, DataSourceId, IssueCode, Job, JobGroup,
    JobGroupId, JobGroupStatus, JobId, JobStatus, Release, Split, StartRefused, User, UserId,
};
use crate::schedule::{Schedule, TradingCalendar};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Users, keys, data sources and credentials in memory.
#[derive(Debug, Default)]
pub struct MemoryAccounts {
    users: Mutex<HashMap<UserId, (User, KeyRing)>>,
    /// Active keys by hash, as authentication finds them.
    keys: Mutex<HashMap<String, ApiKeyRecord>>,
    sources: Mutex<BTreeMap<DataSourceId, DataSource>>,
    credentials: Mutex<BTreeMap<String, DataSourceCredential>>,
}

impl MemoryAccounts {
    /// Applies `change` to `user`'s ring and, when it is allowed, brings the authentication
    /// index in line with the ring, under both locks.
    fn change_keys<T>(
        &self,
        user: UserId,
        change: impl FnOnce(&mut KeyRing) -> Result<T, KeyRefused>,
    ) -> Result<Result<T, KeyRefused>, StoreError> {
        let mut users = lock(&self.users);
        let mut keys = lock(&self.keys);
        let Some((_, ring)) = users.get_mut(&user) else {
            return Ok(Err(KeyRefused::NotFound));
        };
        let mut changed = ring.clone();
        let out = match change(&mut changed) {
            Ok(out) => out,
            Err(refused) => return Ok(Err(refused)),
        };
        if changed
            .keys()
            .iter()
            .any(|k| k.revoked_at.is_none() && keys.get(&k.hash).is_some_and(|o| o.id != k.id))
        {
            return Err(StoreError::AlreadyExists);
        }
        keys.retain(|_, k| k.user_id != user);
        for k in changed.keys().iter().filter(|k| k.revoked_at.is_none()) {
            keys.insert(k.hash.clone(), k.clone());
        }
        *ring = changed;
        Ok(Ok(out))
    }
}

#[async_trait]
impl UserStore for MemoryAccounts {
    async fn create_user(&self, user: &User, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let mut users = lock(&self.users);
        let mut keys = lock(&self.keys);
        if users.contains_key(&user.id) || keys.contains_key(&key.hash) {
            return Err(StoreError::AlreadyExists);
        }
        users.insert(user.id, (user.clone(), KeyRing::new(vec![key.clone()])));
        keys.insert(key.hash.clone(), key.clone());
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.users).get(&id).map(|(u, _)| u.clone()))
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<(ApiKeyRecord, User)>, StoreError> {
        let users = lock(&self.users);
        let key = lock(&self.keys).get(hash).cloned();
        Ok(key.and_then(|k| users.get(&k.user_id).map(|(u, _)| (k, u.clone()))))
    }

    async fn list_api_keys(&self, user: UserId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        Ok(lock(&self.users)
            .get(&user)
            .map(|(_, ring)| ring.keys().to_vec())
            .unwrap_or_default())
    }

    async fn add_api_key(&self, key: &ApiKeyRecord) -> Result<Result<(), KeyRefused>, StoreError> {
        self.change_keys(key.user_id, |ring| ring.add(key.clone()))
    }

    async fn revoke_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<Result<ApiKeyRecord, KeyRefused>, StoreError> {
        self.change_keys(user, |ring| ring.revoke(id, now))
    }

    async fn rotate_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        new: &ApiKeyRecord,
        now: DateTime<Utc>,
    ) -> Result<Result<ApiKeyRecord, KeyRefused>, StoreError> {
        self.change_keys(user, |ring| ring.rotate(id, new.clone(), now))
    }
}

#[async_trait]
impl DataSourceStore for MemoryAccounts {
    async fn put_data_source(&self, ds: &DataSource) -> Result<(), StoreError> {
        lock(&self.sources).insert(ds.id.clone(), ds.clone());
        Ok(())
    }

    async fn get_data_source(&self, id: &DataSourceId) -> Result<Option<DataSource>, StoreError> {
        Ok(lock(&self.sources).get(id).cloned())
    }

    async fn list_data_sources(&self) -> Result<Vec<DataSource>, StoreError> {
        Ok(lock(&self.sources).values().cloned().collect())
    }
}

fn credential_key(user: UserId, ds: &DataSourceId) -> String {
    format!("{user}#{ds}")
}

#[async_trait]
impl CredentialStore for MemoryAccounts {
    async fn put_credential(&self, c: &DataSourceCredential) -> Result<(), StoreError> {
        lock(&self.credentials).insert(credential_key(c.user_id, &c.data_source_id), c.clone());
        Ok(())
    }

    async fn get_credential(
        &self,
        user: UserId,
        ds: &DataSourceId,
    ) -> Result<Option<DataSourceCredential>, StoreError> {
        Ok(lock(&self.credentials)
            .get(&credential_key(user, ds))
            .cloned())
    }

    async fn delete_credential(&self, user: UserId, ds: &DataSourceId) -> Result<bool, StoreError> {
        Ok(lock(&self.credentials)
            .remove(&credential_key(user, ds))
            .is_some())
    }

    async fn replace_credential(
        &self,
        c: &DataSourceCredential,
        expected_version: u64,
    ) -> Result<bool, StoreError> {
        let mut all = lock(&self.credentials);
        match all.get_mut(&credential_key(c.user_id, &c.data_source_id)) {
            Some(stored) if stored.version == expected_version => {
                *stored = c.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn list_credentials(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<DataSourceCredential>, Option<String>), StoreError> {
        let all = lock(&self.credentials);
        let start = cursor.map_or(std::ops::Bound::Unbounded, |c| {
            std::ops::Bound::Excluded(c.to_owned())
        });
        let page: Vec<_> = all
            .range((start, std::ops::Bound::Unbounded))
            .take(limit as usize)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let next = (page.len() == limit as usize)
            .then(|| page.last().map(|(k, _)| k.clone()))
            .flatten()
            .filter(|last| {
                all.range::<String, _>((
                    std::ops::Bound::Excluded(last.clone()),
                    std::ops::Bound::Unbounded,
                ))
                .next()
                .is_some()
            });
        Ok((page.into_iter().map(|(_, v)| v).collect(), next))
    }
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
}

/// Job groups and jobs in memory.
#[derive(Debug, Default)]
pub struct MemoryJobs(Mutex<HashMap<JobGroupId, GroupEntry>>);

#[async_trait]
impl JobStore for MemoryJobs {
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
            symbols: symbols.to_vec(),
            days: None,
            per_day: group.split == Split::PerTradingDay,
            per_issue: group.split == Split::PerListedIssue,
            issues_planned: false,
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

    async fn plan_days(&self, group: JobGroupId, days: &[NaiveDate]) -> Result<bool, StoreError> {
        let mut all = lock(&self.0);
        let Some(entry) = all.get_mut(&group) else {
            return Ok(false);
        };
        if !entry.fan_out.per_day || entry.fan_out.days.is_some() {
            return Ok(false);
        }
        entry.fan_out.days = Some(days.to_vec());
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
        if !entry.fan_out.per_issue || entry.fan_out.issues_planned {
            return Ok(false);
        }
        entry.fan_out.symbols = issues.iter().cloned().map(Some).collect();
        entry.fan_out.issues_planned = true;
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
        Ok(FinishOutcome::Recorded)
    }

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
        Ok(g.finish(now, first_error.as_deref()).then_some(g.status))
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

/// Schedules, the calendar and watermarks in memory.
#[derive(Debug, Default)]
pub struct MemorySchedules {
    schedules: Mutex<BTreeMap<(UserId, ScheduleId), Schedule>>,
    calendar: Mutex<Option<TradingCalendar>>,
    watermarks: Mutex<HashMap<(UserId, String), NaiveDate>>,
}

#[async_trait]
impl ScheduleStore for MemorySchedules {
    async fn save_schedule(&self, schedule: &Schedule) -> Result<bool, StoreError> {
        let mut all = lock(&self.schedules);
        let key = (schedule.user_id, schedule.id);
        let stored = all.get(&key).map(|s| s.version);
        let fits = match stored {
            None => schedule.version == 0,
            Some(v) => v == schedule.version,
        };
        if fits {
            let mut s = schedule.clone();
            s.version += 1;
            all.insert(key, s);
        }
        Ok(fits)
    }

    async fn get_schedule(
        &self,
        user: UserId,
        id: ScheduleId,
    ) -> Result<Option<Schedule>, StoreError> {
        Ok(lock(&self.schedules).get(&(user, id)).cloned())
    }

    async fn list_schedules(&self, user: UserId) -> Result<Vec<Schedule>, StoreError> {
        Ok(lock(&self.schedules)
            .values()
            .filter(|s| s.user_id == user)
            .cloned()
            .collect())
    }

    async fn delete_schedule(&self, user: UserId, id: ScheduleId) -> Result<bool, StoreError> {
        Ok(lock(&self.schedules).remove(&(user, id)).is_some())
    }

    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Schedule>, StoreError> {
        let mut due: Vec<(DateTime<Utc>, Schedule)> = lock(&self.schedules)
            .values()
            .filter_map(|s| s.next_fire().filter(|t| *t <= now).map(|t| (t, s.clone())))
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        Ok(due.into_iter().take(limit).map(|(_, s)| s).collect())
    }

    async fn calendar(&self) -> Result<Option<TradingCalendar>, StoreError> {
        Ok(lock(&self.calendar).clone())
    }

    async fn merge_calendar(&self, newer: &TradingCalendar) -> Result<(), StoreError> {
        let mut cal = lock(&self.calendar);
        *cal = Some(
            cal.as_ref()
                .map_or_else(|| newer.clone(), |c| c.merged(newer)),
        );
        Ok(())
    }

    async fn watermark(&self, user: UserId, key: &str) -> Result<Option<NaiveDate>, StoreError> {
        Ok(lock(&self.watermarks).get(&(user, key.to_owned())).copied())
    }

    async fn advance_watermark(
        &self,
        user: UserId,
        key: &str,
        to: NaiveDate,
    ) -> Result<(), StoreError> {
        let mut w = lock(&self.watermarks);
        let e = w.entry((user, key.to_owned())).or_insert(to);
        *e = (*e).max(to);
        Ok(())
    }
}
