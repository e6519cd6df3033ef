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
    /// Stores the first administrator with its first key, once per deployment: `false` (and
    /// nothing stored) when an administrator was bootstrapped before.
    async fn create_first_admin(&self, user: &User, key: &ApiKeyRecord)
    -> Result<bool, StoreError>;
    /// A user by id, read strongly consistently: a user disabled a moment ago reads
    /// `disabled`. The fetcher and the scheduler ask this (or [`Self::user_is_active`])
    /// before they start work for a user.
    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// Whether work may start for `id`: the user exists and is not disabled.
    async fn user_is_active(&self, id: UserId) -> Result<bool, StoreError> {
        Ok(self.get_user(id).await?.is_some_and(|u| !u.disabled))
    }
    /// One page of users in id order (ids grow with creation time), those after `after`: the
    /// page and the id the next page resumes after (`None` after the last page).
    async fn list_users(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<(Vec<User>, Option<UserId>), StoreError>;
    /// Disables (`true`) or re-enables a user: effective at once for every key of theirs (the
    /// key items carry the flag and authentication reads them strongly consistently). The
    /// user as now stored, or `None` for an unknown user.
    async fn set_disabled(&self, id: UserId, disabled: bool) -> Result<Option<User>, StoreError>;
    /// The active key whose hash is `hash`, with its owner, in one strongly consistent read
    /// (the key item carries a copy of the owner's fields, written with it, `disabled`
    /// included). A revoked key is not found.
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
    /// Revokes every active key of `user` at `now`, the last one too (an administrator's
    /// kill switch); they stop authenticating at once. How many were revoked, or
    /// [`KeyRefused::NotFound`] for an unknown user.
    async fn revoke_all_api_keys(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Result<usize, KeyRefused>, StoreError>;
    /// Stores `user`'s active key `id` under `hash` instead (the same secret hashed with the
    /// current pepper, after it matched under the previous one), atomically: it authenticates
    /// under the new hash and no longer under the old one. [`KeyRing::rehash`]'s refusals.
    async fn rehash_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        hash: &str,
    ) -> Result<Result<(), KeyRefused>, StoreError>;
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
