//! The credential vault: users' provider secrets sealed with envelope encryption, opened with a
//! bounded cache, and re-wrapped to the current KMS key by a resumable rotation sweep.
//!
//! Cache rule: an opened secret is reused for at most [`CACHE_TTL`] and only while the stored
//! record's `updated_at` is the one it was opened from. Every use reads the record (one
//! DynamoDB call), so a replaced or deleted credential is never served from the cache, and
//! steady state makes no KMS call per job.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::clock::Clock;
use crate::crypto::{self, CryptoError, EncryptionContext, KeyService};
use crate::domain::Envelope;
use crate::domain::{CredentialSecret, DataSourceCredential, DataSourceId, Plan, UserId};
use crate::jquants::Token;
use crate::store::{CredentialStore, StoreError};

/// How long an opened secret may be reused.
pub const CACHE_TTL: Duration = Duration::from_secs(600);

/// A vault operation failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Sealing or opening failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The opened secret is not the JSON this data source expects.
    #[error("stored secret is malformed")]
    Malformed,
}

/// What a rotation sweep call did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SweepReport {
    /// The KMS key every envelope should now be wrapped by.
    pub current_key_arn: String,
    /// Records read.
    pub scanned: u64,
    /// Records whose envelopes were re-wrapped to the current key.
    pub rewrapped: u64,
    /// Records already entirely on the current key.
    pub already_current: u64,
    /// Records that changed while being re-wrapped (left for the next sweep).
    pub changed_concurrently: u64,
    /// Records whose re-wrap failed (e.g. their key is disabled).
    pub failed: u64,
    /// Where the next call resumes; `None` when the sweep reached the end.
    pub next_cursor: Option<String>,
}

#[derive(Debug)]
struct Cached {
    updated_at: DateTime<Utc>,
    at: Instant,
    secret: CredentialSecret,
}

/// The vault.
#[derive(Debug)]
pub struct Vault {
    store: Arc<dyn CredentialStore>,
    keys: Arc<dyn KeyService>,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<(UserId, DataSourceId), Cached>>,
}

fn ctx(user: UserId, ds: &DataSourceId, purpose: &'static str) -> EncryptionContext {
    EncryptionContext {
        user_id: user,
        data_source_id: ds.clone(),
        purpose,
    }
}

impl Vault {
    /// A vault over a store and a key service.
    pub fn new(
        store: Arc<dyn CredentialStore>,
        keys: Arc<dyn KeyService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            keys,
            clock,
            cache: Mutex::default(),
        }
    }

    /// Seals and stores an API key credential, replacing any previous one (and its tokens).
    pub async fn store_api_key(
        &self,
        user: UserId,
        ds: &DataSourceId,
        plan: Plan,
        api_key: SecretString,
    ) -> Result<DataSourceCredential, VaultError> {
        self.store(user, ds, plan, &CredentialSecret::ApiKey(api_key), None)
            .await
    }

    /// Seals and stores a credential, replacing any previous one and its tokens; `refresh` is
    /// a J-Quants V1 refresh token the user gave, with when it is taken to expire.
    pub async fn store(
        &self,
        user: UserId,
        ds: &DataSourceId,
        plan: Plan,
        secret: &CredentialSecret,
        refresh: Option<(&SecretString, DateTime<Utc>)>,
    ) -> Result<DataSourceCredential, VaultError> {
        let envelope = crypto::seal(
            self.keys.as_ref(),
            &secret.to_json(),
            &ctx(user, ds, "credentials"),
        )
        .await?;
        let refresh_token = match refresh {
            Some((token, expires)) => Some((
                crypto::seal(self.keys.as_ref(), token, &ctx(user, ds, "refresh_token")).await?,
                expires,
            )),
            None => None,
        };
        let now = self.clock.now();
        let previous = self.store.get_credential(user, ds).await?;
        let record = DataSourceCredential {
            user_id: user,
            data_source_id: ds.clone(),
            plan,
            encrypted_credentials: envelope,
            refresh_token_expired_at: refresh_token.as_ref().map(|(_, at)| *at),
            refresh_token: refresh_token.map(|(e, _)| e),
            id_token: None,
            id_token_expired_at: None,
            created_at: previous.as_ref().map_or(now, |p| p.created_at),
            updated_at: now,
            version: previous.map_or(1, |p| p.version + 1),
        };
        self.store.put_credential(&record).await?;
        self.cache.lock().await.remove(&(user, ds.clone()));
        Ok(record)
    }

    /// The stored record (metadata and sealed secrets), if any.
    pub async fn record(
        &self,
        user: UserId,
        ds: &DataSourceId,
    ) -> Result<Option<DataSourceCredential>, VaultError> {
        Ok(self.store.get_credential(user, ds).await?)
    }

    /// Deletes the credential and any cached copy; `false` when there was none.
    pub async fn delete(&self, user: UserId, ds: &DataSourceId) -> Result<bool, VaultError> {
        self.cache.lock().await.remove(&(user, ds.clone()));
        Ok(self.store.delete_credential(user, ds).await?)
    }

    /// The user's plan and opened secret for a data source, or `None` without a credential.
    pub async fn open(
        &self,
        user: UserId,
        ds: &DataSourceId,
    ) -> Result<Option<(Plan, CredentialSecret)>, VaultError> {
        let Some(record) = self.store.get_credential(user, ds).await? else {
            self.cache.lock().await.remove(&(user, ds.clone()));
            return Ok(None);
        };
        Ok(Some(self.open_record(&record).await?))
    }

    /// The plan and opened secret of a record just read (as [`Vault::open`], without reading
    /// it again).
    pub async fn open_record(
        &self,
        record: &DataSourceCredential,
    ) -> Result<(Plan, CredentialSecret), VaultError> {
        let (user, ds) = (record.user_id, &record.data_source_id);
        let key = (user, ds.clone());
        // Held across the KMS call so concurrent jobs of one user open the secret once.
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.get(&key)
            && c.updated_at == record.updated_at
            && c.at.elapsed() < CACHE_TTL
        {
            return Ok((record.plan, c.secret.clone()));
        }
        let opened = crypto::open(
            self.keys.as_ref(),
            &record.encrypted_credentials,
            &ctx(user, ds, "credentials"),
        )
        .await?;
        let secret = CredentialSecret::from_json(opened.expose_secret())
            .map_err(|_| VaultError::Malformed)?;
        cache.insert(
            key,
            Cached {
                updated_at: record.updated_at,
                at: Instant::now(),
                secret: secret.clone(),
            },
        );
        Ok((record.plan, secret))
    }

    /// Seals and stores V1 tokens with their expiry times, unless the record changed since
    /// `record` was read. Returns whether it was stored.
    pub async fn store_tokens(
        &self,
        record: &DataSourceCredential,
        refresh: Option<(&SecretString, DateTime<Utc>)>,
        id: Option<(&SecretString, DateTime<Utc>)>,
    ) -> Result<bool, VaultError> {
        let (user, ds) = (record.user_id, &record.data_source_id);
        let mut next = record.clone();
        if let Some((token, expires)) = refresh {
            next.refresh_token = Some(
                crypto::seal(self.keys.as_ref(), token, &ctx(user, ds, "refresh_token")).await?,
            );
            next.refresh_token_expired_at = Some(expires);
        }
        if let Some((token, expires)) = id {
            next.id_token =
                Some(crypto::seal(self.keys.as_ref(), token, &ctx(user, ds, "id_token")).await?);
            next.id_token_expired_at = Some(expires);
        }
        next.version = record.version + 1;
        Ok(self.store.replace_credential(&next, record.version).await?)
    }

    /// The record's V1 tokens opened, each with its stored expiry: (refresh, id).
    pub async fn open_tokens(
        &self,
        record: &DataSourceCredential,
    ) -> Result<(Option<Token>, Option<Token>), VaultError> {
        let token = |value: Option<SecretString>, expires: Option<DateTime<Utc>>| {
            value
                .zip(expires)
                .map(|(value, expires_at)| Token { value, expires_at })
        };
        let refresh = self.open_token(record, "refresh_token").await?;
        let id = self.open_token(record, "id_token").await?;
        Ok((
            token(refresh, record.refresh_token_expired_at),
            token(id, record.id_token_expired_at),
        ))
    }

    /// Opens a sealed token of `record` (`purpose`: `refresh_token` or `id_token`).
    pub async fn open_token(
        &self,
        record: &DataSourceCredential,
        purpose: &'static str,
    ) -> Result<Option<SecretString>, VaultError> {
        let env = match purpose {
            "refresh_token" => record.refresh_token.as_ref(),
            "id_token" => record.id_token.as_ref(),
            _ => None,
        };
        let Some(env) = env else { return Ok(None) };
        Ok(Some(
            crypto::open(
                self.keys.as_ref(),
                env,
                &ctx(record.user_id, &record.data_source_id, purpose),
            )
            .await?,
        ))
    }

    /// The key now behind the alias: the one every envelope should be wrapped by.
    ///
    /// # Errors
    /// The key service unavailable.
    pub async fn current_key_arn(&self) -> Result<String, VaultError> {
        Ok(self.keys.current_key_arn().await?)
    }

    /// Re-wraps every envelope not on the key now behind the alias, from `cursor`, reading at
    /// most `max_records` records. Idempotent (a second sweep re-wraps nothing), resumable
    /// (from `next_cursor`), safe beside readers (the data key does not change, so old and new
    /// envelopes open alike) and beside writers (a record that changed meanwhile is left
    /// alone: optimistic lock on `version`).
    pub async fn rotation_sweep(
        &self,
        cursor: Option<String>,
        max_records: u32,
    ) -> Result<SweepReport, VaultError> {
        let current = self.keys.current_key_arn().await?;
        let mut report = SweepReport {
            current_key_arn: current.clone(),
            ..SweepReport::default()
        };
        let mut cursor = cursor;
        while report.scanned < u64::from(max_records) {
            let limit = (u64::from(max_records) - report.scanned).min(100) as u32;
            let (page, next) = self
                .store
                .list_credentials(cursor.as_deref(), limit)
                .await?;
            for record in page {
                report.scanned += 1;
                match self.rewrap(&record, &current).await {
                    Ok(Rewrap::AlreadyCurrent) => report.already_current += 1,
                    Ok(Rewrap::Done) => report.rewrapped += 1,
                    Ok(Rewrap::Changed) => report.changed_concurrently += 1,
                    Err(e) => {
                        tracing::warn!(user_id = %record.user_id, data_source = %record.data_source_id, error = %e, "re-wrap failed");
                        report.failed += 1;
                    }
                }
            }
            cursor = next;
            if cursor.is_none() {
                break;
            }
        }
        report.next_cursor = cursor;
        Ok(report)
    }

    async fn rewrap(
        &self,
        record: &DataSourceCredential,
        current: &str,
    ) -> Result<Rewrap, VaultError> {
        if record.envelopes().all(|(_, e)| e.key_arn == current) {
            return Ok(Rewrap::AlreadyCurrent);
        }
        let mut next = record.clone();
        let (user, ds) = (record.user_id, &record.data_source_id);
        let rewrap_one = |env: Envelope, purpose: &'static str| async move {
            if env.key_arn == current {
                return Ok::<_, VaultError>(env);
            }
            let (edk, arn) = self
                .keys
                .re_encrypt(&env.encrypted_data_key, &ctx(user, ds, purpose))
                .await?;
            Ok(Envelope {
                encrypted_data_key: edk,
                key_arn: arn,
                ..env
            })
        };
        next.encrypted_credentials = rewrap_one(next.encrypted_credentials, "credentials").await?;
        if let Some(e) = next.refresh_token.take() {
            next.refresh_token = Some(rewrap_one(e, "refresh_token").await?);
        }
        if let Some(e) = next.id_token.take() {
            next.id_token = Some(rewrap_one(e, "id_token").await?);
        }
        next.version = record.version + 1;
        let stored = self.store.replace_credential(&next, record.version).await?;
        Ok(if stored {
            Rewrap::Done
        } else {
            Rewrap::Changed
        })
    }
}

enum Rewrap {
    AlreadyCurrent,
    Done,
    Changed,
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::crypto::LocalKeys;
    use crate::store::memory::MemoryAccounts;

    fn vault() -> (Vault, Arc<LocalKeys>, Arc<MemoryAccounts>) {
        let keys = Arc::new(LocalKeys::default());
        let store = Arc::new(MemoryAccounts::default());
        (
            Vault::new(store.clone(), keys.clone(), Arc::new(SystemClock)),
            keys,
            store,
        )
    }

    fn ds() -> DataSourceId {
        DataSourceId::parse("jquants-v2").unwrap()
    }

    fn api_key(c: &CredentialSecret) -> String {
        let CredentialSecret::ApiKey(k) = c else {
            panic!("not an API key: {c:?}")
        };
        k.expose_secret().to_owned()
    }

    #[tokio::test]
    async fn a_ciphertext_moved_to_another_user_does_not_open() {
        let (v, _, store) = vault();
        let (a, b) = (UserId::new(), UserId::new());
        let rec_a = v
            .store_api_key(a, &ds(), Plan::Light, "key-of-a".into())
            .await
            .unwrap();
        let mut rec_b = v
            .store_api_key(b, &ds(), Plan::Light, "key-of-b".into())
            .await
            .unwrap();
        rec_b.encrypted_credentials = rec_a.encrypted_credentials.clone();
        rec_b.updated_at += chrono::Duration::seconds(1);
        store.put_credential(&rec_b).await.unwrap();
        assert!(matches!(
            v.open(b, &ds()).await,
            Err(VaultError::Crypto(CryptoError::Invalid))
        ));
        assert_eq!(
            api_key(&v.open(a, &ds()).await.unwrap().unwrap().1),
            "key-of-a"
        );
    }

    /// A V1 login with a given refresh token: both sealed (the token under its own purpose),
    /// both opened back; a later API key replaces the tokens too.
    #[tokio::test]
    async fn a_v1_login_and_its_refresh_token_are_sealed_apart() {
        let (v, _, _) = vault();
        let (u, v1) = (UserId::new(), DataSourceId::parse("jquants-v1").unwrap());
        let login = CredentialSecret::V1Login {
            mail_address: "q@example.com".into(),
            password: "pw-sentinel".into(),
        };
        let expires = Utc::now() + chrono::Duration::days(6);
        let rec = v
            .store(
                u,
                &v1,
                Plan::Light,
                &login,
                Some((&"rt-sentinel".into(), expires)),
            )
            .await
            .unwrap();
        assert_eq!(rec.refresh_token_expired_at, Some(expires));
        assert!(rec.id_token.is_none());
        let (_, opened) = v.open(u, &v1).await.unwrap().unwrap();
        let CredentialSecret::V1Login { password, .. } = opened else {
            panic!("not a V1 login: {opened:?}")
        };
        assert_eq!(password.expose_secret(), "pw-sentinel");
        let token = v.open_token(&rec, "refresh_token").await.unwrap().unwrap();
        assert_eq!(token.expose_secret(), "rt-sentinel");
        // The token's envelope is bound to its purpose: it does not open as the secret.
        let mut swapped = rec.clone();
        swapped.encrypted_credentials = rec.refresh_token.clone().unwrap();
        assert!(
            crypto::open(
                v.keys.as_ref(),
                &swapped.encrypted_credentials,
                &ctx(u, &v1, "credentials")
            )
            .await
            .is_err()
        );
        let replaced = v
            .store_api_key(u, &v1, Plan::Light, "key".into())
            .await
            .unwrap();
        assert!(replaced.refresh_token.is_none() && replaced.refresh_token_expired_at.is_none());
    }

    #[tokio::test]
    async fn opened_secrets_are_cached_until_the_record_changes() {
        let (v, keys, _) = vault();
        let u = UserId::new();
        v.store_api_key(u, &ds(), Plan::Free, "first".into())
            .await
            .unwrap();
        let before = keys.calls();
        for _ in 0..1000 {
            assert_eq!(
                api_key(&v.open(u, &ds()).await.unwrap().unwrap().1),
                "first"
            );
        }
        assert_eq!(keys.calls() - before, 1, "one KMS call for 1,000 opens");
        v.store_api_key(u, &ds(), Plan::Premium, "second".into())
            .await
            .unwrap();
        let (plan, secret) = v.open(u, &ds()).await.unwrap().unwrap();
        assert_eq!(
            (plan, api_key(&secret).as_str()),
            (Plan::Premium, "second"),
            "never stale after an update"
        );
        assert!(v.delete(u, &ds()).await.unwrap());
        assert!(
            v.open(u, &ds()).await.unwrap().is_none(),
            "never served after a delete"
        );
    }

    #[tokio::test]
    async fn the_sweep_rewraps_to_the_new_key_resumably_and_only_once() {
        let (v, keys, _) = vault();
        let users: Vec<UserId> = (0..25).map(|_| UserId::new()).collect();
        for (i, u) in users.iter().enumerate() {
            let rec = v
                .store_api_key(*u, &ds(), Plan::Light, format!("key-{i}").into())
                .await
                .unwrap();
            if i % 5 == 0 {
                let exp = chrono::Utc::now() + chrono::Duration::days(7);
                assert!(
                    v.store_tokens(
                        &rec,
                        Some((&"refresh".into(), exp)),
                        Some((&"id".into(), exp))
                    )
                    .await
                    .unwrap()
                );
            }
        }
        let old = keys.current_key_arn().await.unwrap();
        let new = keys.rotate_to_new_key();
        let first = v.rotation_sweep(None, 10).await.unwrap();
        assert_eq!((first.scanned, first.rewrapped), (10, 10));
        assert!(first.next_cursor.is_some());
        let rest = v
            .rotation_sweep(first.next_cursor.clone(), 100)
            .await
            .unwrap();
        assert_eq!(
            (rest.scanned, rest.rewrapped, rest.next_cursor),
            (15, 15, None)
        );
        // The old key can go: everything opens under the new one.
        keys.disable(&old);
        for (i, u) in users.iter().enumerate() {
            let rec = v.record(*u, &ds()).await.unwrap().unwrap();
            assert!(rec.envelopes().all(|(_, e)| e.key_arn == new));
            assert_eq!(
                api_key(&v.open(*u, &ds()).await.unwrap().unwrap().1),
                format!("key-{i}")
            );
            if i % 5 == 0 {
                assert_eq!(
                    v.open_token(&rec, "id_token")
                        .await
                        .unwrap()
                        .unwrap()
                        .expose_secret(),
                    "id"
                );
            }
        }
        let again = v.rotation_sweep(None, 100).await.unwrap();
        assert_eq!(
            (again.rewrapped, again.already_current, again.failed),
            (0, 25, 0),
            "idempotent"
        );
    }

    #[tokio::test]
    async fn a_record_changed_during_the_sweep_is_left_alone() {
        let (v, keys, store) = vault();
        let u = UserId::new();
        let rec = v
            .store_api_key(u, &ds(), Plan::Light, "k".into())
            .await
            .unwrap();
        keys.rotate_to_new_key();
        // Simulate a concurrent writer: the version moves on under the sweep's feet.
        let mut moved = rec.clone();
        moved.version += 1;
        store.put_credential(&moved).await.unwrap();
        assert!(
            !v.store_tokens(&rec, None, None).await.unwrap(),
            "a stale token write is refused"
        );
        let report = v.rotation_sweep(None, 10).await.unwrap();
        assert_eq!(report.rewrapped + report.changed_concurrently, 1);
    }
}
