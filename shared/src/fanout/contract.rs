//! The fan-out's contract with the jobs port it runs on: chunks claimed, jobs written, cursors
//! moved, a busy chunk refused, a started job never rewritten.

use chrono::Duration;

use crate::clock::{Clock, ManualClock, test_epoch as t0};
use crate::domain::{Checkpoint, IssueCode, JobGroup, JobId, JobStatus};
use crate::store::{FanOutCursor, FanOutPlan, JobStore, StartOutcome};

use crate::store::jobs::contract::{LEASE, group};

/// Fan-out writes every job once and enqueues every job once, in chunks, resuming from its
/// cursors; a step repeated after an interruption neither skips nor adds jobs.
pub async fn fan_out(store: &dyn JobStore) {
    let (g, jobs) = group(0);
    let symbols: Vec<Option<IssueCode>> = (0..1203)
        .map(|i| Some(IssueCode::parse(&format!("{}", 1000 + i)).unwrap()))
        .collect();
    let g = JobGroup {
        total_jobs: 1203,
        ..g
    };
    assert!(jobs.is_empty());
    store.create_group(&g, &symbols).await.unwrap();
    let f = store.fan_out(g.id).await.unwrap().unwrap();
    assert_eq!((f.plan.total(), f.written, f.enqueued), (Some(1203), 0, 0));
    assert_eq!(f.plan, FanOutPlan::Symbols(symbols.clone()));
    assert!(
        !store
            .advance_fan_out(g.id, FanOutCursor::Written, 7, 9)
            .await
            .unwrap(),
        "a stale cursor is refused"
    );

    let queue = crate::queue::MemoryJobQueue::default();
    let clock = ManualClock::new(t0());
    let first = super::step(store, &queue, &clock, g.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.written, first.enqueued),
        (500, 0),
        "jobs are written before any message"
    );
    assert!(queue.drain().is_empty());
    // An interrupted step: the cursor moved, the messages were never sent. The next step sends them.
    let second = super::step(store, &queue, &clock, g.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.written, second.enqueued), (500, 500));
    let mut sent: Vec<u32> = queue.drain().iter().map(|m| m.job_id.index()).collect();
    let done = super::run(
        store,
        &queue,
        &clock,
        g.id,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(done.done());
    sent.extend(queue.drain().iter().map(|m| m.job_id.index()));
    assert_eq!(
        sent,
        (0..1203).collect::<Vec<_>>(),
        "every job enqueued once, in order"
    );
    let again = super::step(store, &queue, &clock, g.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        again.done() && queue.drain().is_empty(),
        "a finished fan-out does nothing"
    );
    let listed = store.list_jobs(g.id).await.unwrap();
    assert_eq!(listed.len(), 1203, "no gaps, no duplicates");
    assert!(
        listed
            .iter()
            .enumerate()
            .all(|(i, j)| j.id.index() == i as u32
                && j.symbol == symbols[i]
                && j.status == JobStatus::Pending)
    );

    // The race that once lost a job: a second fan-out step (a duplicate delivery of the
    // fan-out message, a retry's) read the written cursor before the first moved it; by the
    // time it writes, the first has sent the chunk's messages and a fetcher runs one of them.
    // Its claim is refused, so it never resets that job to pending (whose finishing write would
    // then be dropped as a duplicate, its one message consumed: pending for ever).
    let (g2, _) = group(0);
    let symbols2: Vec<Option<IssueCode>> = (0..3)
        .map(|i| Some(IssueCode::parse(&format!("{}", 2000 + i)).unwrap()))
        .collect();
    let g2 = JobGroup {
        total_jobs: 3,
        ..g2
    };
    store.create_group(&g2, &symbols2).await.unwrap();
    let now = clock.now();
    let until = now + super::CLAIM;
    assert!(store.claim_fan_out(g2.id, 0, now, until).await.unwrap());
    assert!(
        !store.claim_fan_out(g2.id, 0, now, until).await.unwrap(),
        "a live claim excludes a second writer"
    );
    // The first writer's claim lapsed (it was stopped): the chunk can be claimed again.
    let later = until + Duration::seconds(1);
    assert!(
        store
            .claim_fan_out(g2.id, 0, later, later + super::CLAIM)
            .await
            .unwrap()
    );
    let p = super::run(
        store,
        &queue,
        &clock,
        g2.id,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await;
    assert!(
        matches!(p, Err(super::FanOutError::Busy)),
        "a step finding the chunk claimed is refused: {p:?}"
    );
    clock.advance(Duration::seconds(400));
    let done = super::run(
        store,
        &queue,
        &clock,
        g2.id,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(done.done());
    queue.drain();
    let StartOutcome::Started(_) = store
        .start_job(&g2, JobId::new(1), clock.now(), LEASE)
        .await
        .unwrap()
    else {
        panic!("a pending job starts");
    };
    // The late step: it read `written = 0` before the cursor moved.
    assert!(
        !store
            .claim_fan_out(g2.id, 0, clock.now(), clock.now() + super::CLAIM)
            .await
            .unwrap(),
        "once the cursor moved, the chunk cannot be claimed again"
    );
    let again = super::step(store, &queue, &clock, g2.id)
        .await
        .unwrap()
        .unwrap();
    assert!(again.done() && queue.drain().is_empty());
    let (_, j1) = store.get_job(g2.id, JobId::new(1)).await.unwrap().unwrap();
    assert_eq!(
        j1.status,
        JobStatus::Running,
        "the running job was not reset"
    );

    // A running job's checkpoint is saved with its lease kept; a pending job's is ignored.
    let at = Checkpoint {
        next_page: "k2".into(),
        pages: 2,
        rows: 16,
    };
    store
        .save_checkpoint(g2.id, JobId::new(1), &at)
        .await
        .unwrap();
    store
        .save_checkpoint(g2.id, JobId::new(2), &at)
        .await
        .unwrap();
    let (_, j1) = store.get_job(g2.id, JobId::new(1)).await.unwrap().unwrap();
    let (_, j2) = store.get_job(g2.id, JobId::new(2)).await.unwrap().unwrap();
    assert_eq!(
        (j1.checkpoint, j1.lease_until, j2.checkpoint),
        (Some(at), Some(clock.now() + LEASE), None),
        "the running job keeps its checkpoint and lease"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::jobs::MemoryJobs;

    #[tokio::test]
    async fn the_memory_fake_keeps_the_contract() {
        fan_out(&MemoryJobs::default()).await;
    }
}
