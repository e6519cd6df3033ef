//! API keys for our own API. A key is 32 random bytes shown to its owner once; we store only an
//! HMAC-SHA256 of it under a key (the "pepper") kept in Secrets Manager, so a copy of the table
//! alone cannot be used to find or forge keys.

use aws_lc_rs::{hmac, rand};
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

/// Every key starts with this, so leaked keys are easy to recognise in scanners.
pub const KEY_PREFIX: &str = "mmk_";

/// Hashes API keys with the pepper.
pub struct ApiKeyHasher {
    key: hmac::Key,
}

impl std::fmt::Debug for ApiKeyHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeyHasher([REDACTED])")
    }
}

/// A freshly generated key: the plaintext (for the response, once) and what is stored.
#[derive(Debug)]
pub struct NewApiKey {
    /// The key itself.
    pub plaintext: SecretString,
    /// Its keyed hash, the storage key.
    pub hash: String,
    /// The first characters, to tell keys apart in listings.
    pub display_prefix: String,
}

impl ApiKeyHasher {
    /// A hasher keyed by the pepper secret.
    pub fn new(pepper: &SecretString) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, pepper.expose_secret().as_bytes()),
        }
    }

    /// The stored form of a presented key.
    pub fn hash(&self, presented: &str) -> String {
        let tag = hmac::sign(&self.key, presented.as_bytes());
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A new random key.
    pub fn generate(&self) -> NewApiKey {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes).expect("the system RNG is available");
        let plaintext = format!(
            "{KEY_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let hash = self.hash(&plaintext);
        let display_prefix = plaintext[..KEY_PREFIX.len() + 6].to_owned();
        NewApiKey {
            plaintext: SecretString::from(plaintext),
            hash,
            display_prefix,
        }
    }
}

/// Compares two secrets in constant time.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_hashes_depend_on_the_pepper() {
        let h1 = ApiKeyHasher::new(&SecretString::from("pepper-1"));
        let h2 = ApiKeyHasher::new(&SecretString::from("pepper-2"));
        let a = h1.generate();
        let b = h1.generate();
        assert_ne!(a.plaintext.expose_secret(), b.plaintext.expose_secret());
        assert!(a.plaintext.expose_secret().starts_with(KEY_PREFIX));
        assert_eq!(h1.hash(a.plaintext.expose_secret()), a.hash);
        assert_ne!(h2.hash(a.plaintext.expose_secret()), a.hash);
        assert_eq!(a.hash.len(), 64);
        assert!(!format!("{a:?}").contains(a.plaintext.expose_secret()));
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "ab"));
    }
}
