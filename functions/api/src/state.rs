//! What the handlers share: the ports, the clock and the names of the system secrets.

use shared::archive::{RawArchive, S3Archive};
use shared::export::{ExportStore, S3Exports};
use std::sync::Arc;
use std::time::Duration;

use shared::aws::Clients;
use shared::clock::{Clock, SystemClock};
use shared::config::{Config, UserLimits};
use shared::crypto::KmsKeys;
use shared::jquants::JQuantsClient;
use shared::limiter::Limiter;
use shared::limiter::store::DynamoLimits;
use shared::queue::{JobQueue, SqsJobQueue};
use shared::secrets::{CachedSecrets, SecretSource, SecretsManager};
use shared::store::dynamo::{DynamoAccounts, DynamoJobs};
use shared::store::jobs::UserQuotas;
use shared::store::{DataSourceStore, HoldingStore, JobStore, ScheduleStore, UserStore};
use shared::vault::Vault;

/// Shared state of the router. Every field is a cheap handle.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Users and API keys.
    pub users: Arc<dyn UserStore>,
    /// Data sources.
    pub sources: Arc<dyn DataSourceStore>,
    /// Users' provider credentials.
    pub vault: Arc<Vault>,
    /// Job groups and jobs.
    pub jobs: Arc<dyn JobStore>,
    /// Users' schedules.
    pub schedules: Arc<dyn ScheduleStore>,
    /// Where job messages go.
    pub queue: Arc<dyn JobQueue>,
    /// For `?verify=true`: one request to the provider with the key being stored.
    pub provider: JQuantsClient,
    /// System secrets, cached for [`SECRET_TTL`].
    pub secrets: Arc<dyn SecretSource>,
    /// System secrets read afresh on every call: the bootstrap secret, whose rotation must
    /// take effect at once.
    pub fresh_secrets: Arc<dyn SecretSource>,
    /// Per-user quotas: active jobs, groups and credential checks a minute.
    pub quotas: Arc<dyn UserQuotas>,
    /// The per-user limits in force.
    pub limits: UserLimits,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The rate limiter's shared state, read (never written) for the rate shown beside a
    /// credential and a job group.
    pub limiter: Arc<Limiter>,
    /// What each user holds.
    pub holdings: Arc<dyn HoldingStore>,
    /// How long fetched data is kept (`None`: for ever).
    pub retention: Option<chrono::TimeDelta>,
    /// Raw provider pages (results export, held data).
    pub archive: Arc<dyn RawArchive>,
    /// Where exports are written and linked from.
    pub exports: Arc<dyn ExportStore>,
    /// Secret id of the API-key hashing key.
    pub pepper_secret_id: String,
    /// Secret id of the admin bootstrap secret.
    pub admin_secret_id: String,
}

/// How long a warm container keeps system secrets before reading them again.
pub const SECRET_TTL: Duration = Duration::from_secs(300);

impl AppState {
    /// The production wiring: DynamoDB, SQS, KMS and Secrets Manager.
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
        Self {
            users: accounts.clone(),
            sources: accounts.clone(),
            vault: Arc::new(Vault::new(accounts, keys, clock.clone())),
            jobs: jobs.clone(),
            holdings: jobs.clone(),
            retention: config.retention(),
            quotas: jobs.clone(),
            schedules: jobs,
            queue: Arc::new(SqsJobQueue::new(
                clients.sqs.clone(),
                &config.jobs_queue_url,
                &config.dead_letter_queue_url,
            )),
            provider: JQuantsClient::new(Duration::from_secs(10)),
            secrets: Arc::new(CachedSecrets::new(
                SecretsManager(clients.secrets.clone()),
                SECRET_TTL,
            )),
            fresh_secrets: Arc::new(SecretsManager(clients.secrets.clone())),
            limits: config.limits,
            limiter: Arc::new(Limiter::new(
                Arc::new(DynamoLimits::new(
                    clients.dynamodb.clone(),
                    &config.rate_limits_table,
                )),
                clock.clone(),
            )),
            clock,
            archive: Arc::new(S3Archive::new(
                clients.s3.clone(),
                &config.raw_payload_bucket,
            )),
            exports: Arc::new(S3Exports::new(
                clients.s3.clone(),
                &config.raw_payload_bucket,
            )),
            pepper_secret_id: config.api_key_pepper_secret_id.clone(),
            admin_secret_id: config.admin_secret_id.clone(),
        }
    }
}
