//! The provider clients and the sessions a warm fetcher keeps between invocations, so a job
//! neither signs in nor reads its data source again when the last one just did.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use shared::domain::{DataSource, DataSourceId, UserId};
use shared::jquants::{JQuantsClient, V1Auth};
use shared::yahoo::YahooClient;
use tokio::sync::Mutex;

/// How long a data source definition is reused before it is read again.
pub(crate) const SOURCE_TTL: Duration = Duration::from_secs(60);

/// A V1 token session, the credential's `updated_at` it was opened from, and when it was
/// opened (it holds the password: reused for at most the vault's cache rule).
pub(crate) type V1Session = (DateTime<Utc>, std::time::Instant, Arc<V1Auth>);

/// The provider clients and what a warm process keeps of each provider between invocations:
/// the J-Quants client (one connection pool), V1 token sessions per account, a Yahoo client
/// (its cookie and crumb) per base URL, and data source definitions and users' standing (an
/// administrator may disable a user) for [`SOURCE_TTL`].
#[derive(Debug)]
pub(crate) struct Providers {
    pub(crate) jquants: JQuantsClient,
    pub(crate) v1_sessions: Mutex<HashMap<(UserId, DataSourceId), V1Session>>,
    pub(crate) yahoo: Mutex<HashMap<String, Arc<YahooClient>>>,
    pub(crate) sources: Mutex<HashMap<DataSourceId, (Instant, DataSource)>>,
    pub(crate) users: Mutex<HashMap<UserId, (Instant, bool)>>,
}

impl Providers {
    /// No session yet; provider requests time out after `timeout`.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            jquants: JQuantsClient::new(timeout),
            v1_sessions: Mutex::default(),
            yahoo: Mutex::default(),
            sources: Mutex::default(),
            users: Mutex::default(),
        }
    }
}
