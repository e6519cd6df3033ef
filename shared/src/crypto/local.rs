//! An in-process [`KeyService`] for tests, with the key states moto lacks: the alias can move
//! to a new key, disabled keys refuse to unwrap, and every call is counted.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use aws_lc_rs::rand;
use secrecy::{ExposeSecret, SecretBox};

use super::{CryptoError, DataKey, EncryptionContext, GeneratedKey, KeyService, aead};

#[derive(Debug)]
struct Key {
    arn: String,
    material: [u8; 32],
    enabled: bool,
}

/// The fake key service.
#[derive(Debug)]
pub struct LocalKeys {
    keys: Mutex<Vec<Key>>,
    current: Mutex<usize>,
    calls: AtomicU64,
}

impl Default for LocalKeys {
    fn default() -> Self {
        let keys = Self {
            keys: Mutex::default(),
            current: Mutex::new(0),
            calls: AtomicU64::new(0),
        };
        keys.add_key();
        keys
    }
}

fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    rand::fill(&mut b).expect("system RNG");
    b
}

impl LocalKeys {
    fn add_key(&self) -> String {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let arn = format!("arn:aws:kms:local:000000000000:key/local-{}", keys.len());
        keys.push(Key {
            arn: arn.clone(),
            material: random32(),
            enabled: true,
        });
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = keys.len() - 1;
        arn
    }

    /// Points the alias at a new key (as moving the alias to K2 does); returns its ARN.
    pub fn rotate_to_new_key(&self) -> String {
        self.add_key()
    }

    /// Disables a key: it no longer unwraps data keys.
    pub fn disable(&self, arn: &str) {
        for k in self
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
        {
            if k.arn == arn {
                k.enabled = false;
            }
        }
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn wrap(&self, dek: &[u8; 32], ctx: &EncryptionContext) -> (Vec<u8>, String) {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let k = &keys[*self.current.lock().unwrap_or_else(|e| e.into_inner())];
        let (nonce, ct) = aead::seal(&k.material, &ctx.aad(0), dek);
        let mut blob = k.arn.as_bytes().to_vec();
        blob.push(0);
        blob.extend_from_slice(&nonce);
        blob.extend(ct);
        (blob, k.arn.clone())
    }

    fn unwrap_key(&self, blob: &[u8], ctx: &EncryptionContext) -> Result<[u8; 32], CryptoError> {
        let sep = blob
            .iter()
            .position(|b| *b == 0)
            .ok_or(CryptoError::Invalid)?;
        let arn = std::str::from_utf8(&blob[..sep]).map_err(|_| CryptoError::Invalid)?;
        let rest = &blob[sep + 1..];
        if rest.len() < 12 {
            return Err(CryptoError::Invalid);
        }
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let k = keys
            .iter()
            .find(|k| k.arn == arn)
            .ok_or(CryptoError::Invalid)?;
        if !k.enabled {
            return Err(CryptoError::KeyUnusable("DisabledException".into()));
        }
        let nonce: [u8; 12] = rest[..12].try_into().expect("12 bytes");
        let plain = aead::open(&k.material, &ctx.aad(0), &nonce, &rest[12..])?;
        plain.try_into().map_err(|_| CryptoError::Invalid)
    }
}

#[async_trait]
impl KeyService for LocalKeys {
    async fn generate_data_key(
        &self,
        ctx: &EncryptionContext,
    ) -> Result<GeneratedKey, CryptoError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let dek = random32();
        let (encrypted, key_arn) = self.wrap(&dek, ctx);
        Ok(GeneratedKey {
            plaintext: SecretBox::new(Box::new(dek)),
            encrypted,
            key_arn,
        })
    }

    async fn decrypt_data_key(
        &self,
        encrypted: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<DataKey, CryptoError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(SecretBox::new(Box::new(self.unwrap_key(encrypted, ctx)?)))
    }

    async fn re_encrypt(
        &self,
        encrypted: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<(Vec<u8>, String), CryptoError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let dek = SecretBox::new(Box::new(self.unwrap_key(encrypted, ctx)?));
        Ok(self.wrap(dek.expose_secret(), ctx))
    }

    async fn current_key_arn(&self) -> Result<String, CryptoError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        Ok(
            keys[*self.current.lock().unwrap_or_else(|e| e.into_inner())]
                .arn
                .clone(),
        )
    }
}
