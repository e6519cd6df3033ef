//! Schedules: a user's recurring job groups ("every trading day after the close, fetch the
//! previous trading day's bars for all issues"). A schedule is a cron expression in a time
//! zone plus a job-group template whose dates are relative ([`Window`]); the scheduler Lambda
//! decides each minute which fires are due ([`due`], pure), skips days the market is closed
//! using the stored [`TradingCalendar`], and turns each remaining fire into a job group.
//!
//! Incremental sync: a [`Window::SinceLastSuccess`] schedule fetches from its dataset's
//! watermark on; the watermark moves only over runs whose groups completed, so what failed is
//! fetched again by the next run. Long ranges go out as several groups ([`chunks`]).

mod calendar;
mod cron;
mod due;
mod window;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use calendar::{MARKET_TIME_ZONE, Span, TradingCalendar};
pub use cron::{CronSpec, DEFAULT_TIME_ZONE};
pub use due::{CATCH_UP, Due, Fire, MAX_FIRES_PER_TICK, due};
pub use window::{Resolved, Window, chunks};

use crate::domain::{DataSourceId, IssueCode, JobGroupId, Plan, ScheduleId, UserId};

/// A schedule that cannot be accepted, with what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

/// A user's schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Id.
    pub id: ScheduleId,
    /// Owner.
    pub user_id: UserId,
    /// The user's name for it.
    pub name: String,
    /// When it fires.
    pub cron: CronSpec,
    /// What each run fetches.
    pub template: Template,
    /// Disabled schedules never fire.
    pub enabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change by its owner.
    pub updated_at: DateTime<Utc>,
    /// Every fire at or before this is decided (run, or skipped); fires after it are not.
    pub handled_until: DateTime<Utc>,
    /// The last run: its groups, one per chunk.
    pub last_run: Option<Run>,
    /// Fires skipped because the market was closed.
    pub skipped_closed: u32,
    /// Fires skipped as too late to run ([`CATCH_UP`]).
    pub skipped_late: u32,
    /// Fires skipped because the previous run of an incremental schedule was still running.
    pub skipped_busy: u32,
    /// Why the last fire did not create a group, if it did not.
    pub last_error: Option<String>,
    /// Optimistic-concurrency version: a write succeeds only over the version it read.
    #[serde(default)]
    pub version: u64,
}

/// The job group a schedule creates on each fire, with relative dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Data source id.
    pub data_source: DataSourceId,
    /// Endpoint id of the catalog.
    pub endpoint: String,
    /// Issue codes (none: every issue, by date where the endpoint allows).
    #[serde(default)]
    pub symbols: Vec<IssueCode>,
    /// Every listed issue instead of `symbols`.
    #[serde(default)]
    pub all_listed_issues: bool,
    /// Endpoint parameters other than dates.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The dates each run fetches.
    pub window: Window,
}

/// One run of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Run {
    /// The fire time.
    pub fire_at: DateTime<Utc>,
    /// Its groups, one per chunk, in date order.
    pub groups: Vec<RunGroup>,
}

/// One group of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunGroup {
    /// The group.
    pub id: JobGroupId,
    /// The last day it fetches.
    pub last_day: NaiveDate,
}

impl Schedule {
    /// A new, enabled schedule of `user_id` that fires from `now` on (never for past times).
    pub fn new(
        user_id: UserId,
        name: String,
        cron: CronSpec,
        template: Template,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: ScheduleId::new(),
            user_id,
            name,
            cron,
            template,
            enabled: true,
            created_at: now,
            updated_at: now,
            handled_until: now,
            last_run: None,
            skipped_closed: 0,
            skipped_late: 0,
            skipped_busy: 0,
            last_error: None,
            version: 0,
        }
    }

    /// The next fire it waits for; `None` when disabled or when it never fires again.
    pub fn next_fire(&self) -> Option<DateTime<Utc>> {
        self.enabled
            .then(|| self.cron.next_after(self.handled_until))
            .flatten()
    }

    /// The key of its dataset and symbol set, under which the incremental watermark is kept
    /// (schedules of one user over the same dataset and symbols share it).
    pub fn watermark_key(&self) -> String {
        let t = &self.template;
        let set = if t.symbols.is_empty() {
            "all".to_owned()
        } else {
            let mut codes: Vec<&str> = t.symbols.iter().map(IssueCode::as_str).collect();
            codes.sort_unstable();
            codes.dedup();
            let digest =
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, codes.join(",").as_bytes());
            digest.as_ref()[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        format!("{}#{}#{set}", t.data_source, t.endpoint)
    }
}

/// Trading days per group of a backfill: about ten minutes of the plan's request budget at one
/// request per trading day, at most a year.
pub fn chunk_trading_days(plan: Plan) -> usize {
    usize::try_from(plan.requests_per_minute() * 10)
        .unwrap_or(usize::MAX)
        .clamp(20, 250)
}
