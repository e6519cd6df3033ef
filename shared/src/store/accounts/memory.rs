//! The accounts table in memory: users and keys, data sources, credentials, under one lock;
//! held to the same contract suites as [`super::DynamoAccounts`].

use std::collections::{BTreeMap, HashMap};

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{ApiKeyId, DataSource, DataSourceCredential, DataSourceId, User, UserId};
use crate::store::{
    ApiKeyRecord, CredentialStore, DataSourceStore, KeyRefused, KeyRing, StoreError, UserStore,
};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Users, keys, data sources and credentials in memory.
#[derive(Debug, Default)]
pub struct MemoryAccounts {
    users: Mutex<BTreeMap<UserId, (User, KeyRing)>>,
    /// Whether the first administrator was bootstrapped.
    bootstrapped: Mutex<bool>,
    /// Active keys by hash, as authentication finds them.
    keys: Mutex<HashMap<String, ApiKeyRecord>>,
    sources: Mutex<BTreeMap<DataSourceId, DataSource>>,
    credentials: Mutex<BTreeMap<String, DataSourceCredential>>,
}

impl MemoryAccounts {
    fn insert_user(&self, user: &User, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let mut users = lock(&self.users);
        let mut keys = lock(&self.keys);
        if users.contains_key(&user.id) || keys.contains_key(&key.hash) {
            return Err(StoreError::AlreadyExists);
        }
        users.insert(user.id, (user.clone(), KeyRing::new(vec![key.clone()])));
        keys.insert(key.hash.clone(), key.clone());
        Ok(())
    }

    /// Applies `change` to `user`'s ring and, when it is allowed, brings the authentication
    /// index in line with the ring, under both locks.
    fn change_keys<T>(
        &self,
        user: UserId,
        change: impl FnOnce(&mut KeyRing) -> Result<T, KeyRefused>,
    ) -> Result<Result<T, KeyRefused>, StoreError> {
        let mut users = lock(&self.users);
        let mut keys = lock(&self.keys);
        let Some((_, ring)) = users.get_mut(&user) else {
            return Ok(Err(KeyRefused::NotFound));
        };
        let mut changed = ring.clone();
        let out = match change(&mut changed) {
            Ok(out) => out,
            Err(refused) => return Ok(Err(refused)),
        };
        if changed
            .keys()
            .iter()
            .any(|k| k.revoked_at.is_none() && keys.get(&k.hash).is_some_and(|o| o.id != k.id))
        {
            return Err(StoreError::AlreadyExists);
        }
        keys.retain(|_, k| k.user_id != user);
        for k in changed.keys().iter().filter(|k| k.revoked_at.is_none()) {
            keys.insert(k.hash.clone(), k.clone());
        }
        *ring = changed;
        Ok(Ok(out))
    }
}

#[async_trait]
impl UserStore for MemoryAccounts {
    async fn create_user(&self, user: &User, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.insert_user(user, key)
    }
    async fn create_first_admin(
        &self,
        user: &User,
        key: &ApiKeyRecord,
    ) -> Result<bool, StoreError> {
        let mut done = lock(&self.bootstrapped);
        if *done {
            return Ok(false);
        }
        self.insert_user(user, key)?;
        *done = true;
        Ok(true)
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.users).get(&id).map(|(u, _)| u.clone()))
    }

    async fn list_users(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<(Vec<User>, Option<UserId>), StoreError> {
        let users = lock(&self.users);
        let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let mut rest = users.range((start, std::ops::Bound::Unbounded));
        let page: Vec<User> = rest
            .by_ref()
            .take(limit as usize)
            .map(|(_, (u, _))| u.clone())
            .collect();
        let next = rest.next().and_then(|_| page.last().map(|u| u.id));
        Ok((page, next))
    }

    async fn set_disabled(&self, id: UserId, disabled: bool) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.users).get_mut(&id).map(|(u, _)| {
            u.disabled = disabled;
            u.clone()
        }))
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<(ApiKeyRecord, User)>, StoreError> {
        let users = lock(&self.users);
        let key = lock(&self.keys).get(hash).cloned();
        Ok(key.and_then(|k| users.get(&k.user_id).map(|(u, _)| (k, u.clone()))))
    }

    async fn list_api_keys(&self, user: UserId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        Ok(lock(&self.users)
            .get(&user)
            .map(|(_, ring)| ring.keys().to_vec())
            .unwrap_or_default())
    }

    async fn add_api_key(&self, key: &ApiKeyRecord) -> Result<Result<(), KeyRefused>, StoreError> {
        self.change_keys(key.user_id, |ring| ring.add(key.clone()))
    }

    async fn revoke_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<Result<ApiKeyRecord, KeyRefused>, StoreError> {
        self.change_keys(user, |ring| ring.revoke(id, now))
    }

    async fn rotate_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        new: &ApiKeyRecord,
        now: DateTime<Utc>,
    ) -> Result<Result<ApiKeyRecord, KeyRefused>, StoreError> {
        self.change_keys(user, |ring| ring.rotate(id, new.clone(), now))
    }

    async fn revoke_all_api_keys(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Result<usize, KeyRefused>, StoreError> {
        self.change_keys(user, |ring| Ok(ring.revoke_all(now)))
    }

    async fn rehash_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        hash: &str,
    ) -> Result<Result<(), KeyRefused>, StoreError> {
        self.change_keys(user, |ring| ring.rehash(id, hash))
    }
}

#[async_trait]
impl DataSourceStore for MemoryAccounts {
    async fn put_data_source(&self, ds: &DataSource) -> Result<(), StoreError> {
        lock(&self.sources).insert(ds.id.clone(), ds.clone());
        Ok(())
    }

    async fn get_data_source(&self, id: &DataSourceId) -> Result<Option<DataSource>, StoreError> {
        Ok(lock(&self.sources).get(id).cloned())
    }

    async fn list_data_sources(&self) -> Result<Vec<DataSource>, StoreError> {
        Ok(lock(&self.sources).values().cloned().collect())
    }
}

fn credential_key(user: UserId, ds: &DataSourceId) -> String {
    format!("{user}#{ds}")
}

#[async_trait]
impl CredentialStore for MemoryAccounts {
    async fn put_credential(&self, c: &DataSourceCredential) -> Result<(), StoreError> {
        lock(&self.credentials).insert(credential_key(c.user_id, &c.data_source_id), c.clone());
        Ok(())
    }

    async fn get_credential(
        &self,
        user: UserId,
        ds: &DataSourceId,
    ) -> Result<Option<DataSourceCredential>, StoreError> {
        Ok(lock(&self.credentials)
            .get(&credential_key(user, ds))
            .cloned())
    }

    async fn delete_credential(&self, user: UserId, ds: &DataSourceId) -> Result<bool, StoreError> {
        Ok(lock(&self.credentials)
            .remove(&credential_key(user, ds))
            .is_some())
    }

    async fn replace_credential(
        &self,
        c: &DataSourceCredential,
        expected_version: u64,
    ) -> Result<bool, StoreError> {
        let mut all = lock(&self.credentials);
        match all.get_mut(&credential_key(c.user_id, &c.data_source_id)) {
            Some(stored) if stored.version == expected_version => {
                *stored = c.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn list_credentials(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<DataSourceCredential>, Option<String>), StoreError> {
        let all = lock(&self.credentials);
        let start = cursor.map_or(std::ops::Bound::Unbounded, |c| {
            std::ops::Bound::Excluded(c.to_owned())
        });
        let page: Vec<_> = all
            .range((start, std::ops::Bound::Unbounded))
            .take(limit as usize)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let next = (page.len() == limit as usize)
            .then(|| page.last().map(|(k, _)| k.clone()))
            .flatten()
            .filter(|last| {
                all.range::<String, _>((
                    std::ops::Bound::Excluded(last.clone()),
                    std::ops::Bound::Unbounded,
                ))
                .next()
                .is_some()
            });
        Ok((page.into_iter().map(|(_, v)| v).collect(), next))
    }
}
