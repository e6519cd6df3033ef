//! Persistence ports for the five entities and the fetched rows. Each trait is small and has a
//! DynamoDB adapter ([`dynamo`]) and an in-memory fake ([`memory`], feature `test-util`); the
//! contract suites in [`crate::contract`] run against both. The table design and access
//! patterns are documented in `infra/TABLES.md`.

pub mod accounts;
pub mod dynamo;
pub mod jobs;
#[cfg(feature = "test-util")]
pub mod memory;

pub use accounts::{
    ApiKeyRecord, CredentialStore, DataSourceStore, KeyRefused, KeyRing, MAX_ACTIVE_KEYS,
    REVOKED_KEPT, UserStore,
};
pub use jobs::{
    FanOut, FanOutCursor, FanOutStore, FinishOutcome, GroupControl, GroupCursor, JOBS_EXAMINED,
    JobCursor, JobLifecycle, JobQueries, JobResult, JobStore, Parked, ParkedJobs, StalledGroups,
    StartOutcome,
};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::dataset::{DatasetKind, Record};
use crate::domain::ScheduleId;
use crate::domain::UserId;
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
