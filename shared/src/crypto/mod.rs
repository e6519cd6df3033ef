//! Envelope encryption of users' provider secrets. A fresh AES-256 data key from KMS
//! (`GenerateDataKey`) seals each secret locally with AES-256-GCM; the record keeps the data
//! key only as KMS ciphertext. The encryption context `{user_id, data_source_id, purpose}` is
//! sent to KMS and bound as AES-GCM associated data, so a ciphertext copied into another
//! user's record opens neither its data key nor its secret.
//!
//! - [`KeyService`]: the KMS port (generate, decrypt and re-wrap data keys).
//! - [`KmsKeys`]: the KMS adapter; [`LocalKeys`] (feature `test-util`): a fake with real key
//!   states (rotation to a new key, disabled keys refuse), which moto does not model.
//! - [`seal`] and [`open`]: a secret to its stored form ([`Envelope`], a domain type) and back.

mod aead;
#[cfg(feature = "test-util")]
pub mod contract;
mod kms;
#[cfg(feature = "test-util")]
mod local;

pub use kms::KmsKeys;
#[cfg(feature = "test-util")]
pub use local::LocalKeys;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::domain::{DataSourceId, Envelope, UserId};

/// The envelope format written by this code.
pub const ENVELOPE_VERSION: u8 = 1;

/// What a ciphertext is bound to. Not secret (KMS logs it), but authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionContext {
    /// Owner.
    pub user_id: UserId,
    /// Data source the secret is for.
    pub data_source_id: DataSourceId,
    /// What the secret is: `credentials`, `refresh_token` or `id_token`.
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

    /// Canonical bytes for AES-GCM associated data, including the envelope version.
    fn aad(&self, version: u8) -> Vec<u8> {
        let mut aad = vec![version];
        for (k, v) in self.pairs() {
            aad.extend_from_slice(k.as_bytes());
            aad.push(b'=');
            aad.extend_from_slice(v.as_bytes());
            aad.push(0);
        }
        aad
    }
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The ciphertext does not open under this context (tampered, or moved between records):
    /// retrying will not help.
    #[error("ciphertext does not match its context")]
    Invalid,
    /// The key is disabled or pending deletion: an operator must act; retrying will not help.
    #[error("the key is not usable: {0}")]
    KeyUnusable(String),
    /// KMS could not be reached or throttled: retry later.
    #[error("key service unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// A plaintext data key: zeroized when dropped, never printed.
pub type DataKey = SecretBox<[u8; 32]>;

/// A new data key in both forms.
#[derive(Debug)]
pub struct GeneratedKey {
    /// For local encryption, then dropped.
    pub plaintext: DataKey,
    /// What the record keeps.
    pub encrypted: Vec<u8>,
    /// The key that wrapped it.
    pub key_arn: String,
}

/// The key service (KMS).
#[async_trait]
pub trait KeyService: Send + Sync + std::fmt::Debug {
    /// A new AES-256 data key under the current key, bound to `ctx`.
    async fn generate_data_key(&self, ctx: &EncryptionContext)
    -> Result<GeneratedKey, CryptoError>;
    /// Unwraps a data key (the wrapping key is named inside the ciphertext).
    async fn decrypt_data_key(
        &self,
        encrypted: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<DataKey, CryptoError>;
    /// Re-wraps a data key under the key now behind the alias without exposing it; returns the
    /// new wrapped key and the ARN of the key that wrapped it.
    async fn re_encrypt(
        &self,
        encrypted: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<(Vec<u8>, String), CryptoError>;
    /// ARN of the key now behind the alias.
    async fn current_key_arn(&self) -> Result<String, CryptoError>;
}

/// Seals `plaintext` under a fresh data key.
pub async fn seal(
    keys: &dyn KeyService,
    plaintext: &SecretString,
    ctx: &EncryptionContext,
) -> Result<Envelope, CryptoError> {
    let key = keys.generate_data_key(ctx).await?;
    let (nonce, ciphertext) = aead::seal(
        key.plaintext.expose_secret(),
        &ctx.aad(ENVELOPE_VERSION),
        plaintext.expose_secret().as_bytes(),
    );
    Ok(Envelope {
        version: ENVELOPE_VERSION,
        key_arn: key.key_arn,
        encrypted_data_key: key.encrypted,
        nonce,
        ciphertext,
    })
}

/// Opens an envelope sealed under `ctx`.
pub async fn open(
    keys: &dyn KeyService,
    env: &Envelope,
    ctx: &EncryptionContext,
) -> Result<SecretString, CryptoError> {
    if env.version != ENVELOPE_VERSION {
        return Err(CryptoError::Invalid);
    }
    let key = keys.decrypt_data_key(&env.encrypted_data_key, ctx).await?;
    let plain = aead::open(
        key.expose_secret(),
        &ctx.aad(env.version),
        &env.nonce,
        &env.ciphertext,
    )?;
    String::from_utf8(plain)
        .map(SecretString::from)
        .map_err(|_| CryptoError::Invalid)
}
