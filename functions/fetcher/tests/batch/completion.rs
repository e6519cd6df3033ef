//! A batch of jobs completed, a duplicate counted once; jobs of a disabled data source or
//! user failed or skipped without a provider request.

use super::*;

#[tokio::test]
async fn a_batch_completes_its_jobs_and_counts_a_duplicate_once() {
    let r = rig(sandbox::Plan::Premium).await;
    let symbols = codes(3);
    let g = group(&r, r.user, &symbols).await;
    // Job 0 twice in one batch (SQS delivered it twice): the copy finds the job leased and
    // is kept, back after the lease (if the first holder died, it takes the job over).
    let batch = vec![
        record("m0", g.id, 0, 1),
        record("m1", g.id, 1, 1),
        record("m2", g.id, 2, 1),
        record("m0-again", g.id, 0, 1),
    ];
    let resp = fetcher::handle_records(batch, &r.deps).await.unwrap();
    assert_eq!(failures(&resp), vec!["m0-again".to_owned()]);
    let deferred = r.control.deferred.lock().unwrap().clone();
    assert_eq!(deferred.len(), 1, "{deferred:?}");
    assert_eq!(deferred[0].0, "handle-m0-again");
    assert!(
        (Duration::from_secs(80)..=Duration::from_secs(92)).contains(&deferred[0].1),
        "held back for the lease: {deferred:?}"
    );
    // Delivered again (the job is terminal by now): acknowledged, counted nowhere.
    let late = fetcher::handle_records(vec![record("m0-again", g.id, 0, 2)], &r.deps)
        .await
        .unwrap();
    assert!(
        late.batch_item_failures.is_empty(),
        "a terminal job's copy is acknowledged"
    );
    let stored = r.jobs.get_group(g.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.completed_jobs, stored.failed_jobs),
        (JobGroupStatus::Completed, 3, 0)
    );
    for code in &symbols {
        let want = expected_rows(code);
        assert!(want > 0);
        assert_eq!(stored_rows(&r, r.user, code).await, want, "rows of {code}");
    }
    assert_eq!(r.sandbox.stats().requests(KEY), 3, "each page fetched once");
}

#[tokio::test]
async fn a_disabled_data_source_fails_its_jobs_without_a_request() {
    let r = rig(sandbox::Plan::Premium).await;
    let g = group(&r, r.user, &codes(2)).await;
    let mut ds = DataSource::jquants_v2(r.sandbox.base_url());
    ds.is_enabled = false;
    r.accounts.put_data_source(&ds).await.unwrap();
    let resp = fetcher::handle_records(
        vec![record("m0", g.id, 0, 1), record("m1", g.id, 1, 1)],
        &r.deps,
    )
    .await
    .unwrap();
    assert!(resp.batch_item_failures.is_empty(), "settled, not retried");
    let stored = r.jobs.get_group(g.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.completed_jobs, stored.failed_jobs),
        (JobGroupStatus::Failed, 0, 2)
    );
    let job = job_0(&r, g.id).await;
    assert!(
        job.error_message
            .as_deref()
            .unwrap_or_default()
            .contains("disabled by the operator"),
        "{:?}",
        job.error_message
    );
    assert_eq!(r.sandbox.stats().requests(KEY), 0, "no request to it");
}

#[tokio::test]
async fn a_disabled_user_gets_no_request_sent() {
    let r = rig(sandbox::Plan::Premium).await;
    let g = group(&r, r.user, &codes(1)).await;
    r.accounts.set_disabled(r.user, true).await.unwrap();
    let resp = fetcher::handle_records(vec![record("m0", g.id, 0, 1)], &r.deps)
        .await
        .unwrap();
    assert!(resp.batch_item_failures.is_empty(), "settled, not retried");
    let job = job_0(&r, g.id).await;
    assert!(
        job.error_message
            .as_deref()
            .unwrap_or_default()
            .contains("disabled by an administrator"),
        "{:?}",
        job.error_message
    );
    assert_eq!(r.sandbox.stats().requests(KEY), 0, "no request for them");
}
