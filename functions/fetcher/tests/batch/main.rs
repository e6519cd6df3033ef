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

mod attempts;
mod completion;
mod deferral;
mod v1_session;

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
