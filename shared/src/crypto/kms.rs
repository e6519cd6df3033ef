//! The KMS adapter of [`KeyService`].

use async_trait::async_trait;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use secrecy::SecretBox;

use super::{CryptoError, DataKey, EncryptionContext, GeneratedKey, KeyService};

/// KMS under a key id or alias (new data keys and re-wraps go to the key behind it).
#[derive(Debug, Clone)]
pub struct KmsKeys {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsKeys {
    /// Keys under `key_id` (an alias such as `alias/moomoo-credentials`, or a key ARN).
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
        Some(code @ ("DisabledException" | "KMSInvalidStateException" | "NotFoundException")) => {
            CryptoError::KeyUnusable(code.to_owned())
        }
        _ => CryptoError::Unavailable(anyhow::Error::new(e)),
    }
}

fn data_key(bytes: Vec<u8>) -> Result<DataKey, CryptoError> {
    let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::Invalid)?;
    Ok(SecretBox::new(Box::new(key)))
}

macro_rules! with_context {
    ($req:expr, $method:ident, $ctx:expr) => {{
        let mut req = $req;
        for (k, v) in $ctx.pairs() {
            req = req.$method(k, v);
        }
        req
    }};
}

#[async_trait]
impl KeyService for KmsKeys {
    async fn generate_data_key(
        &self,
        ctx: &EncryptionContext,
    ) -> Result<GeneratedKey, CryptoError> {
        let req = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256);
        let out = with_context!(req, encryption_context, ctx)
            .send()
            .await
            .map_err(classify)?;
        let missing =
            || CryptoError::Unavailable(anyhow::anyhow!("incomplete GenerateDataKey answer"));
        Ok(GeneratedKey {
            plaintext: data_key(out.plaintext.ok_or_else(missing)?.into_inner())?,
            encrypted: out.ciphertext_blob.ok_or_else(missing)?.into_inner(),
            key_arn: out.key_id.ok_or_else(missing)?,
        })
    }

    async fn decrypt_data_key(
        &self,
        encrypted: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<DataKey, CryptoError> {
        let req = self.client.decrypt().ciphertext_blob(Blob::new(encrypted));
        let out = with_context!(req, encryption_context, ctx)
            .send()
            .await
            .map_err(classify)?;
        data_key(out.plaintext.ok_or(CryptoError::Invalid)?.into_inner())
    }

    async fn re_encrypt(
        &self,
        encrypted: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<(Vec<u8>, String), CryptoError> {
        let req = self
            .client
            .re_encrypt()
            .ciphertext_blob(Blob::new(encrypted))
            .destination_key_id(&self.key_id);
        let req = with_context!(req, source_encryption_context, ctx);
        let out = with_context!(req, destination_encryption_context, ctx)
            .send()
            .await
            .map_err(classify)?;
        let missing = || CryptoError::Unavailable(anyhow::anyhow!("incomplete ReEncrypt answer"));
        Ok((
            out.ciphertext_blob.ok_or_else(missing)?.into_inner(),
            out.key_id.ok_or_else(missing)?,
        ))
    }

    async fn current_key_arn(&self) -> Result<String, CryptoError> {
        let out = self
            .client
            .describe_key()
            .key_id(&self.key_id)
            .send()
            .await
            .map_err(classify)?;
        out.key_metadata
            .and_then(|m| m.arn)
            .ok_or_else(|| CryptoError::Unavailable(anyhow::anyhow!("DescribeKey returned no ARN")))
    }
}
