//! The fetcher's batch handling without AWS: `handle_records` over the in-memory fakes of every
//! port and the sandbox provider, with SQS records shaped as Lambda's mapping hands them.
//! Duplicates counted once, 429s and limiter waits deferred by delayed copies (never a spent
//! attempt), transient failures reported as partial batch failures, the last attempt failing
//! the job, messages that can never succeed dead-lettered, a V1 account signing in once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsMessage;
use chrono::{Days, Utc};
use fetcher::deps::{Deps, Ports};
use sandbox::{FaultSpec, Limits, Sandbox, SandboxConfig};
use shared::clock::{Clock, SystemClock};
use shared::crypto::LocalKeys;
use shared::domain::{
    ApiKeyId, DataSource, DataSourceId, EndpointRef, IssueCode, Job, JobGroup, JobGroupId,
    JobGroupStatus, JobId, JobStatus, Plan, User, UserId,
};
use shared::holdings::HoldingKey;
use shared::holdings::read::holding_rows;
use shared::limiter::store::MemoryLimits;
use shared::queue::{JobMessage, MemoryJobQueue, RecordingControl};
use shared::store::memory::{MemoryAccounts, MemoryJobs, MemorySchedules};
use shared::store::{
    ApiKeyRecord, DataSourceStore, FanOutCursor, FanOutStore, HoldingStore, JobQueries, UserStore,
};
use shared::vault::Vault;

const KEY: &str = "hermetic-key";

/// The fetcher over fakes, a sandbox, and a user whose key is stored.
struct Rig {
    sandbox: Sandbox,
    deps: Deps,
    jobs: Arc<MemoryJobs>,
    archive: Arc<shared::archive::MemoryArchive>,
    queue: Arc<MemoryJobQueue>,
    control: Arc<RecordingControl>,
    accounts: Arc<MemoryAccounts>,
    user: UserId,
}

async fn rig(plan: sandbox::Plan) -> Rig {
    let plan_name = plan.name().to_lowercase();
    let sandbox = Sandbox::start_with(
        SandboxConfig {
            keys: vec![format!("{KEY}:{plan_name}").parse().unwrap()],
            page_size: 1000,
            today: None,
        },
        Limits {
            retry_after_secs: Some(2),
            ..Limits::default()
        },
    )
    .await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let accounts = Arc::new(MemoryAccounts::default());
    let (jobs, archive) = (
        Arc::new(MemoryJobs::default()),
        Arc::new(shared::archive::MemoryArchive::default()),
    );
    let (queue, control) = (
        Arc::new(MemoryJobQueue::default()),
        Arc::new(RecordingControl::default()),
    );
    let vault = Arc::new(Vault::new(
        accounts.clone(),
        Arc::new(LocalKeys::default()),
        clock.clone(),
    ));
    accounts
        .put_data_source(&DataSource::jquants_v2(sandbox.base_url()))
        .await
        .unwrap();
    let user = new_user(&accounts).await;
    let ours: Plan = plan_name.parse().unwrap();
    vault
        .store_api_key(user, &jquants(), ours, KEY.into())
        .await
        .unwrap();
    let ports = Ports {
        jobs: jobs.clone(),
        parked: jobs.clone(),
        sources: accounts.clone(),
        users: accounts.clone(),
        vault,
        control: control.clone(),
        queue: queue.clone(),
        limits: Arc::new(MemoryLimits::default()),
        archive: archive.clone(),
        schedules: Arc::new(MemorySchedules::default()),
    };
    let deps = Deps::new(ports, clock, 5, Duration::from_secs(5));
    Rig {
        sandbox,
        deps,
        jobs,
        archive,
        queue,
        control,
        accounts,
        user,
    }
}

/// A user of the accounts store (the fetcher starts work only for users that exist and are not
/// disabled).
async fn new_user(accounts: &MemoryAccounts) -> UserId {
    let user = User {
        id: UserId::new(),
        name: "quant".into(),
        is_admin: false,
        created_at: Utc::now(),
        disabled: false,
    };
    let key = ApiKeyRecord {
        id: ApiKeyId::new(),
        user_id: user.id,
        hash: format!("hash-of-{}", user.id),
        display_prefix: "mmk_abcdef".into(),
        name: None,
        created_at: Utc::now(),
        revoked_at: None,
    };
    accounts.create_user(&user, &key).await.unwrap();
    user.id
}

fn jquants() -> DataSourceId {
    DataSourceId::parse("jquants-v2").unwrap()
}

/// Eight days of daily bars four months back (inside every plan's window, Free's ends 12
/// weeks ago): one page a job.
fn window() -> (chrono::NaiveDate, chrono::NaiveDate) {
    let today = Utc::now().date_naive();
    (today - Days::new(120), today - Days::new(113))
}

/// A group of `user` with one job per symbol, fanned out (jobs written, messages counted sent).
async fn group(r: &Rig, user: UserId, symbols: &[&str]) -> JobGroup {
    group_on(r, user, jquants(), "eq-bars-daily", symbols).await
}

/// [`group`] on another data source and endpoint.
async fn group_on(
    r: &Rig,
    user: UserId,
    source: DataSourceId,
    endpoint: &str,
    symbols: &[&str],
) -> JobGroup {
    let (from, to) = window();
    let endpoint = EndpointRef::parse(&source, endpoint).unwrap();
    let g = JobGroup {
        id: JobGroupId::new(),
        user_id: user,
        data_source_id: source,
        endpoint,
        params: BTreeMap::from([
            ("from".into(), from.to_string()),
            ("to".into(), to.to_string()),
        ]),
        status: JobGroupStatus::Pending,
        created_at: Utc::now(),
        started_at: None,
        completed_at: None,
        error_message: None,
        total_jobs: symbols.len() as u32,
        completed_jobs: 0,
        failed_jobs: 0,
        cancel_requested_at: None,
        split: Default::default(),
    };
    let jobs: Vec<Job> = symbols
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Job::new(
                g.id,
                JobId::new(i as u32),
                Some(IssueCode::parse(s).unwrap()),
            )
        })
        .collect();
    let codes: Vec<_> = jobs.iter().map(|j| j.symbol.clone()).collect();
    r.jobs.create_group(&g, &codes).await.unwrap();
    r.jobs.write_jobs(&jobs).await.unwrap();
    let n = jobs.len() as u32;
    for cursor in [FanOutCursor::Written, FanOutCursor::Enqueued] {
        assert!(r.jobs.advance_fan_out(g.id, cursor, 0, n).await.unwrap());
    }
    g
}

/// The record Lambda's SQS mapping hands the function for a job message.
fn record(id: &str, group: JobGroupId, job: u32, receive_count: u32) -> SqsMessage {
    body_record(
        id,
        &serde_json::to_string(&JobMessage {
            job_group_id: group,
            job_id: JobId::new(job),
        })
        .unwrap(),
        receive_count,
    )
}

fn body_record(id: &str, body: &str, receive_count: u32) -> SqsMessage {
    let mut r = SqsMessage::default();
    r.message_id = Some(id.into());
    r.receipt_handle = Some(format!("handle-{id}"));
    r.body = Some(body.into());
    r.attributes = [
        (
            "ApproximateReceiveCount".to_owned(),
            receive_count.to_string(),
        ),
        ("SentTimestamp".to_owned(), "1764000000000".to_owned()),
    ]
    .into();
    r
}

fn codes(n: usize) -> Vec<&'static str> {
    sandbox::issue_codes()
        .iter()
        .take(n)
        .map(String::as_str)
        .collect()
}

/// Job 0 of `group`, as stored.
async fn job_0(r: &Rig, group: JobGroupId) -> Job {
    r.jobs
        .get_job(group, JobId::new(0))
        .await
        .unwrap()
        .unwrap()
        .1
}

/// The failed message ids of a batch response.
fn failures(resp: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    let mut ids: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids
}

/// The sandbox's bars of `code` over the window, as the job must store them.
fn expected_rows(code: &str) -> usize {
    let (from, to) = window();
    sandbox::trading_days(from, to)
        .filter_map(|d| sandbox::daily_bar(code, d, sandbox::Plan::Premium))
        .count()
}

async fn stored_rows(r: &Rig, user: UserId, code: &str) -> usize {
    // Read back as the data route reads them: the user's holding of the issue, its pieces'
    // archived pages.
    let (from, to) = window();
    let endpoint = shared::catalog::find(&jquants(), "eq-bars-daily").unwrap();
    let key = HoldingKey {
        user,
        data_source: jquants(),
        series: "eq-bars-daily".into(),
        symbol: code.into(),
    };
    let held = r.jobs.holdings(&[key]).await.unwrap().remove(0);
    holding_rows(
        r.archive.as_ref(),
        endpoint,
        &BTreeMap::new(),
        &held,
        (from, to),
        Utc::now(),
        None,
    )
    .await
    .unwrap()
    .len()
}

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

/// A J-Quants V1 account stored as a login: the first job signs in and takes an id token (two
/// renewal requests, each under a permit), seals both tokens back into the credential, and the
/// next batch reuses the warm session: no second sign-in.
#[tokio::test]
async fn a_v1_account_signs_in_once_and_seals_its_tokens_back() {
    const MAIL: &str = "quant@example.com";
    let r = rig(sandbox::Plan::Light).await;
    r.sandbox
        .add_v1_user(MAIL, "correct horse", sandbox::Plan::Light);
    let v1 = DataSource {
        id: DataSourceId::parse("jquants-v1").unwrap(),
        name: "J-Quants V1".into(),
        description: "the legacy token flow".into(),
        base_url: r.sandbox.v1_base_url(),
        api_version: shared::domain::ApiVersion::V1,
        ..DataSource::jquants_v2("")
    };
    r.deps.ports.sources.put_data_source(&v1).await.unwrap();
    let login = shared::domain::CredentialSecret::V1Login {
        mail_address: MAIL.to_owned().into(),
        password: "correct horse".to_owned().into(),
    };
    r.deps
        .ports
        .vault
        .store(r.user, &v1.id, Plan::Light, &login, None)
        .await
        .unwrap();
    let stored = r
        .deps
        .ports
        .vault
        .record(r.user, &v1.id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.refresh_token.is_none() && stored.id_token.is_none());
    for batch in 0..2 {
        let g = group_on(&r, r.user, v1.id.clone(), "prices-daily-quotes", &codes(1)).await;
        let resp =
            fetcher::handle_records(vec![record(&format!("v1-{batch}"), g.id, 0, 1)], &r.deps)
                .await
                .unwrap();
        assert!(resp.batch_item_failures.is_empty());
        assert_eq!(
            job_0(&r, g.id).await.status,
            JobStatus::Completed,
            "batch {batch}"
        );
    }
    let by_path = r.sandbox.stats().keys[MAIL].by_path.clone();
    assert_eq!(by_path.get("/token/auth_user"), Some(&1), "{by_path:?}");
    assert_eq!(by_path.get("/token/auth_refresh"), Some(&1), "{by_path:?}");
    assert_eq!(by_path.get("/prices/daily_quotes"), Some(&2), "{by_path:?}");
    let stored = r
        .deps
        .ports
        .vault
        .record(r.user, &v1.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.refresh_token.is_some() && stored.id_token.is_some(),
        "renewed tokens sealed into the credential"
    );
}
