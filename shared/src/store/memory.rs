//! In-memory fakes of the store ports, applying the domain's pure transitions under one lock.
//! Held to the same contract suites as the DynamoDB adapters.

pub use super::jobs::MemoryJobs;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::{
    ApiKeyRecord, CredentialStore, DataSourceStore, KeyRefused, KeyRing, RowScope, RowStore,
    ScheduleStore, StoreError, UserStore,
};
use crate::dataset::Record;
use crate::domain::ScheduleId;
use crate::domain::{ApiKeyId, DataSource, DataSourceCredential, DataSourceId, User, UserId};
use crate::schedule::{Schedule, TradingCalendar};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Users, keys, data sources and credentials in memory.
#[derive(Debug, Default)]
pub struct MemoryAccounts {
    users: Mutex<HashMap<UserId, (User, KeyRing)>>,
    /// Active keys by hash, as authentication finds them.
    keys: Mutex<HashMap<String, ApiKeyRecord>>,
    sources: Mutex<BTreeMap<DataSourceId, DataSource>>,
    credentials: Mutex<BTreeMap<String, DataSourceCredential>>,
}

impl MemoryAccounts {
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
        let mut users = lock(&self.users);
        let mut keys = lock(&self.keys);
        if users.contains_key(&user.id) || keys.contains_key(&key.hash) {
            return Err(StoreError::AlreadyExists);
        }
        users.insert(user.id, (user.clone(), KeyRing::new(vec![key.clone()])));
        keys.insert(key.hash.clone(), key.clone());
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.users).get(&id).map(|(u, _)| u.clone()))
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

/// Rows in memory, keyed like the table.
#[derive(Debug, Default)]
pub struct MemoryRows(Mutex<BTreeMap<(RowScopeKey, String, String), Record>>);

type RowScopeKey = (UserId, &'static str);

#[async_trait]
impl RowStore for MemoryRows {
    async fn put_rows(&self, scope: RowScope, rows: &[Record]) -> Result<(), StoreError> {
        let mut all = lock(&self.0);
        for r in rows {
            let key = (
                (scope.user_id, scope.dataset.as_str()),
                r.partition.clone(),
                r.sort.clone(),
            );
            all.insert(key, r.clone());
        }
        Ok(())
    }

    async fn query_rows(
        &self,
        scope: RowScope,
        partition: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<Record>, StoreError> {
        let all = lock(&self.0);
        Ok(all
            .iter()
            .filter(|((s, p, sort), _)| {
                *s == (scope.user_id, scope.dataset.as_str())
                    && p == partition
                    && from.is_none_or(|f| sort.as_str() >= f)
                    && to.is_none_or(|t| sort.as_str() <= t)
            })
            .map(|(_, r)| r.clone())
            .collect())
    }
}

/// Schedules, the calendar and watermarks in memory.
#[derive(Debug, Default)]
pub struct MemorySchedules {
    schedules: Mutex<BTreeMap<(UserId, ScheduleId), Schedule>>,
    calendar: Mutex<Option<TradingCalendar>>,
    watermarks: Mutex<HashMap<(UserId, String), NaiveDate>>,
}

#[async_trait]
impl ScheduleStore for MemorySchedules {
    async fn save_schedule(&self, schedule: &Schedule) -> Result<bool, StoreError> {
        let mut all = lock(&self.schedules);
        let key = (schedule.user_id, schedule.id);
        let stored = all.get(&key).map(|s| s.version);
        let fits = match stored {
            None => schedule.version == 0,
            Some(v) => v == schedule.version,
        };
        if fits {
            let mut s = schedule.clone();
            s.version += 1;
            all.insert(key, s);
        }
        Ok(fits)
    }

    async fn get_schedule(
        &self,
        user: UserId,
        id: ScheduleId,
    ) -> Result<Option<Schedule>, StoreError> {
        Ok(lock(&self.schedules).get(&(user, id)).cloned())
    }

    async fn list_schedules(&self, user: UserId) -> Result<Vec<Schedule>, StoreError> {
        Ok(lock(&self.schedules)
            .values()
            .filter(|s| s.user_id == user)
            .cloned()
            .collect())
    }

    async fn delete_schedule(&self, user: UserId, id: ScheduleId) -> Result<bool, StoreError> {
        Ok(lock(&self.schedules).remove(&(user, id)).is_some())
    }

    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Schedule>, StoreError> {
        let mut due: Vec<(DateTime<Utc>, Schedule)> = lock(&self.schedules)
            .values()
            .filter_map(|s| s.next_fire().filter(|t| *t <= now).map(|t| (t, s.clone())))
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        Ok(due.into_iter().take(limit).map(|(_, s)| s).collect())
    }

    async fn calendar(&self) -> Result<Option<TradingCalendar>, StoreError> {
        Ok(lock(&self.calendar).clone())
    }

    async fn merge_calendar(&self, newer: &TradingCalendar) -> Result<(), StoreError> {
        let mut cal = lock(&self.calendar);
        *cal = Some(
            cal.as_ref()
                .map_or_else(|| newer.clone(), |c| c.merged(newer)),
        );
        Ok(())
    }

    async fn watermark(&self, user: UserId, key: &str) -> Result<Option<NaiveDate>, StoreError> {
        Ok(lock(&self.watermarks).get(&(user, key.to_owned())).copied())
    }

    async fn advance_watermark(
        &self,
        user: UserId,
        key: &str,
        to: NaiveDate,
    ) -> Result<(), StoreError> {
        let mut w = lock(&self.watermarks);
        let e = w.entry((user, key.to_owned())).or_insert(to);
        *e = (*e).max(to);
        Ok(())
    }
}
