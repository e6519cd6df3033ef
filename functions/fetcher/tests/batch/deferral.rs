//! Waiting without spending attempts: a provider 429 and a full minute defer jobs by delayed
//! copies.

use super::*;

#[tokio::test]
async fn a_429_defers_the_job_by_a_delayed_copy_without_spending_an_attempt() {
    let r = rig(sandbox::Plan::Premium).await;
    r.sandbox.set_faults(
        KEY,
        FaultSpec {
            burst_429: 1,
            ..FaultSpec::default()
        },
    );
    let g = group(&r, r.user, &codes(1)).await;
    let resp = fetcher::handle_records(vec![record("m0", g.id, 0, 1)], &r.deps)
        .await
        .unwrap();
    assert!(resp.batch_item_failures.is_empty(), "deferred, not failed");
    let copies = r.queue.2.lock().unwrap().clone();
    assert_eq!(copies.len(), 1, "{copies:?}");
    let (copy, delay) = copies[0];
    assert_eq!((copy.job_group_id, copy.job_id), (g.id, JobId::new(0)));
    assert!(
        delay >= Duration::from_secs(2),
        "Retry-After honoured: {delay:?}"
    );
    let job = job_0(&r, g.id).await;
    assert_eq!(job.retry_count, 0, "a pause is not a retry");
    // The copy comes back after its delay (the scope's pause is over by then).
    tokio::time::sleep(delay).await;
    let resp = fetcher::handle_records(vec![record("copy", g.id, 0, 1)], &r.deps)
        .await
        .unwrap();
    assert!(resp.batch_item_failures.is_empty());
    let job = job_0(&r, g.id).await;
    assert_eq!((job.status, job.retry_count), (JobStatus::Completed, 0));
    assert_eq!(r.sandbox.stats().requests(KEY), 2, "the 429, then the page");
}

#[tokio::test]
async fn the_limiter_defers_what_the_minute_cannot_hold_and_fails_nothing() {
    let r = rig(sandbox::Plan::Free).await;
    assert!(r.sandbox.set_rate_limit(KEY, true));
    let g = group(&r, r.user, &codes(8)).await;
    let batch = (0..8)
        .map(|i| record(&format!("m{i}"), g.id, i, 1))
        .collect();
    let resp = fetcher::handle_records(batch, &r.deps).await.unwrap();
    assert!(
        resp.batch_item_failures.is_empty(),
        "waiting is not failing"
    );
    let stored = r.jobs.get_group(g.id).await.unwrap().unwrap();
    let copies = r.queue.2.lock().unwrap().clone();
    assert_eq!(stored.completed_jobs, 5, "a Free minute holds 5 requests");
    assert_eq!(copies.len(), 3, "the rest come back later: {copies:?}");
    assert!(copies.iter().all(|(_, d)| *d > Duration::ZERO));
    let stats = r.sandbox.stats();
    assert_eq!(
        (stats.requests(KEY), stats.keys[KEY].too_many_requests),
        (5, 0)
    );
    for j in r.jobs.list_jobs(g.id).await.unwrap() {
        assert_eq!(j.retry_count, 0, "job {}", j.id.index());
    }
}
