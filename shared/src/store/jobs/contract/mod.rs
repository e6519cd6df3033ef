//! Contract suites of the jobs port, run against [`super::MemoryJobs`] here and against
//! [`super::DynamoJobs`] on the emulator (`tests/tests/contract.rs`), so the fake other tests
//! rely on cannot drift from the adapter.

mod control;
mod lifecycle;
mod listing;
mod parked;
mod quota;

pub use control::job_cancel_and_retry;
pub use lifecycle::{job_batches, job_store};
pub use listing::{group_job_listing, group_listing};
pub use parked::parked_jobs;
pub use quota::user_quotas;

use std::collections::BTreeMap;

use chrono::Duration;

use crate::clock::test_epoch as t0;
use crate::domain::{
    DataSourceId, IssueCode, Job, JobGroup, JobGroupId, JobGroupStatus, JobId, UserId,
};
use crate::store::{FanOutCursor, JobStore};

/// The lease the suites start jobs under.
pub const LEASE: Duration = Duration::seconds(90);

/// A group of `total` jobs, one symbol each, not stored.
pub fn group(total: u32) -> (JobGroup, Vec<Job>) {
    let g = JobGroup {
        id: JobGroupId::new(),
        user_id: UserId::new(),
        data_source_id: DataSourceId::parse("jquants-v2").unwrap(),
        endpoint: "eq-bars-daily".parse().unwrap(),
        params: BTreeMap::from([("from".into(), "2024-01-04".into())]),
        status: JobGroupStatus::Pending,
        created_at: t0(),
        started_at: None,
        completed_at: None,
        error_message: None,
        total_jobs: total,
        completed_jobs: 0,
        failed_jobs: 0,
        cancel_requested_at: None,
        split: Default::default(),
    };
    let jobs = (0..total)
        .map(|i| {
            Job::new(
                g.id,
                JobId::new(i),
                Some(IssueCode::parse(&format!("{}", 1300 + i)).unwrap()),
            )
        })
        .collect();
    (g, jobs)
}

/// Creates a group and writes its jobs as a finished fan-out would.
pub(crate) async fn create_with_jobs(store: &dyn JobStore, g: &JobGroup, jobs: &[Job]) {
    let symbols: Vec<_> = jobs.iter().map(|j| j.symbol.clone()).collect();
    store.create_group(g, &symbols).await.unwrap();
    store.write_jobs(jobs).await.unwrap();
    let n = jobs.len() as u32;
    assert!(
        store
            .advance_fan_out(g.id, FanOutCursor::Written, 0, n)
            .await
            .unwrap()
    );
    assert!(
        store
            .advance_fan_out(g.id, FanOutCursor::Enqueued, 0, n)
            .await
            .unwrap()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::jobs::MemoryJobs;

    #[tokio::test]
    async fn the_memory_fake_keeps_the_contracts() {
        job_store(&MemoryJobs::default()).await;
        parked_jobs(&MemoryJobs::default()).await;
        job_batches(&MemoryJobs::default()).await;
        job_cancel_and_retry(&MemoryJobs::default()).await;
        group_listing(&MemoryJobs::default()).await;
        group_job_listing(&MemoryJobs::default()).await;
        user_quotas(&MemoryJobs::default()).await;
    }
}
