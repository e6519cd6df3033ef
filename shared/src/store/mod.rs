//! Persistence ports for the five entities and the fetched rows, one folder per port: the
//! small traits, their DynamoDB adapter, their in-memory fake (feature `test-util`) and the
//! contract suite that holds both to one behaviour, side by side.
//!
//! - [`accounts`]: users and their API keys, data sources, sealed credentials.
//! - [`jobs`]: job groups and jobs, one port per capability (fan-out, queries, a job's run,
//!   group control; parked jobs and stalled groups for the scheduler).
//! - [`holdings`]: what each user holds (ranges fetched whole, corporate actions seen).
//! - [`schedules`]: schedules, calendar, watermarks.
//!
//! [`dynamo`] holds what the DynamoDB adapters share, [`memory`] gathers the fakes. The table
//! design and access patterns are documented in `infra/TABLES.md`.

pub mod accounts;
pub mod dynamo;
pub mod holdings;
pub mod jobs;
#[cfg(feature = "test-util")]
pub mod memory;
pub mod schedules;

pub use accounts::{
    ApiKeyRecord, CredentialStore, DataSourceStore, KeyRefused, KeyRing, MAX_ACTIVE_KEYS,
    REVOKED_KEPT, UserStore,
};
pub use holdings::HoldingStore;
pub use jobs::{
    FanOut, FanOutCursor, FanOutPlan, FanOutStore, FinishOutcome, GroupControl, GroupCursor,
    JOBS_EXAMINED, JobCursor, JobLifecycle, JobQueries, JobResult, JobStore, Parked, ParkedJobs,
    StalledGroups, StartOutcome,
};
pub use schedules::ScheduleStore;

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
