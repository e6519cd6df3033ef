//! What a warm fetcher keeps between invocations: the ports, the provider client, and short
//! caches of data sources and opened credentials (so steady state makes no KMS call per job).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use shared::aws::Clients;
use shared::clock::{Clock, SystemClock};
use shared::config::Config;
use shared::crypto::{KmsCipher, SecretCipher};
use shared::domain::{CredentialSecret, DataSource, DataSourceId, UserId};
use shared::jquants::JQuantsClient;
use shared::store::dynamo::{DynamoAccounts, DynamoJobs, DynamoRows};
use shared::store::{CredentialStore, DataSourceStore, JobStore, RowStore};
use tokio::sync::Mutex;

/// How long a data source definition is reused before it is read again.
pub(crate) const SOURCE_TTL: Duration = Duration::from_secs(60);
/// How long an opened credential is reused. Keyed by its `updated_at`, so a replaced
/// credential is never served from the cache.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(600);

type CredentialKey = (UserId, DataSourceId, DateTime<Utc>);

/// The fetcher's dependencies.
#[derive(Debug)]
pub struct Deps {
    /// Groups and jobs.
    pub jobs: Arc<dyn JobStore>,
    /// Data sources.
    pub sources: Arc<dyn DataSourceStore>,
    /// Sealed credentials.
    pub credentials: Arc<dyn CredentialStore>,
    /// Opens credentials.
    pub cipher: Arc<dyn SecretCipher>,
    /// Where rows go.
    pub rows: Arc<dyn RowStore>,
    /// The provider client.
    pub provider: JQuantsClient,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Attempts before a transient failure fails a job.
    pub max_attempts: u32,
    pub(crate) source_cache: Mutex<HashMap<DataSourceId, (Instant, DataSource)>>,
    pub(crate) credential_cache: Mutex<HashMap<CredentialKey, (Instant, CredentialSecret)>>,
}

impl Deps {
    /// Dependencies over the given ports.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        jobs: Arc<dyn JobStore>,
        sources: Arc<dyn DataSourceStore>,
        credentials: Arc<dyn CredentialStore>,
        cipher: Arc<dyn SecretCipher>,
        rows: Arc<dyn RowStore>,
        clock: Arc<dyn Clock>,
        max_attempts: u32,
    ) -> Self {
        Self {
            jobs,
            sources,
            credentials,
            cipher,
            rows,
            provider: JQuantsClient::new(Duration::from_secs(20)),
            clock,
            max_attempts,
            source_cache: Mutex::default(),
            credential_cache: Mutex::default(),
        }
    }

    /// The production wiring.
    pub fn from_aws(config: &Config, clients: &Clients) -> Self {
        let accounts = Arc::new(DynamoAccounts::new(
            clients.dynamodb.clone(),
            &config.accounts_table,
        ));
        Self::new(
            Arc::new(DynamoJobs::new(
                clients.dynamodb.clone(),
                &config.jobs_table,
            )),
            accounts.clone(),
            accounts,
            Arc::new(KmsCipher::new(
                clients.kms.clone(),
                &config.credentials_key_id,
            )),
            Arc::new(DynamoRows::new(
                clients.dynamodb.clone(),
                &config.market_data_table,
            )),
            Arc::new(SystemClock),
            config.max_attempts,
        )
    }
}
