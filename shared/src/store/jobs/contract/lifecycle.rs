//! The job lifecycle contracts: start under a lease, checkpoints, releases, finishing with
//! the group's counters, duplicates counted once; batches of jobs started and finished together.

use chrono::Duration;

use crate::clock::test_epoch as t0;
use crate::domain::{Checkpoint, Job, JobGroupStatus, JobId, JobStatus, Release, ResponseData};
use crate::store::{FinishOutcome, JobResult, JobStore, StartOutcome, StoreError};

use super::*;

/// The job life cycle: start, retry, finish exactly once, counters exact, the group ends once.
pub async fn job_store(store: &dyn JobStore) {
    let (g, jobs) = group(30);
    create_with_jobs(store, &g, &jobs).await;
    assert!(matches!(
        store.create_group(&g, &[]).await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(store.get_group(g.id).await.unwrap(), Some(g.clone()));
    assert_eq!(
        store.list_jobs(g.id).await.unwrap(),
        jobs,
        "listing returns every job in order"
    );
    let (rg, rj) = store.get_job(g.id, JobId::new(7)).await.unwrap().unwrap();
    assert_eq!((rg, rj), (g.clone(), jobs[7].clone()));
    assert_eq!(store.get_job(g.id, JobId::new(99)).await.unwrap(), None);

    let now = t0() + Duration::seconds(5);
    let StartOutcome::Started(j0) = store
        .start_job(&g, JobId::new(0), now, LEASE)
        .await
        .unwrap()
    else {
        panic!("a pending job starts");
    };
    assert_eq!(
        (j0.status, j0.started_at, j0.retry_count),
        (JobStatus::Running, Some(now), 0)
    );
    let running = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!(
        (running.status, running.started_at),
        (JobGroupStatus::Running, Some(now))
    );

    assert_eq!(j0.lease_until, Some(now + LEASE));
    let during = now + Duration::seconds(2);
    assert_eq!(
        store
            .start_job(&running, JobId::new(0), during, LEASE)
            .await
            .unwrap(),
        StartOutcome::Leased(now + LEASE),
        "a second delivery while the first runs waits for the lease"
    );
    let later = now + LEASE + Duration::seconds(1);
    let StartOutcome::Started(again) = store
        .start_job(&running, JobId::new(0), later, LEASE)
        .await
        .unwrap()
    else {
        panic!("a running job whose lease lapsed starts again as a retry");
    };
    assert_eq!(
        (again.retry_count, again.last_retry_at, again.started_at),
        (1, Some(later), Some(now))
    );
    store
        .release_job(g.id, JobId::new(0), &Release::Failed(None))
        .await
        .unwrap();
    let StartOutcome::Started(third) = store
        .start_job(&running, JobId::new(0), later, LEASE)
        .await
        .unwrap()
    else {
        panic!("a released job starts again at once");
    };
    assert_eq!(
        (third.retry_count, third.lease_until),
        (2, Some(later + LEASE))
    );
    let cp = Checkpoint {
        next_page: "page-3".into(),
        pages: 2,
        rows: 2000,
    };
    store
        .release_job(g.id, JobId::new(0), &Release::Paused(Some(cp.clone())))
        .await
        .unwrap();
    let StartOutcome::Started(resumed) = store
        .start_job(&running, JobId::new(0), later, LEASE)
        .await
        .unwrap()
    else {
        panic!("a paused job starts again at once");
    };
    assert_eq!(
        (resumed.retry_count, resumed.paused, resumed.checkpoint),
        (2, false, Some(cp.clone())),
        "going on after a pause is not a retry, and starts from the checkpoint"
    );
    store
        .release_job(g.id, JobId::new(0), &Release::Failed(Some(cp.clone())))
        .await
        .unwrap();
    let StartOutcome::Started(after_failure) = store
        .start_job(&running, JobId::new(0), later, LEASE)
        .await
        .unwrap()
    else {
        panic!("a released job starts again at once");
    };
    assert_eq!(
        (after_failure.retry_count, after_failure.checkpoint),
        (3, Some(cp))
    );
    assert_eq!(
        store
            .start_job(&g, JobId::new(99), now, LEASE)
            .await
            .unwrap(),
        StartOutcome::NotFound
    );

    let done = JobResult::Completed(ResponseData::summary(20, 2));
    assert_eq!(
        store
            .finish_job(g.id, JobId::new(0), &done, later)
            .await
            .unwrap(),
        FinishOutcome::Recorded
    );
    assert_eq!(
        store
            .finish_job(g.id, JobId::new(0), &done, later)
            .await
            .unwrap(),
        FinishOutcome::AlreadyTerminal,
        "a duplicate is not counted"
    );
    let none = Release::Failed(None);
    store.release_job(g.id, JobId::new(0), &none).await.unwrap();
    store
        .release_job(g.id, JobId::new(99), &none)
        .await
        .unwrap();
    let (_, finished) = store.get_job(g.id, JobId::new(0)).await.unwrap().unwrap();
    assert_eq!(
        (finished.status, finished.lease_until, finished.checkpoint),
        (JobStatus::Completed, None, None),
        "releasing a finished job changes nothing"
    );
    assert!(matches!(
        store
            .start_job(&g, JobId::new(0), later, LEASE)
            .await
            .unwrap(),
        StartOutcome::AlreadyTerminal(_)
    ));
    let c = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!((c.completed_jobs, c.failed_jobs), (1, 0));

    // A pending job can fail without starting (e.g. its credential is gone); a job that never
    // ran cannot complete.
    let failed = JobResult::Failed("credential rejected".into());
    assert_eq!(
        store
            .finish_job(g.id, JobId::new(1), &failed, later)
            .await
            .unwrap(),
        FinishOutcome::Recorded
    );
    assert_eq!(
        store
            .finish_job(g.id, JobId::new(2), &done, later)
            .await
            .unwrap(),
        FinishOutcome::AlreadyTerminal
    );
    assert_eq!(
        store.finalize_group(g.id, later).await.unwrap(),
        None,
        "jobs remain"
    );

    for i in 2..30 {
        store
            .start_job(&running, JobId::new(i), later, LEASE)
            .await
            .unwrap();
        assert_eq!(
            store
                .finish_job(g.id, JobId::new(i), &done, later)
                .await
                .unwrap(),
            FinishOutcome::Recorded
        );
    }
    let end = later + Duration::seconds(1);
    assert_eq!(
        store.finalize_group(g.id, end).await.unwrap(),
        Some(JobGroupStatus::Failed)
    );
    assert_eq!(
        store.finalize_group(g.id, end).await.unwrap(),
        None,
        "a group ends once"
    );
    let fin = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!(
        (fin.completed_jobs, fin.failed_jobs, fin.total_jobs),
        (29, 1, 30)
    );
    assert_eq!(fin.completed_at, Some(end));
    assert_eq!(
        fin.error_message.as_deref(),
        Some("1 of 30 jobs failed; first error: credential rejected")
    );
    let jobs = store.list_jobs(g.id).await.unwrap();
    assert_eq!(jobs[0].response_data, Some(ResponseData::summary(20, 2)));
    assert_eq!(
        jobs[1].error_message.as_deref(),
        Some("credential rejected")
    );
    let by_status = |s| jobs.iter().filter(|j| j.status == s).count() as u32;
    assert_eq!(
        (
            by_status(JobStatus::Completed),
            by_status(JobStatus::Failed)
        ),
        (fin.completed_jobs, fin.failed_jobs)
    );

    let (ok, _) = group(1);
    create_with_jobs(store, &ok, &[Job::new(ok.id, JobId::new(0), None)]).await;
    store
        .start_job(&ok, JobId::new(0), now, LEASE)
        .await
        .unwrap();
    store
        .finish_job(ok.id, JobId::new(0), &done, now)
        .await
        .unwrap();
    assert_eq!(
        store.finalize_group(ok.id, now).await.unwrap(),
        Some(JobGroupStatus::Completed)
    );
    assert_eq!(
        store.get_group(ok.id).await.unwrap().unwrap().error_message,
        None
    );
}

/// A fetcher's batch: its jobs read together, and finished together with exact counters even
/// when one of them is a duplicate.
pub async fn job_batches(store: &dyn JobStore) {
    let (g, jobs) = group(5);
    create_with_jobs(store, &g, &jobs).await;
    let (other, other_jobs) = group(1);
    create_with_jobs(store, &other, &other_jobs).await;
    let read = store
        .get_jobs(&[
            (g.id, JobId::new(3)),
            (other.id, JobId::new(0)),
            (g.id, JobId::new(99)),
            (g.id, JobId::new(0)),
        ])
        .await
        .unwrap();
    assert_eq!(
        read.iter().map(|(rg, j)| (rg.id, j.id)).collect::<Vec<_>>(),
        vec![
            (g.id, JobId::new(3)),
            (other.id, JobId::new(0)),
            (g.id, JobId::new(0))
        ],
        "in the order asked, a missing job left out"
    );
    assert_eq!(read[0], (g.clone(), jobs[3].clone()));

    let now = t0() + Duration::seconds(5);
    let started = store.start_jobs(&g, &jobs, now, LEASE).await.unwrap();
    assert!(started.iter().zip(&jobs).all(|(o, j)| matches!(
        o,
        StartOutcome::Started(s) if s.id == j.id && s.status == JobStatus::Running && s.lease_until == Some(now + LEASE)
    )));
    let (_, stored) = store.get_job(g.id, JobId::new(4)).await.unwrap().unwrap();
    assert_eq!(stored.lease_until, Some(now + LEASE));
    assert_eq!(
        store.get_group(g.id).await.unwrap().unwrap().status,
        JobGroupStatus::Running,
        "the group starts with its first jobs"
    );
    let again = store
        .start_jobs(&g, &jobs[..2], now + Duration::seconds(1), LEASE)
        .await
        .unwrap();
    assert_eq!(
        again,
        vec![StartOutcome::Leased(now + LEASE); 2],
        "a duplicate batch waits for the leases"
    );
    let done = JobResult::Completed(ResponseData::summary(3, 1));
    let outcomes = store
        .finish_jobs(
            g.id,
            &[
                (JobId::new(0), done.clone()),
                (JobId::new(1), JobResult::Failed("HTTP 400".into())),
                (JobId::new(2), done.clone()),
            ],
            now,
        )
        .await
        .unwrap();
    assert_eq!(outcomes, vec![FinishOutcome::Recorded; 3]);
    let c = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!((c.completed_jobs, c.failed_jobs), (2, 1));

    let outcomes = store
        .finish_jobs(
            g.id,
            &[(JobId::new(2), done.clone()), (JobId::new(3), done.clone())],
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        vec![FinishOutcome::AlreadyTerminal, FinishOutcome::Recorded],
        "a duplicate in the batch is not counted, the rest are"
    );
    let c = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!((c.completed_jobs, c.failed_jobs), (3, 1));
    let (_, j1) = store.get_job(g.id, JobId::new(1)).await.unwrap().unwrap();
    assert_eq!(
        (j1.status, j1.error_message.as_deref()),
        (JobStatus::Failed, Some("HTTP 400"))
    );
}
