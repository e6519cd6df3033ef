//! What a warm fetcher keeps between invocations: the ports (the vault among them, with its
//! cache of opened credentials, so steady state makes no KMS call per job), the limiter, and
//! the provider clients with their sessions ([`crate::providers`]).

use std::sync::Arc;
use std::time::Duration;

use shared::archive::{RawArchive, S3Archive};
use shared::aws::Clients;
use shared::clock::{Clock, SystemClock};
use shared::config::Config;
use shared::crypto::KmsKeys;
use shared::limiter::Limiter;
use shared::limiter::LimiterStore;
use shared::limiter::store::DynamoLimits;
use shared::queue::{JobQueue, MessageControl, SqsJobQueue, SqsMessageControl};
use shared::store::dynamo::{DynamoAccounts, DynamoJobs};
use shared::store::{DataSourceStore, JobStore, ParkedJobs, ScheduleStore, UserStore};
use shared::vault::Vault;

use crate::providers::Providers;

/// How long a started job is held against other deliveries: longer than one invocation may run
/// (the function's `Timeout` is 60 s), far shorter than the queue's visibility timeout (360 s),
/// so a dead fetcher's job is free again by the time its message reappears. Inside an
/// invocation the lease ends a few seconds after its deadline instead, if that is sooner.
pub const JOB_LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(90);

/// The ports the fetcher works through.
#[derive(Debug, Clone)]
pub struct Ports {
    /// Groups and jobs.
    pub jobs: Arc<dyn JobStore>,
    /// Data sources.
    pub sources: Arc<dyn DataSourceStore>,
    /// Users: whether an administrator disabled one (no work starts for them).
    pub users: Arc<dyn UserStore>,
    /// Users' credentials.
    pub vault: Arc<Vault>,
    /// Deferral and dead-lettering of messages.
    pub control: Arc<dyn MessageControl>,
    /// The job queue, for fan-out.
    pub queue: Arc<dyn JobQueue>,
    /// The rate limiter's shared state.
    pub limits: Arc<dyn LimiterStore>,
    /// Jobs waiting longer than a queue delay.
    pub parked: Arc<dyn ParkedJobs>,
    /// Raw provider pages.
    pub archive: Arc<dyn RawArchive>,
    /// The trading calendar schedules are decided against (kept current from every markets
    /// calendar the fetcher reads).
    pub schedules: Arc<dyn ScheduleStore>,
}

/// The fetcher's dependencies.
#[derive(Debug)]
pub struct Deps {
    /// The ports.
    pub ports: Ports,
    /// Permits for every provider request (over `ports.limits`).
    pub limiter: Limiter,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Attempts before a transient failure fails a job.
    pub max_attempts: u32,
    /// See [`JOB_LEASE`].
    pub lease: chrono::TimeDelta,
    /// Print one CloudWatch EMF line per batch to stdout (on in Lambda; off where stdout is
    /// someone's terminal, as in the local stack).
    pub emit_metrics: bool,
    /// The provider requests' timeout (the deadline margin allows for one more).
    pub provider_timeout: Duration,
    /// Split shared budgets fairly between tenants (`Config::fair_share`).
    pub fair_share: bool,
    /// The provider clients and their warm sessions.
    pub(crate) providers: Providers,
}

impl Deps {
    /// Dependencies over the given ports.
    pub fn new(
        ports: Ports,
        clock: Arc<dyn Clock>,
        max_attempts: u32,
        provider_timeout: Duration,
    ) -> Self {
        Self {
            limiter: Limiter::new(ports.limits.clone(), clock.clone()),
            ports,
            providers: Providers::new(provider_timeout),
            clock,
            max_attempts,
            lease: JOB_LEASE,
            emit_metrics: false,
            provider_timeout,
            fair_share: true,
        }
    }

    /// The production wiring.
    pub fn from_aws(config: &Config, clients: &Clients) -> Self {
        let accounts = Arc::new(DynamoAccounts::new(
            clients.dynamodb.clone(),
            &config.accounts_table,
        ));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let keys = Arc::new(KmsKeys::new(
            clients.kms.clone(),
            &config.credentials_key_id,
        ));
        let jobs = Arc::new(DynamoJobs::new(
            clients.dynamodb.clone(),
            &config.jobs_table,
        ));
        let ports = Ports {
            jobs: jobs.clone(),
            parked: jobs.clone(),
            schedules: jobs,
            sources: accounts.clone(),
            users: accounts.clone(),
            vault: Arc::new(Vault::new(accounts, keys, clock.clone())),
            control: Arc::new(SqsMessageControl::new(
                clients.sqs.clone(),
                &config.jobs_queue_url,
                &config.dead_letter_queue_url,
            )),
            queue: Arc::new(SqsJobQueue::new(
                clients.sqs.clone(),
                &config.jobs_queue_url,
                &config.dead_letter_queue_url,
            )),
            limits: Arc::new(DynamoLimits::new(
                clients.dynamodb.clone(),
                &config.rate_limits_table,
            )),
            archive: Arc::new(S3Archive::new(
                clients.s3.clone(),
                &config.raw_payload_bucket,
            )),
        };
        let timeout = Duration::from_secs(config.provider_timeout_secs.into());
        Self {
            fair_share: config.fair_share,
            ..Self::new(ports, clock, config.max_attempts, timeout)
        }
    }
}
