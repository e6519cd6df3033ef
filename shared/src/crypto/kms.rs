//! KMS adapter: `Encrypt`/`Decrypt` with the encryption context (credentials are well under
//! KMS's 4 KiB direct-encryption limit).

use async_trait::async_trait;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use secrecy::{ExposeSecret, SecretString};

use super::{CryptoError, EncryptionContext, Sealed, SecretCipher};

/// Seals with a KMS key (an alias is fine: the record keeps the resolved key ARN).
#[derive(Debug, Clone)]
pub struct KmsCipher {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsCipher {
    /// A cipher using `key_id` for new seals.
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }
}

fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    e: aws_sdk_kms::error::SdkError<E>,
) -> CryptoError {
    match e.code() {
        Some("InvalidCiphertextException" | "IncorrectKeyException") => CryptoError::Invalid,
        _ => CryptoError::Unavailable(anyhow::Error::new(e)),
    }
}

#[async_trait]
impl SecretCipher for KmsCipher {
    async fn seal(
        &self,
        plaintext: &SecretString,
        ctx: &EncryptionContext,
    ) -> Result<Sealed, CryptoError> {
        let mut req = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext.expose_secret().as_bytes()));
        for (k, v) in ctx.pairs() {
            req = req.encryption_context(k, v);
        }
        let out = req.send().await.map_err(classify)?;
        let ciphertext = out
            .ciphertext_blob
            .ok_or_else(|| CryptoError::Unavailable(anyhow::anyhow!("KMS returned no ciphertext")))?
            .into_inner();
        Ok(Sealed {
            key_id: out.key_id.unwrap_or_else(|| self.key_id.clone()),
            ciphertext,
        })
    }

    async fn open(
        &self,
        ciphertext: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<SecretString, CryptoError> {
        let mut req = self.client.decrypt().ciphertext_blob(Blob::new(ciphertext));
        for (k, v) in ctx.pairs() {
            req = req.encryption_context(k, v);
        }
        let out = req.send().await.map_err(classify)?;
        let bytes = out.plaintext.ok_or(CryptoError::Invalid)?.into_inner();
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Invalid)
    }
}
