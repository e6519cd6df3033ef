//! The parked jobs contract: parked, found when due, unparked unless parked again.

use chrono::Duration;

use crate::clock::test_epoch as t0;
use crate::domain::{JobId, ResponseData};
use crate::store::{JobResult, JobStore, ParkedJobs};

use super::*;

/// Parked jobs come back when due, earliest first; a re-park for a later time survives the
/// unpark of the earlier one; finished jobs are never parked.
pub async fn parked_jobs<S: JobStore + ParkedJobs>(store: &S) {
    let (g, jobs) = group(4);
    create_with_jobs(store, &g, &jobs).await;
    let at = |s: i64| t0() + Duration::seconds(s);
    store.park(g.id, JobId::new(2), at(3_600)).await.unwrap();
    store.park(g.id, JobId::new(1), at(60)).await.unwrap();
    assert_eq!(store.due(at(59), 10).await.unwrap(), vec![]);
    let due = store.due(at(3_600), 10).await.unwrap();
    assert_eq!(
        due.iter().map(|p| (p.job, p.until)).collect::<Vec<_>>(),
        vec![(JobId::new(1), at(60)), (JobId::new(2), at(3_600))],
        "earliest first, both due"
    );
    assert_eq!(store.due(at(3_600), 1).await.unwrap().len(), 1, "limit");
    let (_, j1) = store.get_job(g.id, JobId::new(1)).await.unwrap().unwrap();
    assert_eq!(j1.parked_until, Some(at(60)));

    // Parked again for later while the scheduler was sending it: the unpark leaves it.
    store.park(g.id, JobId::new(1), at(7_200)).await.unwrap();
    store.unpark(&due[0]).await.unwrap();
    store.unpark(&due[1]).await.unwrap();
    let left = store.due(at(10_000), 10).await.unwrap();
    assert_eq!(
        left.iter().map(|p| (p.job, p.until)).collect::<Vec<_>>(),
        vec![(JobId::new(1), at(7_200))]
    );

    let done = JobResult::Completed(ResponseData::summary(1, 1));
    store
        .start_job(&g, JobId::new(3), at(0), LEASE)
        .await
        .unwrap();
    store
        .finish_job(g.id, JobId::new(3), &done, at(1))
        .await
        .unwrap();
    store.park(g.id, JobId::new(3), at(60)).await.unwrap();
    store.park(g.id, JobId::new(99), at(60)).await.unwrap();
    assert_eq!(
        store.due(at(10_000), 10).await.unwrap().len(),
        1,
        "a finished or missing job is not parked"
    );
    // Finishing a parked job takes it off the list.
    store
        .start_job(&g, JobId::new(1), at(7_200), LEASE)
        .await
        .unwrap();
    store
        .finish_job(g.id, JobId::new(1), &done, at(7_201))
        .await
        .unwrap();
    assert_eq!(store.due(at(10_000), 10).await.unwrap(), vec![]);
}
