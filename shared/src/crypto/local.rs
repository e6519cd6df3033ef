//! An in-process cipher for tests: AES-256-GCM under a random key, the context as associated
//! data, so it refuses moved ciphertexts exactly as KMS does.

use async_trait::async_trait;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand;
use secrecy::{ExposeSecret, SecretString};

use super::{CryptoError, EncryptionContext, Sealed, SecretCipher};

/// The fake cipher.
pub struct LocalCipher {
    key: LessSafeKey,
}

impl std::fmt::Debug for LocalCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalCipher")
    }
}

impl Default for LocalCipher {
    fn default() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes).expect("system RNG");
        let key = UnboundKey::new(&AES_256_GCM, &bytes).expect("32-byte key");
        Self {
            key: LessSafeKey::new(key),
        }
    }
}

fn aad(ctx: &EncryptionContext) -> Vec<u8> {
    serde_json::to_vec(&ctx.pairs()).expect("strings serialize")
}

#[async_trait]
impl SecretCipher for LocalCipher {
    async fn seal(
        &self,
        plaintext: &SecretString,
        ctx: &EncryptionContext,
    ) -> Result<Sealed, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce).expect("system RNG");
        let mut buf = plaintext.expose_secret().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(ctx)),
                &mut buf,
            )
            .map_err(|_| CryptoError::Invalid)?;
        let mut ciphertext = nonce.to_vec();
        ciphertext.extend(buf);
        Ok(Sealed {
            key_id: "local".into(),
            ciphertext,
        })
    }

    async fn open(
        &self,
        ciphertext: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<SecretString, CryptoError> {
        if ciphertext.len() < NONCE_LEN {
            return Err(CryptoError::Invalid);
        }
        let (nonce, body) = ciphertext.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Invalid)?;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad(ctx)), &mut buf)
            .map_err(|_| CryptoError::Invalid)?;
        String::from_utf8(plain.to_vec())
            .map(SecretString::from)
            .map_err(|_| CryptoError::Invalid)
    }
}
