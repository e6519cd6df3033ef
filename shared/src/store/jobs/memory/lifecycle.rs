//! A job's run in memory: start, checkpoints, release and its terminal transition with the
//! group's counters and the holdings it adds.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::{MemoryJobs, lock};
use crate::domain::{
    Checkpoint, JobGroup, JobGroupId, JobId, JobStatus, Release, ResponseData, StartRefused,
};
use crate::holdings::Coverage;
use crate::store::jobs::JobLifecycle;
use crate::store::{FinishOutcome, JobResult, StartOutcome, StoreError};

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
