//! J-Quants V2's authentication: the `x-api-key` header.

use std::fmt;

use async_trait::async_trait;
use reqwest::header::HeaderName;
use secrecy::SecretString;

use crate::provider::{Auth, Credentials, ProviderError};

/// J-Quants V2: the `x-api-key` header. Keys do not expire, so a refusal is final.
pub struct ApiKey(SecretString);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([REDACTED])")
    }
}

impl ApiKey {
    /// Wraps a V2 API key.
    pub fn new(key: SecretString) -> Self {
        Self(key)
    }
}

#[async_trait]
impl Auth for ApiKey {
    async fn credentials(&self) -> Result<Credentials, ProviderError> {
        Ok(Credentials::new(0).header(HeaderName::from_static("x-api-key"), self.0.clone()))
    }

    async fn rejected(&self, _used: &Credentials) -> Result<bool, ProviderError> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_prints() {
        assert!(!format!("{:?}", ApiKey::new("k3y".into())).contains("k3y"));
    }
}
