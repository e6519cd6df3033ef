//! A sealed secret as stored: what a credential record keeps of a provider secret. Made and
//! opened only by `crate::crypto`; the domain holds it without knowing how.

/// A sealed secret as stored: format version, the KMS key that wraps the data key, the wrapped
/// data key, the nonce and the ciphertext (with its GCM tag).
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Format version (`crypto::ENVELOPE_VERSION` writes).
    pub version: u8,
    /// ARN of the KMS key that wrapped `encrypted_data_key`.
    pub key_arn: String,
    /// The data key, encrypted by KMS under the context.
    pub encrypted_data_key: Vec<u8>,
    /// 96-bit random nonce.
    pub nonce: [u8; 12],
    /// AES-256-GCM ciphertext and tag.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("version", &self.version)
            .field("key_arn", &self.key_arn)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}
