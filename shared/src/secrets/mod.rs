//! System secrets (the API-key pepper, the admin bootstrap secret) from Secrets Manager, behind a
//! small port with a TTL cache so a warm function does not fetch them per request.

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

/// Reads a secret's current string value.
#[async_trait]
pub trait SecretSource: Send + Sync + std::fmt::Debug {
    /// The value of secret `id`.
    async fn get_secret(&self, id: &str) -> Result<SecretString, SecretsError>;
}

/// Secrets Manager adapter.
#[derive(Debug, Clone)]
pub struct SecretsManager(pub aws_sdk_secretsmanager::Client);

#[async_trait]
impl SecretSource for SecretsManager {
    async fn get_secret(&self, id: &str) -> Result<SecretString, SecretsError> {
        use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
        let out = self
            .0
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| {
                if e.code() == Some("ResourceNotFoundException") {
                    SecretsError::NotFound(id.to_owned())
                } else {
                    SecretsError::Unavailable(anyhow::Error::new(e))
                }
            })?;
        out.secret_string
            .map(SecretString::from)
            .ok_or_else(|| SecretsError::NotFound(id.to_owned()))
    }
}

/// Caches another source's values for `ttl`.
#[derive(Debug)]
pub struct CachedSecrets<S> {
    inner: S,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, SecretString)>>,
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
    async fn get_secret(&self, id: &str) -> Result<SecretString, SecretsError> {
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
    async fn get_secret(&self, id: &str) -> Result<SecretString, SecretsError> {
        self.0
            .get(id)
            .map(|v| SecretString::from(v.clone()))
            .ok_or_else(|| SecretsError::NotFound(id.into()))
    }
}
