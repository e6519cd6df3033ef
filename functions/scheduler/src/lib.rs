//! The scheduler Lambda's handler. EventBridge invokes it every minute (template.yaml); each
//! tick does the work that must happen on time rather than on a message:
//!
//! - runs users' schedules whose fire time has come ([`schedules`]): one job group per fire
//!   (per chunk of a backfill), days the market is closed skipped;
//! - re-enqueues parked jobs whose time has come (jobs that had to wait longer than SQS can
//!   delay a message, such as for a used-up day quota);
//! - sweeps for stranded work ([`sweep`]): a group that has not moved for [`STALLED_AFTER`]
//!   gets its unfinished jobs' messages again (a lost message would otherwise keep it
//!   `running` for ever) and its counters reconciled from its jobs;
//! - re-wraps credentials after a key rotation ([`rotation`]);
//! - renews J-Quants V1 tokens of accounts whose schedules fire soon ([`tokens`]), so a fire
//!   never waits on a sign-in.
//!
//! A tick is safe to run twice at once: a fire's group id is derived from the fire, so only
//! one tick creates it; a parked job sent twice is a duplicate delivery, which the fetcher
//! counts once.

pub mod rotation;
mod schedules;
pub mod sweep;
pub mod tokens;

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use shared::aws::Clients;
use shared::clock::{Clock, SystemClock};
use shared::config::Config;
use shared::queue::{JobMessage, JobQueue, SqsJobQueue};
use shared::store::dynamo::{DynamoAccounts, DynamoJobs};
use shared::store::{
    CredentialStore, DataSourceStore, JobStore, ParkedJobs, ScheduleStore, StalledGroups, UserStore,
};

pub use sweep::STALLED_AFTER;

/// Parked jobs taken per round; a tick runs rounds until none are due.
const ROUND: usize = 500;
/// Rounds per tick at most: the rest waits for the next minute.
const MAX_ROUNDS: usize = 40;

/// What the scheduler works through.
#[derive(Debug, Clone)]
pub struct Deps {
    /// Schedules, the trading calendar and watermarks.
    pub schedules: Arc<dyn ScheduleStore>,
    /// Groups (created by fires) and their jobs.
    pub jobs: Arc<dyn JobStore>,
    /// Users' credentials: their plans; V1 ones are opened to renew tokens ([`tokens`]).
    pub credentials: Arc<dyn CredentialStore>,
    /// Data sources: a disabled one gets no fire and no calendar read.
    pub sources: Arc<dyn DataSourceStore>,
    /// Users: a disabled one's schedules do not fire.
    pub users: Arc<dyn UserStore>,
    /// Parked jobs.
    pub parked: Arc<dyn ParkedJobs>,
    /// Groups that stopped moving.
    pub stalled: Arc<dyn StalledGroups>,
    /// How long a group may stand still before it is swept.
    pub stalled_after: chrono::TimeDelta,
    /// The job queue.
    pub queue: Arc<dyn JobQueue>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Credentials' envelopes, for the re-wrap after a key rotation ([`rotation`]); `None`
    /// leaves the sweep to `POST /v1/admin/key-rotation`.
    pub vault: Option<Arc<shared::vault::Vault>>,
    /// The provider client and limiter for renewing V1 tokens before fires ([`tokens`]);
    /// `None` (or no vault) leaves renewals to the fetcher.
    pub renewal: Option<tokens::Renewal>,
}

impl Deps {
    /// The production wiring.
    pub fn from_aws(config: &Config, clients: &Clients) -> Self {
        let jobs = Arc::new(DynamoJobs::new(
            clients.dynamodb.clone(),
            &config.jobs_table,
        ));
        let accounts = Arc::new(DynamoAccounts::new(
            clients.dynamodb.clone(),
            &config.accounts_table,
        ));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let accounts_for_vault = accounts.clone();
        Self {
            schedules: jobs.clone(),
            jobs: jobs.clone(),
            credentials: accounts.clone(),
            sources: accounts.clone(),
            users: accounts,
            parked: jobs.clone(),
            stalled: jobs,
            stalled_after: chrono::TimeDelta::seconds(config.stalled_after_secs.into()),
            queue: Arc::new(SqsJobQueue::new(
                clients.sqs.clone(),
                &config.jobs_queue_url,
                &config.dead_letter_queue_url,
            )),
            vault: Some(Arc::new(shared::vault::Vault::new(
                accounts_for_vault,
                Arc::new(shared::crypto::KmsKeys::new(
                    clients.kms.clone(),
                    &config.credentials_key_id,
                )),
                clock.clone(),
            ))),
            renewal: Some(tokens::Renewal {
                jquants: Arc::new(shared::jquants::JQuantsClient::new(
                    std::time::Duration::from_secs(config.provider_timeout_secs.into()),
                )),
                limiter: Arc::new(shared::limiter::Limiter::new(
                    Arc::new(shared::limiter::store::DynamoLimits::new(
                        clients.dynamodb.clone(),
                        &config.rate_limits_table,
                    )),
                    clock.clone(),
                )),
            }),
            clock,
        }
    }
}

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// Parked jobs sent to the queue again.
    pub requeued: usize,
    /// Job groups created by schedule fires.
    pub groups_created: usize,
    /// Fires skipped because the market was closed that day.
    pub skipped_closed: usize,
    /// Fires skipped as too late to run.
    pub skipped_late: usize,
    /// Fires of incremental schedules skipped while their previous run was still going.
    pub skipped_busy: usize,
    /// Fires that could not run as their schedule stands (recorded on the schedule).
    pub refused: usize,
    /// Trading-calendar reads requested.
    pub calendar_reads: usize,
    /// Stalled groups swept.
    pub stalled_groups: usize,
    /// Messages sent again for stranded jobs (and fan-outs).
    pub stranded_requeued: usize,
    /// Groups whose counters did not match their jobs, set right.
    pub counters_reconciled: usize,
    /// Credentials re-wrapped onto the current key.
    pub rewrapped: usize,
    /// Accounts whose V1 tokens were renewed ahead of a fire.
    pub tokens_renewed: usize,
    /// Renewals ahead of a fire that failed (the fire's jobs renew as they start).
    pub token_renewals_failed: usize,
}

/// Handles one scheduled event.
pub async fn handle(
    _event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
    deps: &Deps,
) -> Result<TickReport, Error> {
    Ok(tick(deps).await?)
}

/// One tick: schedules, the sweep, then parked jobs. A failure of one part does not keep the
/// others from running; the tick reports the first failure after all ran.
pub async fn tick(deps: &Deps) -> anyhow::Result<TickReport> {
    let mut report = TickReport::default();
    let scheduled = schedules::run(deps, &mut report).await;
    // Swept before parked jobs come due: a job sent again by this tick is not yet seen as
    // stranded (unparked, its group still unmoved) and sent twice.
    let swept = sweep::run(deps, &mut report).await;
    let parked = requeue_parked(deps, &mut report).await;
    let rewrapped = rotation::run(deps, &mut report).await;
    let renewed = tokens::run(deps, &mut report).await;
    if report != TickReport::default() {
        tracing::info!(?report, "tick");
    }
    if report.stranded_requeued + report.counters_reconciled > 0 {
        // CloudWatch reads Embedded Metric Format lines from the function's stdout.
        println!("{}", sweep::emf(&report, deps.clock.now()));
    }
    scheduled
        .and(parked)
        .and(swept)
        .and(rewrapped)
        .and(renewed)
        .map(|()| report)
}

async fn requeue_parked(deps: &Deps, report: &mut TickReport) -> anyhow::Result<()> {
    for _ in 0..MAX_ROUNDS {
        let due = deps.parked.due(deps.clock.now(), ROUND).await?;
        if due.is_empty() {
            break;
        }
        let messages: Vec<JobMessage> = due
            .iter()
            .map(|p| JobMessage {
                job_group_id: p.group,
                job_id: p.job,
            })
            .collect();
        // Sent before taken off the list: a crash in between sends them twice, never not at all.
        deps.queue.enqueue(&messages).await?;
        for p in &due {
            deps.parked.unpark(p).await?;
        }
        report.requeued += due.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};
    use shared::clock::ManualClock;
    use shared::domain::{DataSourceId, Job, JobGroup, JobGroupId, JobGroupStatus, JobId, UserId};
    use shared::queue::MemoryJobQueue;
    use shared::store::FanOutStore;
    use shared::store::memory::MemoryJobs;

    #[tokio::test]
    async fn due_parked_jobs_are_sent_once_and_taken_off_the_list() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap();
        let jobs = Arc::new(MemoryJobs::default());
        let queue = Arc::new(MemoryJobQueue::default());
        let clock = Arc::new(ManualClock::new(t0));
        let group = JobGroup {
            id: JobGroupId::new(),
            user_id: UserId::new(),
            data_source_id: DataSourceId::parse("jquants-v2").unwrap(),
            endpoint: "eq-bars-daily".parse().unwrap(),
            params: Default::default(),
            status: JobGroupStatus::Pending,
            created_at: t0,
            started_at: None,
            completed_at: None,
            error_message: None,
            total_jobs: 3,
            completed_jobs: 0,
            failed_jobs: 0,
            cancel_requested_at: None,
            split: Default::default(),
        };
        jobs.create_group(&group, &[None, None, None])
            .await
            .unwrap();
        let pending: Vec<_> = (0..3)
            .map(|i| Job::new(group.id, JobId::new(i), None))
            .collect();
        jobs.write_jobs(&pending).await.unwrap();
        jobs.park(group.id, JobId::new(0), t0 + TimeDelta::hours(2))
            .await
            .unwrap();
        jobs.park(group.id, JobId::new(2), t0 + TimeDelta::hours(9))
            .await
            .unwrap();
        let deps = Deps {
            schedules: Arc::new(shared::store::memory::MemorySchedules::default()),
            jobs: jobs.clone(),
            credentials: Arc::new(shared::store::memory::MemoryAccounts::default()),
            sources: Arc::new(shared::store::memory::MemoryAccounts::default()),
            users: Arc::new(shared::store::memory::MemoryAccounts::default()),
            parked: jobs.clone(),
            stalled: jobs.clone(),
            // Job 1 has no message in this set-up: the sweep would send it (tests/tests/sweep.rs).
            stalled_after: TimeDelta::days(365),
            queue: queue.clone(),
            clock: clock.clone(),
            vault: None,
            renewal: None,
        };
        assert_eq!(tick(&deps).await.unwrap().requeued, 0, "nothing due yet");
        clock.advance(TimeDelta::hours(2));
        assert_eq!(tick(&deps).await.unwrap().requeued, 1);
        assert_eq!(tick(&deps).await.unwrap().requeued, 0, "sent once");
        clock.advance(TimeDelta::hours(8));
        assert_eq!(tick(&deps).await.unwrap().requeued, 1);
        let sent: Vec<_> = queue.drain().iter().map(|m| m.job_id.index()).collect();
        assert_eq!(sent, vec![0, 2]);
    }
}
