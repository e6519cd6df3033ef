//! The jobs table in memory: every capability of the jobs port under one lock, applying the
//! domain's pure transitions; held to the same contract suites as [`super::DynamoJobs`].

mod control;
mod fan_out;
mod holdings;
mod lifecycle;
mod parking;
mod queries;
mod quota;
mod sweep;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::{Job, JobGroup, JobGroupId, JobId, UserId};
use crate::holdings::{Coverage, HoldingKey};
use crate::store::FanOut;

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
