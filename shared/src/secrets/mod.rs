//! System secrets (the API-key pepper, the admin bootstrap secret) from Secrets Manager, behind a
//! small port with a TTL cache so a warm function does not fetch them per request. Both the
//! current and the previous version are read, so a value being rotated is accepted under
//! either while callers catch up ("verify with AWSCURRENT, then AWSPREVIOUS").

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::SecretString;
use tokio::sync::Mutex;

/// A secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No such secret, or it has no string value: a deployment error.
    #[error("secret {0} not found")]
    NotFound(String),
    /// Secrets Manager failed: retry later.
    #[error("secrets service unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// A secret's current value and, during a rotation, the previous one.
#[derive(Debug, Clone)]
pub struct SecretVersions {
    /// `AWSCURRENT`: used for anything new.
    pub current: SecretString,
    /// `AWSPREVIOUS`, if the secret was ever rotated: still accepted when verifying.
    pub previous: Option<SecretString>,
}

impl SecretVersions {
    /// Current first, then previous.
    pub fn all(&self) -> impl Iterator<Item = &SecretString> {
        std::iter::once(&self.current).chain(self.previous.as_ref())
    }
}

/// Reads a secret's versions.
#[async_trait]
pub trait SecretSource: Send + Sync + std::fmt::Debug {
    /// The versions of secret `id`.
    async fn get_secret(&self, id: &str) -> Result<SecretVersions, SecretsError>;
}

/// Secrets Manager adapter.
#[derive(Debug, Clone)]
pub struct SecretsManager(pub aws_sdk_secretsmanager::Client);

impl SecretsManager {
    async fn stage(&self, id: &str, stage: &str) -> Result<Option<SecretString>, SecretsError> {
        use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
        match self
            .0
            .get_secret_value()
            .secret_id(id)
            .version_stage(stage)
            .send()
            .await
        {
            Ok(out) => Ok(out.secret_string.map(SecretString::from)),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(SecretsError::Unavailable(anyhow::Error::new(e))),
        }
    }
}

#[async_trait]
impl SecretSource for SecretsManager {
    async fn get_secret(&self, id: &str) -> Result<SecretVersions, SecretsError> {
        let current = self
            .stage(id, "AWSCURRENT")
            .await?
            .ok_or_else(|| SecretsError::NotFound(id.to_owned()))?;
        let previous = self.stage(id, "AWSPREVIOUS").await?;
        Ok(SecretVersions { current, previous })
    }
}

/// Caches another source's values for `ttl`.
#[derive(Debug)]
pub struct CachedSecrets<S> {
    inner: S,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, SecretVersions)>>,
}

impl<S: SecretSource> CachedSecrets<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            cache: Mutex::default(),
        }
    }
}

#[async_trait]
impl<S: SecretSource> SecretSource for CachedSecrets<S> {
    async fn get_secret(&self, id: &str) -> Result<SecretVersions, SecretsError> {
        // Held across the fetch so concurrent misses make one call, not N.
        let mut cache = self.cache.lock().await;
        if let Some((at, v)) = cache.get(id)
            && at.elapsed() < self.ttl
        {
            return Ok(v.clone());
        }
        let v = self.inner.get_secret(id).await?;
        cache.insert(id.to_owned(), (Instant::now(), v.clone()));
        Ok(v)
    }
}

/// Fixed secrets, for tests.
#[cfg(feature = "test-util")]
#[derive(Debug, Default)]
pub struct StaticSecrets(pub HashMap<String, String>);

#[cfg(feature = "test-util")]
#[async_trait]
impl SecretSource for StaticSecrets {
    async fn get_secret(&self, id: &str) -> Result<SecretVersions, SecretsError> {
        self.0
            .get(id)
            .map(|v| SecretVersions {
                current: SecretString::from(v.clone()),
                previous: None,
            })
            .ok_or_else(|| SecretsError::NotFound(id.into()))
    }
}
