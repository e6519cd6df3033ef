//! The group control contract: cancel, retry of failed jobs, finalize.

use chrono::Duration;

use crate::clock::test_epoch as t0;
use crate::domain::{JobGroupStatus, JobId, JobStatus, ResponseData};
use crate::store::{FinishOutcome, JobResult, JobStore};

use super::*;

/// Cancel skips what has not run; a retry runs only the failed jobs again, counters exact,
/// and may be repeated.
pub async fn job_cancel_and_retry(store: &dyn JobStore) {
    let (g, jobs) = group(5);
    create_with_jobs(store, &g, &jobs).await;
    let t1 = t0() + Duration::seconds(1);
    let done = JobResult::Completed(ResponseData::summary(1, 1));
    store.start_job(&g, JobId::new(0), t1, LEASE).await.unwrap();
    store
        .finish_job(g.id, JobId::new(0), &done, t1)
        .await
        .unwrap();
    store
        .finish_job(
            g.id,
            JobId::new(1),
            &JobResult::Failed("HTTP 500".into()),
            t1,
        )
        .await
        .unwrap();

    let c = store
        .request_cancel(g.id, t1)
        .await
        .unwrap()
        .expect("a running group can be cancelled");
    assert_eq!(c.cancel_requested_at, Some(t1));
    assert_eq!(
        store
            .request_cancel(g.id, t1 + Duration::seconds(5))
            .await
            .unwrap()
            .unwrap()
            .cancel_requested_at,
        Some(t1)
    );
    for i in 2..5 {
        let r = JobResult::Failed("cancelled before it ran".into());
        assert_eq!(
            store.finish_job(g.id, JobId::new(i), &r, t1).await.unwrap(),
            FinishOutcome::Recorded
        );
    }
    assert_eq!(
        store.finalize_group(g.id, t1).await.unwrap(),
        Some(JobGroupStatus::Failed)
    );
    let ended = store.get_group(g.id).await.unwrap().unwrap();
    assert!(
        ended
            .error_message
            .as_deref()
            .unwrap()
            .starts_with("cancelled by the user; 4 of 5"),
        "{:?}",
        ended.error_message
    );
    assert_eq!(
        store.request_cancel(g.id, t1).await.unwrap(),
        None,
        "an ended group cannot be cancelled"
    );

    let t2 = t1 + Duration::minutes(1);
    let ids: Vec<u32> = store
        .retry_failed(g.id, t2)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|j| j.index())
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 4], "only the failed jobs run again");
    let reopened = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!(
        (
            reopened.status,
            reopened.completed_jobs,
            reopened.failed_jobs,
            reopened.completed_at,
            reopened.error_message.clone(),
            reopened.cancel_requested_at
        ),
        (JobGroupStatus::Running, 1, 0, None, None, None)
    );
    let jobs = store.list_jobs(g.id).await.unwrap();
    assert_eq!(
        jobs[0].status,
        JobStatus::Completed,
        "completed jobs stay completed"
    );
    assert!(jobs[1..].iter().all(|j| j.status == JobStatus::Pending
        && j.retry_count == 1
        && j.error_message.is_none()
        && j.last_retry_at == Some(t2)));
    let again: Vec<u32> = store
        .retry_failed(g.id, t2)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|j| j.index())
        .collect();
    assert_eq!(
        again, ids,
        "a repeated retry lists the same jobs and changes no counter"
    );
    assert_eq!(store.get_group(g.id).await.unwrap().unwrap().failed_jobs, 0);
    for i in 1..5 {
        store
            .start_job(&reopened, JobId::new(i), t2, LEASE)
            .await
            .unwrap();
        store
            .finish_job(g.id, JobId::new(i), &done, t2)
            .await
            .unwrap();
    }
    assert_eq!(
        store.finalize_group(g.id, t2).await.unwrap(),
        Some(JobGroupStatus::Completed)
    );
    let fin = store.get_group(g.id).await.unwrap().unwrap();
    assert_eq!(
        (fin.completed_jobs, fin.failed_jobs, fin.error_message),
        (5, 0, None)
    );
    assert_eq!(
        store.retry_failed(g.id, t2).await.unwrap(),
        None,
        "a completed group has nothing to retry"
    );
}
