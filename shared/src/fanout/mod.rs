//! Fan-out: turning a stored group's symbol list into jobs and job messages, in chunks, after
//! the create call answered. Two cursors on the group make it resumable without duplicates or
//! gaps: jobs `0..written` are written before any of their messages is sent, and messages of
//! jobs `0..enqueued` are sent before the cursor moves. A step repeated after a crash rewrites
//! jobs that nobody can have started yet (their messages were not sent), or resends messages
//! (duplicates, which the fetcher acknowledges without counting). Writing a chunk takes a claim
//! first ([`JobStore::claim_fan_out`]): two steps of one group racing (a duplicate delivery of
//! the fan-out message, a retry's) never write the same chunk, and a step that read the cursor
//! before another moved it and sent the chunk's messages cannot reset those jobs to pending.

#[cfg(feature = "test-util")]
pub mod contract;

use std::time::Instant;

use chrono::TimeDelta;

use crate::clock::Clock;
use crate::domain::{Job, JobGroupId, JobId};
use crate::queue::{JobMessage, JobQueue, QueueError};
use crate::store::{FanOutCursor, JobStore, StoreError};

/// Jobs written, or messages sent, per step.
pub const CHUNK: u32 = 500;

/// How long a claim on a chunk holds: longer than any function's timeout (60 s), so a holder
/// past it has been stopped by Lambda and can write no more.
pub const CLAIM: TimeDelta = TimeDelta::seconds(120);

/// A fan-out step failed; the fan-out message is delivered again and resumes.
#[derive(Debug, thiserror::Error)]
pub enum FanOutError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue refused messages.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// Another step is writing the next chunk: try again once its claim has lapsed.
    #[error("another fan-out step is writing this group's jobs")]
    Busy,
    /// A group split per trading day or per listed issue whose jobs are not planned yet:
    /// plan them first ([`JobStore::plan_days`], [`JobStore::plan_issues`]).
    #[error("the group's jobs are not planned yet")]
    Unplanned,
}

/// Where a fan-out stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Jobs written.
    pub written: u32,
    /// Job messages sent.
    pub enqueued: u32,
    /// Jobs in the group.
    pub total: u32,
}

impl Progress {
    /// Every job written and enqueued.
    pub fn done(&self) -> bool {
        self.enqueued == self.total
    }
}

/// Runs steps until the fan-out is done or `deadline` passes. `None` when the group is gone.
pub async fn run(
    store: &dyn JobStore,
    queue: &dyn JobQueue,
    clock: &dyn Clock,
    group: JobGroupId,
    deadline: Instant,
) -> Result<Option<Progress>, FanOutError> {
    loop {
        let Some(p) = step(store, queue, clock, group).await? else {
            return Ok(None);
        };
        if p.done() || Instant::now() >= deadline {
            return Ok(Some(p));
        }
    }
}

/// One step: send the messages of written jobs, else write the next chunk of jobs.
pub async fn step(
    store: &dyn JobStore,
    queue: &dyn JobQueue,
    clock: &dyn Clock,
    group: JobGroupId,
) -> Result<Option<Progress>, FanOutError> {
    let Some(f) = store.fan_out(group).await? else {
        return Ok(None);
    };
    let Some(total) = f.plan.total() else {
        return Err(FanOutError::Unplanned);
    };
    let total = u32::try_from(total).expect("at most MAX_SYMBOLS jobs");
    let (mut written, mut enqueued) = (f.written, f.enqueued);
    if enqueued < written {
        let to = written.min(enqueued + CHUNK);
        let messages: Vec<JobMessage> = (enqueued..to)
            .map(|i| JobMessage {
                job_group_id: group,
                job_id: JobId::new(i),
            })
            .collect();
        queue.enqueue(&messages).await?;
        if store
            .advance_fan_out(group, FanOutCursor::Enqueued, enqueued, to)
            .await?
        {
            enqueued = to;
        }
    } else if written < total {
        let to = total.min(written + CHUNK);
        let jobs: Vec<Job> = (written..to)
            .filter_map(|i| f.plan.job(group, JobId::new(i)))
            .collect();
        let now = clock.now();
        if !store
            .claim_fan_out(group, written, now, now + CLAIM)
            .await?
        {
            return Err(FanOutError::Busy);
        }
        store.write_jobs(&jobs).await?;
        if store
            .advance_fan_out(group, FanOutCursor::Written, written, to)
            .await?
        {
            written = to;
        }
    }
    Ok(Some(Progress {
        written,
        enqueued,
        total,
    }))
}
