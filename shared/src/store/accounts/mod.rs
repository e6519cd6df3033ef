//! Users with their API keys, data sources and users' sealed credentials, in the accounts
//! table: three small ports ([`UserStore`], [`DataSourceStore`], [`CredentialStore`]), the
//! DynamoDB adapter ([`DynamoAccounts`]), the in-memory fake (`MemoryAccounts`, feature
//! `test-util`) and the contract suites that hold both to one behaviour.

#[cfg(feature = "test-util")]
pub mod contract;
mod dynamo;
mod key_ring;
#[cfg(feature = "test-util")]
mod memory;

pub use dynamo::DynamoAccounts;
pub use key_ring::{KeyRefused, KeyRing, MAX_ACTIVE_KEYS, REVOKED_KEPT};
#[cfg(feature = "test-util")]
pub use memory::MemoryAccounts;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{ApiKeyId, DataSource, DataSourceCredential, DataSourceId, User, UserId};

/// A stored API key: its keyed hash and owner, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The key's id.
    pub id: ApiKeyId,
    /// Owner.
    pub user_id: UserId,
    /// HMAC of the key (hex).
    pub hash: String,
    /// First characters of the key, for listings.
    pub display_prefix: String,
    /// The owner's label for it.
    pub name: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it was revoked; a revoked key never authenticates again.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyRecord {
    /// The record of a freshly generated key of `user`.
    pub fn new(
        user: UserId,
        key: &crate::auth::NewApiKey,
        name: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: ApiKeyId::new(),
            user_id: user,
            hash: key.hash.clone(),
            display_prefix: key.display_prefix.clone(),
            name,
            created_at: now,
            revoked_at: None,
        }
    }
}

/// Users and their API keys.
#[async_trait]
pub trait UserStore: Send + Sync + std::fmt::Debug {
    /// Stores a new user with its first key, atomically.
    async fn create_user(&self, user: &User, key: &ApiKeyRecord) -> Result<(), StoreError>;
    /// A user by id.
    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The active key whose hash is `hash`, with its owner, in one read (the key item carries
    /// a copy of the owner's fields, written with it). A revoked key is not found.
    async fn find_api_key(&self, hash: &str) -> Result<Option<(ApiKeyRecord, User)>, StoreError>;
    /// A user's keys, oldest first, with the [`REVOKED_KEPT`] most recently revoked ones.
    async fn list_api_keys(&self, user: UserId) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Adds a key to its owner's (`key.user_id`); it authenticates at once. The inner error
    /// is the rule that refused it ([`KeyRing::add`]; an unknown owner is
    /// [`KeyRefused::NotFound`]); nothing changed then.
    async fn add_api_key(&self, key: &ApiKeyRecord) -> Result<Result<(), KeyRefused>, StoreError>;
    /// Revokes `user`'s key `id` at `now`: it stops authenticating at once. Returns it as
    /// revoked, or the rule that refused ([`KeyRing::revoke`]).
    async fn revoke_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<Result<ApiKeyRecord, KeyRefused>, StoreError>;
    /// Revokes `user`'s key `id` and adds `new` (a key of the same user; without a name it
    /// takes the old key's) in one atomic change: no moment with both or neither. Returns the
    /// old key as revoked, or the rule that refused ([`KeyRing::rotate`]).
    async fn rotate_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        new: &ApiKeyRecord,
        now: DateTime<Utc>,
    ) -> Result<Result<ApiKeyRecord, KeyRefused>, StoreError>;
}

/// System-managed data sources.
#[async_trait]
pub trait DataSourceStore: Send + Sync + std::fmt::Debug {
    /// Creates or replaces a data source.
    async fn put_data_source(&self, ds: &DataSource) -> Result<(), StoreError>;
    /// A data source by id.
    async fn get_data_source(&self, id: &DataSourceId) -> Result<Option<DataSource>, StoreError>;
    /// Every data source, by id.
    async fn list_data_sources(&self) -> Result<Vec<DataSource>, StoreError>;
}

/// Users' sealed provider credentials, one per (user, data source).
#[async_trait]
pub trait CredentialStore: Send + Sync + std::fmt::Debug {
    /// Creates or replaces the credential.
    async fn put_credential(&self, c: &DataSourceCredential) -> Result<(), StoreError>;
    /// The user's credential for a data source.
    async fn get_credential(
        &self,
        user: UserId,
        ds: &DataSourceId,
    ) -> Result<Option<DataSourceCredential>, StoreError>;
    /// Deletes it; `false` when there was none.
    async fn delete_credential(&self, user: UserId, ds: &DataSourceId) -> Result<bool, StoreError>;
    /// Replaces the credential only if the stored one still has `expected_version` (an
    /// optimistic lock for re-wraps and token updates); `false` when it changed or is gone.
    async fn replace_credential(
        &self,
        c: &DataSourceCredential,
        expected_version: u64,
    ) -> Result<bool, StoreError>;
    /// One page of every credential, in a stable order, for sweeps: the page and the cursor
    /// of the next one (`None` after the last page).
    async fn list_credentials(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<DataSourceCredential>, Option<String>), StoreError>;
}
