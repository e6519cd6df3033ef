//! Schedules, the trading calendar their fires are decided against, and the watermarks of
//! incremental schedules: the port, its DynamoDB adapter (in the jobs table), the in-memory
//! fake and the contract suite.

#[cfg(feature = "test-util")]
pub mod contract;
mod dynamo;
#[cfg(feature = "test-util")]
mod memory;

#[cfg(feature = "test-util")]
pub use memory::MemorySchedules;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::StoreError;
use crate::domain::{ScheduleId, UserId};
use crate::schedule::{Schedule, TradingCalendar};

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
    /// The key-rotation sweep's progress, with the version it was written at.
    async fn rotation(&self) -> Result<Option<(RotationProgress, u64)>, StoreError>;
    /// Writes the sweep's progress over `version` (0: none yet); `false` when another write
    /// came first, and nothing is written.
    async fn save_rotation(
        &self,
        progress: &RotationProgress,
        version: u64,
    ) -> Result<bool, StoreError>;
}

/// Where the scheduled re-wrap of credentials stands: every envelope onto the key behind the
/// alias, a page of credentials a tick, resumed from `cursor`; a new key (the alias moved)
/// starts it over.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotationProgress {
    /// The key every envelope is being moved onto.
    pub key_arn: String,
    /// Where the next page starts; `None` before the first and once finished.
    pub cursor: Option<String>,
    /// Credentials read.
    pub scanned: u64,
    /// Credentials whose envelopes were re-wrapped.
    pub rewrapped: u64,
    /// Credentials already on the key.
    pub already_current: u64,
    /// Credentials that changed meanwhile (their next write uses the key anyway).
    pub changed_concurrently: u64,
    /// Credentials whose re-wrap failed (left for the next sweep).
    pub failed: u64,
    /// When the sweep for this key began.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached the last credential.
    pub finished_at: Option<DateTime<Utc>>,
}
