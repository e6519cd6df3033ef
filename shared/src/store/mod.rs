//! Persistence ports for the five entities and the fetched rows. Each trait is small and has a
//! DynamoDB adapter ([`dynamo`]) and an in-memory fake ([`memory`], feature `test-util`); the
//! contract suites in [`crate::contract`] run against both. The table design and access
//! patterns are documented in `infra/TABLES.md`.

pub mod dynamo;
mod key_ring;
mod listing;
#[cfg(feature = "test-util")]
pub mod memory;

pub use key_ring::{KeyRefused, KeyRing, MAX_ACTIVE_KEYS, REVOKED_KEPT};
pub use listing::{GroupCursor, JobCursor};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::dataset::{DatasetKind, Record};
use crate::domain::ScheduleId;
use crate::domain::{
    ApiKeyId, Checkpoint, DataSource, DataSourceCredential, DataSourceId, IssueCode, Job, JobGroup,
    JobGroupId, JobGroupStatus, JobId, JobStatus, Release, ResponseData, User, UserId,
};
use crate::schedule::{Schedule, TradingCalendar};

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item already exists (a create that must not overwrite).
    #[error("already exists")]
    AlreadyExists,
    /// A stored item could not be read back: a bug or a manual edit, not retryable.
    #[error("stored item is corrupt: {0}")]
    Corrupt(String),
    /// The database failed or throttled: retry later.
    #[error("store unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// A stored API key: its keyed hash and owner, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The key's id.
    pub id: ApiKeyId,
    /// Owner.
    pub user_id: UserId,
    /// HMAC of the key (hex).
    pub hash: String,
    /// First characters of the key, for listings.
    pub display_prefix: String,
    /// The owner's label for it.
    pub name: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it was revoked; a revoked key never authenticates again.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyRecord {
    /// The record of a freshly generated key of `user`.
    pub fn new(
        user: UserId,
        key: &crate::auth::NewApiKey,
        name: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: ApiKeyId::new(),
            user_id: user,
            hash: key.hash.clone(),
            display_prefix: key.display_prefix.clone(),
            name,
            created_at: now,
            revoked_at: None,
        }
    }
}

/// Users and their API keys.
#[async_trait]
pub trait UserStore: Send + Sync + std::fmt::Debug {
    /// Stores a new user with its first key, atomically.
    async fn create_user(&self, user: &User, key: &ApiKeyRecord) -> Result<(), StoreError>;
    /// A user by id.
    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The active key whose hash is `hash`, with its owner, in one read (the key item carries
    /// a copy of the owner's fields, written with it). A revoked key is not found.
    async fn find_api_key(&self, hash: &str) -> Result<Option<(ApiKeyRecord, User)>, StoreError>;
    /// A user's keys, oldest first, with the [`REVOKED_KEPT`] most recently revoked ones.
    async fn list_api_keys(&self, user: UserId) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Adds a key to its owner's (`key.user_id`); it authenticates at once. The inner error
    /// is the rule that refused it ([`KeyRing::add`]; an unknown owner is
    /// [`KeyRefused::NotFound`]); nothing changed then.
    async fn add_api_key(&self, key: &ApiKeyRecord) -> Result<Result<(), KeyRefused>, StoreError>;
    /// Revokes `user`'s key `id` at `now`: it stops authenticating at once. Returns it as
    /// revoked, or the rule that refused ([`KeyRing::revoke`]).
    async fn revoke_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<Result<ApiKeyRecord, KeyRefused>, StoreError>;
    /// Revokes `user`'s key `id` and adds `new` (a key of the same user; without a name it
    /// takes the old key's) in one atomic change: no moment with both or neither. Returns the
    /// old key as revoked, or the rule that refused ([`KeyRing::rotate`]).
    async fn rotate_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        new: &ApiKeyRecord,
        now: DateTime<Utc>,
    ) -> Result<Result<ApiKeyRecord, KeyRefused>, StoreError>;
}

/// System-managed data sources.
#[async_trait]
pub trait DataSourceStore: Send + Sync + std::fmt::Debug {
    /// Creates or replaces a data source.
    async fn put_data_source(&self, ds: &DataSource) -> Result<(), StoreError>;
    /// A data source by id.
    async fn get_data_source(&self, id: &DataSourceId) -> Result<Option<DataSource>, StoreError>;
    /// Every data source, by id.
    async fn list_data_sources(&self) -> Result<Vec<DataSource>, StoreError>;
}

/// Users' sealed provider credentials, one per (user, data source).
#[async_trait]
pub trait CredentialStore: Send + Sync + std::fmt::Debug {
    /// Creates or replaces the credential.
    async fn put_credential(&self, c: &DataSourceCredential) -> Result<(), StoreError>;
    /// The user's credential for a data source.
    async fn get_credential(
        &self,
        user: UserId,
        ds: &DataSourceId,
    ) -> Result<Option<DataSourceCredential>, StoreError>;
    /// Deletes it; `false` when there was none.
    async fn delete_credential(&self, user: UserId, ds: &DataSourceId) -> Result<bool, StoreError>;
    /// Replaces the credential only if the stored one still has `expected_version` (an
    /// optimistic lock for re-wraps and token updates); `false` when it changed or is gone.
    async fn replace_credential(
        &self,
        c: &DataSourceCredential,
        expected_version: u64,
    ) -> Result<bool, StoreError>;
    /// One page of every credential, in a stable order, for sweeps: the page and the cursor
    /// of the next one (`None` after the last page).
    async fn list_credentials(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<DataSourceCredential>, Option<String>), StoreError>;
}

/// A group's fan-out: jobs `0..written` exist; messages of jobs `0..enqueued` were sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FanOut {
    /// The symbol of each job, in job order (its length is `total_jobs`); empty for a group
    /// split per trading day.
    pub symbols: Vec<Option<IssueCode>>,
    /// A group split per trading day: its days once planned (its length is then
    /// `total_jobs`), `None` before.
    pub days: Option<Vec<NaiveDate>>,
    /// Split per trading day.
    pub per_day: bool,
    /// Split per listed issue; `symbols` holds them once planned.
    pub per_issue: bool,
    /// A per-issue group's symbols have been planned.
    pub issues_planned: bool,
    /// Jobs written.
    pub written: u32,
    /// Job messages sent.
    pub enqueued: u32,
}

/// The two fan-out cursors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanOutCursor {
    /// Jobs written.
    Written,
    /// Job messages sent.
    Enqueued,
}

/// What happened when a fetcher tried to start a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    /// The job is running now (first attempt or a retry).
    Started(Job),
    /// The job is already completed or failed: a duplicate delivery.
    AlreadyTerminal(Job),
    /// Another fetcher holds the job until then: a duplicate delivered while it runs.
    Leased(DateTime<Utc>),
    /// No such job.
    NotFound,
}

/// A job's final result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    /// Rows stored.
    Completed(ResponseData),
    /// Failed for good.
    Failed(String),
}

/// What happened when a fetcher recorded a job's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishOutcome {
    /// The job became terminal and the group counted it, in one transaction.
    Recorded,
    /// The job was already terminal; nothing changed (the duplicate is not counted).
    AlreadyTerminal,
}

/// Jobs a filtered page of [`JobStore::list_group_jobs`] looks at, at most (one query reads
/// them: well under DynamoDB's 1 MB a query).
pub const JOBS_EXAMINED: u32 = 1000;

/// Job groups and their jobs.
#[async_trait]
pub trait JobStore: Send + Sync + std::fmt::Debug {
    /// Stores a new group with the symbols of its future jobs, one per job, in job order. The
    /// jobs themselves are written by the fan-out ([`crate::fanout`]).
    async fn create_group(
        &self,
        group: &JobGroup,
        symbols: &[Option<IssueCode>],
    ) -> Result<(), StoreError>;
    /// How far a group's fan-out got, with its symbols.
    async fn fan_out(&self, group: JobGroupId) -> Result<Option<FanOut>, StoreError>;
    /// Writes pending jobs, overwriting. Only for jobs whose messages were not sent yet, by the
    /// step holding the chunk's claim ([`JobStore::claim_fan_out`]).
    async fn write_jobs(&self, jobs: &[Job]) -> Result<(), StoreError>;
    /// Claims the writing of the fan-out chunk that starts at job `written`, until `until`.
    /// `false` when the written cursor is elsewhere or another step holds a claim that has not
    /// lapsed at `now`. Moving the written cursor ends the claim. So two fan-out steps of one
    /// group (a duplicate delivery, a retry) never write the same chunk at once, and a step
    /// that read the cursor before another moved it cannot rewrite jobs whose messages are
    /// out (and that a fetcher may run): it is refused and reads the cursor again.
    async fn claim_fan_out(
        &self,
        group: JobGroupId,
        written: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Plans a group split per trading day: its days become its jobs and `total_jobs`.
    /// `false` when it was planned already.
    async fn plan_days(&self, group: JobGroupId, days: &[NaiveDate]) -> Result<bool, StoreError>;
    /// Plans a group split per listed issue: the issues become its jobs and `total_jobs`.
    /// `false` when it was planned already.
    async fn plan_issues(
        &self,
        group: JobGroupId,
        issues: &[IssueCode],
    ) -> Result<bool, StoreError>;
    /// Moves a fan-out cursor from `from` to `to`; `false` when it was not at `from` (another
    /// fan-out step moved it first).
    async fn advance_fan_out(
        &self,
        group: JobGroupId,
        cursor: FanOutCursor,
        from: u32,
        to: u32,
    ) -> Result<bool, StoreError>;
    /// A group by id (callers check ownership).
    async fn get_group(&self, id: JobGroupId) -> Result<Option<JobGroup>, StoreError>;
    /// One page of `user`'s groups, newest first, resuming `after` a cursor: the page and
    /// the cursor of the next one (`None` after the last page).
    async fn list_groups(
        &self,
        user: UserId,
        after: Option<GroupCursor>,
        limit: u32,
    ) -> Result<(Vec<JobGroup>, Option<GroupCursor>), StoreError>;
    /// Jobs with their groups, read together (a fetcher's whole batch in one read where the
    /// store can). Jobs that do not exist are left out.
    async fn get_jobs(
        &self,
        keys: &[(JobGroupId, JobId)],
    ) -> Result<Vec<(JobGroup, Job)>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for (g, j) in keys {
            found.extend(self.get_job(*g, *j).await?);
        }
        Ok(found)
    }
    /// A job and its group, read together.
    async fn get_job(
        &self,
        group: JobGroupId,
        job: JobId,
    ) -> Result<Option<(JobGroup, Job)>, StoreError>;
    /// Every job of a group, in id order.
    async fn list_jobs(&self, group: JobGroupId) -> Result<Vec<Job>, StoreError>;
    /// One page of a group's jobs in id order, those after job `after`, only those in
    /// `status` when given: the page and the job the next page resumes after (`None` after the
    /// last page). One query per page: a filtered page looks at up to [`JOBS_EXAMINED`] jobs
    /// and keeps at most `limit` of them, so it may be short, even empty, with more to come.
    async fn list_group_jobs(
        &self,
        group: JobGroupId,
        status: Option<JobStatus>,
        after: Option<JobId>,
        limit: u32,
    ) -> Result<(Vec<Job>, Option<JobId>), StoreError>;
    /// Marks a job running and leases it for `lease` (and starts its group, if pending), with
    /// a conditional write.
    async fn start_job(
        &self,
        group: &JobGroup,
        job: JobId,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<StartOutcome, StoreError>;
    /// [`JobStore::start_job`] for several jobs of one group (as read with
    /// [`JobStore::get_jobs`]), in one transaction where the store can; one outcome per job.
    async fn start_jobs(
        &self,
        group: &JobGroup,
        jobs: &[Job],
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Vec<StartOutcome>, StoreError> {
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            outcomes.push(self.start_job(group, job.id, now, lease).await?);
        }
        Ok(outcomes)
    }
    /// Records how far a running job got (a no-op for a job not running), keeping its lease:
    /// its next start goes on from there.
    async fn save_checkpoint(
        &self,
        group: JobGroupId,
        job: JobId,
        at: &Checkpoint,
    ) -> Result<(), StoreError>;
    /// Gives up the lease of a running job (a no-op for a job not running), keeping how far it
    /// got.
    async fn release_job(
        &self,
        group: JobGroupId,
        job: JobId,
        why: &Release,
    ) -> Result<(), StoreError>;
    /// [`JobStore::finish_job`] for several jobs of one group, in one transaction where the
    /// store can; one outcome per job, in order.
    async fn finish_jobs(
        &self,
        group: JobGroupId,
        results: &[(JobId, JobResult)],
        now: DateTime<Utc>,
    ) -> Result<Vec<FinishOutcome>, StoreError> {
        let mut outcomes = Vec::with_capacity(results.len());
        for (job, result) in results {
            outcomes.push(self.finish_job(group, *job, result, now).await?);
        }
        Ok(outcomes)
    }
    /// Makes a running (or, for failures, pending) job terminal and counts it in its group,
    /// in one transaction: a duplicate delivery is never counted twice.
    async fn finish_job(
        &self,
        group: JobGroupId,
        job: JobId,
        result: &JobResult,
        now: DateTime<Utc>,
    ) -> Result<FinishOutcome, StoreError>;
    /// Records the owner's cancel request. Returns the group, or `None` when it already ended
    /// (or does not exist).
    async fn request_cancel(
        &self,
        group: JobGroupId,
        now: DateTime<Utc>,
    ) -> Result<Option<JobGroup>, StoreError>;
    /// Resets the group's failed jobs to pending, each reset counted out of `failed_jobs` in
    /// the same transaction, and reopens the group. Returns the ids of the group's pending
    /// jobs (to enqueue), or `None` when the group is neither failed nor running. Repeating it
    /// after an interruption is safe: it resets what is still failed and lists every pending
    /// job again.
    async fn retry_failed(
        &self,
        group: JobGroupId,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<JobId>>, StoreError>;
    /// Ends the group if every job is terminal. Returns the final status when this call ended
    /// it; `None` when jobs remain or another caller ended it first.
    async fn finalize_group(
        &self,
        group: JobGroupId,
        now: DateTime<Utc>,
    ) -> Result<Option<JobGroupStatus>, StoreError>;
}

/// Whose rows of which dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowScope {
    /// Owner: rows fetched with a user's account belong to that user.
    pub user_id: UserId,
    /// The dataset.
    pub dataset: DatasetKind,
}

/// Fetched rows, keyed by their natural key (storing a row again overwrites it).
#[async_trait]
pub trait RowStore: Send + Sync + std::fmt::Debug {
    /// Stores rows.
    async fn put_rows(&self, scope: RowScope, rows: &[Record]) -> Result<(), StoreError>;
    /// Rows of one partition (e.g. one issue code) with `sort` in `[from, to]`, in order.
    async fn query_rows(
        &self,
        scope: RowScope,
        partition: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<Record>, StoreError>;
}

/// A job waiting for its parked time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parked {
    /// Its group.
    pub group: JobGroupId,
    /// The job.
    pub job: JobId,
    /// When it may run.
    pub until: DateTime<Utc>,
}

/// Jobs that must wait longer than a queue can delay a message (a day quota used up) are
/// parked with a due time; the scheduler sends them again when it comes.
#[async_trait]
pub trait ParkedJobs: Send + Sync + std::fmt::Debug {
    /// Parks a job that is not finished until `until` (a later park replaces an earlier one).
    async fn park(
        &self,
        group: JobGroupId,
        job: JobId,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Parked jobs due at `now`, earliest first, at most `limit`.
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Parked>, StoreError>;
    /// Takes a job off the parked list, unless it was parked again since (for a new time).
    async fn unpark(&self, parked: &Parked) -> Result<(), StoreError>;
}

/// Groups that stopped moving, for the scheduler's sweep that finds stranded jobs (a job whose
/// message was lost can never finish, and its group would stay `running` for ever).
#[async_trait]
pub trait StalledGroups: Send + Sync + std::fmt::Debug {
    /// Groups not ended whose last progress (their creation, a job finishing, the last sweep)
    /// was before `before`; at most `limit`.
    async fn stalled(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<JobGroup>, StoreError>;
    /// Records a sweep of the group at `now` and, when its counters read `seen`
    /// (completed, failed) but its jobs say `actual`, sets them to `actual`. `false` when the
    /// group changed meanwhile (nothing written).
    async fn swept(
        &self,
        group: JobGroupId,
        seen: (u32, u32),
        actual: (u32, u32),
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// Schedules, the trading calendar their fires are decided against, and the watermarks of
/// incremental schedules.
#[async_trait]
pub trait ScheduleStore: Send + Sync + std::fmt::Debug {
    /// Writes `schedule` over the version it was read at (`schedule.version`; 0 for a new
    /// one); the stored version becomes one more. `false` when another write came first (or
    /// the id exists already), and nothing is written.
    async fn save_schedule(&self, schedule: &Schedule) -> Result<bool, StoreError>;
    /// A user's schedule by id.
    async fn get_schedule(
        &self,
        user: UserId,
        id: ScheduleId,
    ) -> Result<Option<Schedule>, StoreError>;
    /// A user's schedules, oldest first.
    async fn list_schedules(&self, user: UserId) -> Result<Vec<Schedule>, StoreError>;
    /// Deletes a user's schedule; `false` when there was none.
    async fn delete_schedule(&self, user: UserId, id: ScheduleId) -> Result<bool, StoreError>;
    /// Enabled schedules whose next fire is at or before `now`, earliest first.
    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Schedule>, StoreError>;
    /// The stored trading calendar.
    async fn calendar(&self) -> Result<Option<TradingCalendar>, StoreError>;
    /// Lays `newer` over the stored calendar ([`TradingCalendar::merged`]).
    async fn merge_calendar(&self, newer: &TradingCalendar) -> Result<(), StoreError>;
    /// The last day an incremental run of `key` (a dataset and symbol set) completed.
    async fn watermark(&self, user: UserId, key: &str) -> Result<Option<NaiveDate>, StoreError>;
    /// Moves the watermark of `key` forward to `to`; never back.
    async fn advance_watermark(
        &self,
        user: UserId,
        key: &str,
        to: NaiveDate,
    ) -> Result<(), StoreError>;
}
