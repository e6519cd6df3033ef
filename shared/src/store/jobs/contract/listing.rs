//! The listing contracts: a user's groups and a group's jobs, paged and filtered.

use chrono::Duration;

use crate::clock::test_epoch as t0;
use crate::domain::{JobGroupId, JobId, JobStatus, UserId};
use crate::store::{GroupCursor, JobStore};

use super::*;

/// A user's groups list newest first (creation time, then id), page by page with no group
/// twice or missing; another user's groups never show.
pub async fn group_listing(store: &dyn JobStore) {
    let (user, other) = (UserId::new(), UserId::new());
    let mut mine = Vec::new();
    for i in 0..11 {
        let (mut g, _) = group(0);
        g.user_id = user;
        // Some share a creation time: the id orders them.
        g.created_at = t0() + Duration::milliseconds(i / 3 * 1_500);
        store.create_group(&g, &[]).await.unwrap();
        mine.push(g);
    }
    let (mut theirs, _) = group(0);
    theirs.user_id = other;
    store.create_group(&theirs, &[]).await.unwrap();
    mine.sort_by_key(|g| std::cmp::Reverse(GroupCursor::after(g).sort_key()));

    let (mut seen, mut after, mut pages) = (Vec::new(), None, 0);
    loop {
        let (page, next) = store.list_groups(user, after, 4).await.unwrap();
        assert!(page.len() <= 4);
        seen.extend(page);
        pages += 1;
        match next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, mine, "every group once, newest first");
    assert!(pages >= 3, "paged: {pages}");
    assert_eq!(
        store.list_groups(other, None, 10).await.unwrap(),
        (vec![theirs], None)
    );
    assert_eq!(
        store.list_groups(UserId::new(), None, 10).await.unwrap(),
        (vec![], None)
    );
}

/// A group's jobs page by page in id order, each once; filtered by status, each job of that
/// status once; a cursor past the end or another group's id lists nothing.
pub async fn group_job_listing(store: &dyn JobStore) {
    let (g, mut jobs) = group(23);
    let cycle = [JobStatus::Pending, JobStatus::Completed, JobStatus::Running];
    for (i, j) in jobs.iter_mut().enumerate() {
        // Failed jobs are rare: a filtered page skips most of what it looks at.
        j.status = match i {
            3 | 18 => JobStatus::Failed,
            _ => cycle[i % 3],
        };
    }
    create_with_jobs(store, &g, &jobs).await;
    let (other, other_jobs) = group(4);
    create_with_jobs(store, &other, &other_jobs).await;

    for status in [
        None,
        Some(JobStatus::Pending),
        Some(JobStatus::Running),
        Some(JobStatus::Completed),
        Some(JobStatus::Failed),
    ] {
        let want: Vec<(JobId, JobStatus)> = jobs
            .iter()
            .filter(|j| status.is_none_or(|s| j.status == s))
            .map(|j| (j.id, j.status))
            .collect();
        let (mut seen, mut after, mut pages) = (Vec::new(), None, 0);
        loop {
            let (page, next) = store.list_group_jobs(g.id, status, after, 4).await.unwrap();
            assert!(page.len() <= 4, "{status:?}: {}", page.len());
            seen.extend(page.iter().map(|j| (j.id, j.status)));
            pages += 1;
            assert!(pages < 30, "the walk ends");
            match next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, want, "{status:?}: every job once, in id order");
        if want.len() > 4 {
            assert!(pages >= 2, "{status:?}: paged");
        }
    }
    let (page, _) = store
        .list_group_jobs(g.id, None, Some(JobId::new(2)), 3)
        .await
        .unwrap();
    let ids: Vec<u32> = page.iter().map(|j| j.id.index()).collect();
    assert_eq!(ids, [3, 4, 5], "a page resumes after its cursor");
    assert_eq!(page[0], jobs[3]);
    assert_eq!(
        store
            .list_group_jobs(g.id, None, Some(JobId::new(22)), 5)
            .await
            .unwrap(),
        (vec![], None)
    );
    assert_eq!(
        store
            .list_group_jobs(g.id, None, Some(JobId::new(99_999_999)), 5)
            .await
            .unwrap(),
        (vec![], None)
    );
    assert_eq!(
        store
            .list_group_jobs(JobGroupId::new(), None, None, 5)
            .await
            .unwrap(),
        (vec![], None)
    );
    let (theirs, next) = store
        .list_group_jobs(other.id, None, None, 10)
        .await
        .unwrap();
    assert_eq!((theirs, next), (other_jobs, None));
}
