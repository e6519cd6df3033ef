//! Sealing users' provider secrets. Every seal binds an encryption context naming the owner and
//! the data source, so a ciphertext copied into another user's record does not open.

mod kms;
#[cfg(feature = "test-util")]
mod local;

pub use kms::KmsCipher;
#[cfg(feature = "test-util")]
pub use local::LocalCipher;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::domain::{DataSourceId, UserId};

/// What a ciphertext is bound to. Not secret (KMS logs it), but authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionContext {
    /// Owner.
    pub user_id: UserId,
    /// Data source the secret is for.
    pub data_source_id: DataSourceId,
    /// What the secret is (`credentials`, later `refresh_token`, `id_token`).
    pub purpose: &'static str,
}

impl EncryptionContext {
    /// The context as key/value pairs, sorted by key.
    pub fn pairs(&self) -> [(&'static str, String); 3] {
        [
            ("data_source_id", self.data_source_id.to_string()),
            ("purpose", self.purpose.to_owned()),
            ("user_id", self.user_id.to_string()),
        ]
    }
}

/// A sealed secret and the key that sealed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Key ARN (or the fake's name).
    pub key_id: String,
    /// Opaque ciphertext.
    pub ciphertext: Vec<u8>,
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The ciphertext does not open under this context (tampered, or moved between records):
    /// retrying will not help.
    #[error("ciphertext does not match its context")]
    Invalid,
    /// KMS could not be reached or refused for now: retry later.
    #[error("key service unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// Seals and opens secrets.
#[async_trait]
pub trait SecretCipher: Send + Sync + std::fmt::Debug {
    /// Encrypts `plaintext` bound to `ctx`.
    async fn seal(
        &self,
        plaintext: &SecretString,
        ctx: &EncryptionContext,
    ) -> Result<Sealed, CryptoError>;

    /// Decrypts a ciphertext sealed under the same `ctx`.
    async fn open(
        &self,
        ciphertext: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<SecretString, CryptoError>;
}
