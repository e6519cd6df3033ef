//! Job groups and their jobs, in the jobs table: one port per capability, so each consumer
//! takes what it uses ([`FanOutStore`] for the fan-out, [`JobLifecycle`] for a job's run,
//! [`JobQueries`] for reading, [`GroupControl`] for cancel, retry and finalize; [`JobStore`]
//! is all four), plus [`ParkedJobs`] and [`StalledGroups`] for the scheduler. The DynamoDB
//! adapter ([`DynamoJobs`]), the in-memory fake (`MemoryJobs`, feature `test-util`) and the
//! contract suites that hold both to one behaviour sit side by side here.

#[cfg(feature = "test-util")]
pub mod contract;
mod dynamo;
mod listing;
#[cfg(feature = "test-util")]
mod memory;
mod quota;

pub use dynamo::DynamoJobs;
pub use listing::{GroupCursor, JobCursor};
#[cfg(feature = "test-util")]
pub use memory::MemoryJobs;
pub use quota::{GroupQuota, LISTED_ISSUES_CHARGE, QuotaExceeded, WindowLimit, charge};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::StoreError;
use crate::domain::{
    Checkpoint, IssueCode, Job, JobGroup, JobGroupId, JobGroupStatus, JobId, JobStatus, Release,
    ResponseData, Split, UserId,
};

/// A group's fan-out: jobs `0..written` exist; messages of jobs `0..enqueued` were sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FanOut {
    /// What its jobs are.
    pub plan: FanOutPlan,
    /// Jobs written.
    pub written: u32,
    /// Job messages sent.
    pub enqueued: u32,
}

impl FanOut {
    /// Every job written and its message sent (never for a group not planned yet).
    pub fn is_done(&self) -> bool {
        self.plan
            .total()
            .is_some_and(|total| self.enqueued as usize >= total)
    }
}

/// What a group's jobs are, in job order, once known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FanOutPlan {
    /// One job per symbol given at creation (a single job with none: every issue at once).
    Symbols(Vec<Option<IssueCode>>),
    /// One job per trading day of the range, once planned from the provider's calendar.
    PerTradingDay(Option<Vec<NaiveDate>>),
    /// One job per listed issue, once planned from the provider's listing.
    PerListedIssue(Option<Vec<IssueCode>>),
}

impl Default for FanOutPlan {
    fn default() -> Self {
        Self::Symbols(Vec::new())
    }
}

impl FanOutPlan {
    /// The plan a new group starts from.
    pub fn new(split: Split, symbols: &[Option<IssueCode>]) -> Self {
        match split {
            Split::PerTradingDay => Self::PerTradingDay(None),
            Split::PerListedIssue => Self::PerListedIssue(None),
            Split::PerSymbol => Self::Symbols(symbols.to_vec()),
        }
    }

    /// Whether its jobs are known.
    pub fn is_planned(&self) -> bool {
        self.total().is_some()
    }

    /// How many jobs, once planned.
    pub fn total(&self) -> Option<usize> {
        match self {
            Self::Symbols(s) => Some(s.len()),
            Self::PerTradingDay(days) => days.as_ref().map(Vec::len),
            Self::PerListedIssue(issues) => issues.as_ref().map(Vec::len),
        }
    }

    /// Job `id` of `group`, if planned and in range.
    pub fn job(&self, group: JobGroupId, id: JobId) -> Option<Job> {
        let i = id.index() as usize;
        match self {
            Self::Symbols(s) => s.get(i).map(|s| Job::new(group, id, s.clone())),
            Self::PerTradingDay(days) => days.as_ref()?.get(i).map(|d| Job::for_day(group, id, *d)),
            Self::PerListedIssue(issues) => issues
                .as_ref()?
                .get(i)
                .map(|s| Job::new(group, id, Some(s.clone()))),
        }
    }
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

/// Jobs a filtered page of [`JobStore::list_group_jobs`] looks at, at most (one query reads
/// them: well under DynamoDB's 1 MB a query).
pub const JOBS_EXAMINED: u32 = 1000;

/// A group's creation and its fan-out: the group stored with the symbols of its future jobs,
/// then its jobs written and their messages sent chunk by chunk, resumably ([`crate::fanout`]).
#[async_trait]
pub trait FanOutStore: Send + Sync + std::fmt::Debug {
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
    /// step holding the chunk's claim ([`Self::claim_fan_out`]).
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
}

/// Reading groups and jobs: one, a user's page of groups, a group's jobs.
#[async_trait]
pub trait JobQueries: Send + Sync + std::fmt::Debug {
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
    /// A job and its group, read together.
    async fn get_job(
        &self,
        group: JobGroupId,
        job: JobId,
    ) -> Result<Option<(JobGroup, Job)>, StoreError>;
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
}

/// A job's run: started under a lease, checkpointed page by page, released, finished with its
/// group's counters in one transaction.
#[async_trait]
pub trait JobLifecycle: Send + Sync + std::fmt::Debug {
    /// Marks a job running and leases it for `lease` (and starts its group, if pending), with
    /// a conditional write.
    async fn start_job(
        &self,
        group: &JobGroup,
        job: JobId,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<StartOutcome, StoreError>;
    /// [`Self::start_job`] for several jobs of one group (as read with
    /// [`Self::get_jobs`]), in one transaction where the store can; one outcome per job.
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
    /// Makes a running (or, for failures, pending) job terminal and counts it in its group,
    /// in one transaction: a duplicate delivery is never counted twice.
    async fn finish_job(
        &self,
        group: JobGroupId,
        job: JobId,
        result: &JobResult,
        now: DateTime<Utc>,
    ) -> Result<FinishOutcome, StoreError>;
    /// [`Self::finish_job`] for several jobs of one group, in one transaction where the
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
}

/// A group as a whole: cancelled, its failed jobs retried, finalized once every job is terminal.
#[async_trait]
pub trait GroupControl: Send + Sync + std::fmt::Debug {
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

/// Per-user quotas ([`quota`]): a group created within its owner's limits, fixed-window
/// counters, the jobs charged to a user's groups not ended. A group created this way releases
/// its charge when [`GroupControl::finalize_group`] ends it (a group created with
/// [`FanOutStore::create_group`] is charged nothing and releases nothing).
#[async_trait]
pub trait UserQuotas: Send + Sync + std::fmt::Debug {
    /// [`FanOutStore::create_group`], charging the group ([`charge`]) to its owner's active
    /// jobs and counting it in the owner's `quota.groups` window, all in one atomic write:
    /// refused (nothing stored, nothing counted) when either would go over its limit.
    async fn create_group_within(
        &self,
        group: &JobGroup,
        symbols: &[Option<IssueCode>],
        quota: &GroupQuota,
        now: DateTime<Utc>,
    ) -> Result<Result<(), QuotaExceeded>, StoreError>;
    /// Counts one event in `user`'s window of `limit` at `now`: `false` (nothing counted)
    /// when the window holds [`WindowLimit::max`] already.
    async fn take(
        &self,
        user: UserId,
        limit: &WindowLimit,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Jobs charged to `user`'s groups that have not ended.
    async fn active_jobs(&self, user: UserId) -> Result<u64, StoreError>;
}

/// Every capability of the jobs table, for the consumers that use them all.
pub trait JobStore: FanOutStore + JobQueries + JobLifecycle + GroupControl {}

impl<T: FanOutStore + JobQueries + JobLifecycle + GroupControl> JobStore for T {}
