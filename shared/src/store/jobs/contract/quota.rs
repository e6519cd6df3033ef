//! The quota contract: a group is created within its owner's limits or not at all, its charge
//! is released when it ends, and fixed windows count per user and per window.

use chrono::Duration;

use super::*;
use crate::domain::{JobId, JobStatus};
use crate::store::jobs::{GroupQuota, QuotaExceeded, UserQuotas, WindowLimit};
use crate::store::{FanOutCursor, JobResult};

const GROUPS: WindowLimit = WindowLimit {
    name: "groups",
    max: 3,
    window_secs: 60,
};

const QUOTA: GroupQuota = GroupQuota {
    max_active_jobs: 10,
    groups: GROUPS,
};

fn of(user: UserId, total: u32) -> (JobGroup, Vec<Option<IssueCode>>) {
    let (mut g, jobs) = group(total);
    g.user_id = user;
    (g, jobs.into_iter().map(|j| j.symbol).collect())
}

/// Active jobs: charged at creation up to the limit, refused beyond it with nothing stored,
/// released when the group ends. Windows: at most `max` a window per user, a new window
/// starts afresh, another user's window is their own.
pub async fn user_quotas<S: JobStore + UserQuotas>(store: &S) {
    let (user, other) = (UserId::new(), UserId::new());
    let now = t0();
    let (a, a_symbols) = of(user, 4);
    assert_eq!(
        store
            .create_group_within(&a, &a_symbols, &QUOTA, now)
            .await
            .unwrap(),
        Ok(())
    );
    assert_eq!(store.active_jobs(user).await.unwrap(), 4);
    let (big, big_symbols) = of(user, 7);
    assert_eq!(
        store
            .create_group_within(&big, &big_symbols, &QUOTA, now)
            .await
            .unwrap(),
        Err(QuotaExceeded::ActiveJobs {
            limit: 10,
            charge: 7
        })
    );
    assert_eq!(
        store.get_group(big.id).await.unwrap(),
        None,
        "nothing stored"
    );
    assert_eq!(store.fan_out(big.id).await.unwrap(), None);
    assert_eq!(store.active_jobs(user).await.unwrap(), 4, "nothing charged");
    let (b, b_symbols) = of(user, 6);
    assert_eq!(
        store
            .create_group_within(&b, &b_symbols, &QUOTA, now)
            .await
            .unwrap(),
        Ok(())
    );
    assert_eq!(store.active_jobs(user).await.unwrap(), 10);
    assert_eq!(store.active_jobs(other).await.unwrap(), 0);

    // Group `a` ends: its charge goes back.
    let jobs: Vec<Job> = a_symbols
        .iter()
        .enumerate()
        .map(|(i, s)| Job::new(a.id, JobId::new(i as u32), s.clone()))
        .collect();
    store.write_jobs(&jobs).await.unwrap();
    store
        .advance_fan_out(a.id, FanOutCursor::Written, 0, 4)
        .await
        .unwrap();
    for j in &jobs {
        store
            .finish_job(a.id, j.id, &JobResult::Failed("HTTP 500".into()), now)
            .await
            .unwrap();
    }
    assert!(store.finalize_group(a.id, now).await.unwrap().is_some());
    assert!(store.finalize_group(a.id, now).await.unwrap().is_none());
    assert_eq!(store.active_jobs(user).await.unwrap(), 6, "released once");
    assert_eq!(
        store.list_jobs(a.id).await.unwrap()[0].status,
        JobStatus::Failed
    );

    // The third group of the window fits; the fourth does not, whatever the room.
    let (c, c_symbols) = of(user, 1);
    assert_eq!(
        store
            .create_group_within(&c, &c_symbols, &QUOTA, now)
            .await
            .unwrap(),
        Ok(())
    );
    let (d, d_symbols) = of(user, 1);
    assert_eq!(
        store
            .create_group_within(&d, &d_symbols, &QUOTA, now + Duration::seconds(30))
            .await
            .unwrap(),
        Err(QuotaExceeded::Window(GROUPS))
    );
    assert_eq!(store.get_group(d.id).await.unwrap(), None, "nothing stored");
    assert_eq!(store.active_jobs(user).await.unwrap(), 7);
    assert_eq!(
        store
            .create_group_within(&d, &d_symbols, &QUOTA, now + Duration::seconds(60))
            .await
            .unwrap(),
        Ok(()),
        "the next window"
    );
    let (e, e_symbols) = of(other, 1);
    assert_eq!(
        store
            .create_group_within(&e, &e_symbols, &QUOTA, now)
            .await
            .unwrap(),
        Ok(())
    );

    let checks = WindowLimit {
        name: "verify",
        max: 2,
        window_secs: 60,
    };
    assert!(store.take(user, &checks, now).await.unwrap());
    assert!(store.take(user, &checks, now).await.unwrap());
    assert!(!store.take(user, &checks, now).await.unwrap());
    assert!(store.take(other, &checks, now).await.unwrap());
    assert!(
        store
            .take(user, &checks, now + Duration::seconds(60))
            .await
            .unwrap()
    );
}
