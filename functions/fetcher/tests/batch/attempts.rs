//! Attempts and failures: transient failures as partial batch failures, the last attempt
//! failing the job, messages that can never succeed dead-lettered, a delayed copy keeping its
//! attempts, our own storage failing without judging the job.

use super::*;

#[tokio::test]
async fn a_transient_failure_is_a_partial_batch_failure_and_the_last_attempt_fails_the_job() {
    let r = rig(sandbox::Plan::Premium).await;
    // A second user on a healthy key, in the same batch.
    r.sandbox
        .add_key("healthy-key", sandbox::Plan::Premium, false);
    let healthy = new_user(&r.accounts).await;
    r.deps
        .ports
        .vault
        .store_api_key(healthy, &jquants(), Plan::Premium, "healthy-key".into())
        .await
        .unwrap();
    r.sandbox.set_faults(
        KEY,
        FaultSpec {
            error_rate: 1.0,
            ..FaultSpec::default()
        },
    );
    let sick = group(&r, r.user, &codes(1)).await;
    let fine = group(&r, healthy, &codes(1)).await;
    let resp = fetcher::handle_records(
        vec![record("sick", sick.id, 0, 1), record("fine", fine.id, 0, 1)],
        &r.deps,
    )
    .await
    .unwrap();
    assert_eq!(
        failures(&resp),
        vec!["sick".to_owned()],
        "only the failed job"
    );
    let deferred = r.control.deferred.lock().unwrap().clone();
    assert_eq!(deferred.len(), 1, "{deferred:?}");
    assert_eq!(deferred[0].0, "handle-sick");
    assert!(deferred[0].1 > Duration::ZERO, "backed off: {deferred:?}");
    let fine_g = r.jobs.get_group(fine.id).await.unwrap().unwrap();
    assert_eq!(fine_g.status, JobGroupStatus::Completed);
    // Its fifth delivery is its last attempt: the job fails, the message is done.
    let resp = fetcher::handle_records(vec![record("sick-5", sick.id, 0, 5)], &r.deps)
        .await
        .unwrap();
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let job = job_0(&r, sick.id).await;
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    assert!(
        job.error_message
            .as_deref()
            .unwrap_or_default()
            .contains("500"),
        "{job:?}"
    );
    let g = r.jobs.get_group(sick.id).await.unwrap().unwrap();
    assert_eq!((g.status, g.failed_jobs), (JobGroupStatus::Failed, 1));
}

#[tokio::test]
async fn messages_that_can_never_succeed_are_dead_lettered() {
    let r = rig(sandbox::Plan::Premium).await;
    let g = group(&r, r.user, &codes(1)).await;
    let resp = fetcher::handle_records(
        vec![
            record("no-such-job", g.id, 7, 1),
            body_record("garbage", "{not json", 1),
            record("fine", g.id, 0, 1),
        ],
        &r.deps,
    )
    .await
    .unwrap();
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let dead = r.control.dead_letters.lock().unwrap().clone();
    let reasons: Vec<&str> = dead.iter().map(|(_, why)| why.as_str()).collect();
    assert_eq!(
        reasons,
        vec!["message names no stored job", "unparseable job message"],
        "{dead:?}"
    );
    let job = job_0(&r, g.id).await;
    assert_eq!(job.status, JobStatus::Completed);
}

#[tokio::test]
async fn a_delayed_copy_does_not_start_the_job_s_attempts_again() {
    let r = rig(sandbox::Plan::Premium).await;
    r.sandbox.set_faults(
        KEY,
        FaultSpec {
            error_rate: 1.0,
            ..FaultSpec::default()
        },
    );
    let g = group(&r, r.user, &codes(1)).await;
    // Four attempts failed already (the job's own count); what arrives now is a delayed copy
    // of its message (a pause or a stop before a deadline sends one), received once.
    let mut job = job_0(&r, g.id).await;
    job.retry_count = 4;
    r.jobs.write_jobs(&[job]).await.unwrap();
    let resp = fetcher::handle_records(vec![record("copy", g.id, 0, 1)], &r.deps)
        .await
        .unwrap();
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let job = job_0(&r, g.id).await;
    assert_eq!(
        job.status,
        JobStatus::Failed,
        "the fifth attempt was the last: {job:?}"
    );
}

/// An archive whose storage is down.
#[derive(Debug)]
struct DownArchive;

#[async_trait::async_trait]
impl shared::archive::RawArchive for DownArchive {
    async fn put(&self, _key: &str, _body: &[u8]) -> Result<(), shared::archive::ArchiveError> {
        Err(shared::archive::ArchiveError(anyhow::anyhow!(
            "S3 unavailable"
        )))
    }
    async fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, shared::archive::ArchiveError> {
        Err(shared::archive::ArchiveError(anyhow::anyhow!(
            "S3 unavailable"
        )))
    }
    fn uri(&self, _prefix: &shared::archive::JobPrefix) -> String {
        "s3://down/".into()
    }
    async fn delete_prefix(&self, _prefix: &str) -> Result<u64, shared::archive::ArchiveError> {
        Err(shared::archive::ArchiveError(anyhow::anyhow!(
            "S3 unavailable"
        )))
    }
}

#[tokio::test]
async fn our_own_storage_failing_sends_the_message_back_without_judging_the_job() {
    let mut r = rig(sandbox::Plan::Premium).await;
    r.deps.ports.archive = Arc::new(DownArchive);
    let g = group(&r, r.user, &codes(1)).await;
    // Even on what would be its last attempt, an outage of our storage fails no job.
    let resp = fetcher::handle_records(vec![record("m0", g.id, 0, 5)], &r.deps)
        .await
        .unwrap();
    assert_eq!(failures(&resp), vec!["m0".to_owned()], "delivered again");
    let job = job_0(&r, g.id).await;
    assert_eq!(job.status, JobStatus::Running, "{job:?}");
    assert_eq!(
        r.jobs.get_group(g.id).await.unwrap().unwrap().failed_jobs,
        0
    );
}
