//! Opaque page keys: the row offset of the next page, bound to the query that produced it.
//!
//! A key is base64url (no padding) of 16 bytes: the offset masked with a hash of the query,
//! then the query's fingerprint. Resent with any other query, or tampered with, it is refused.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::hash::{hash_bytes, splitmix64};

/// Identifies a query by everything except its page key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint(u64);

impl Fingerprint {
    /// Fingerprint of a dataset path and its normalised, ordered query values.
    pub(crate) fn of(dataset: &str, values: &[Option<String>]) -> Self {
        let mut text = String::from(dataset);
        for value in values {
            text.push('\u{1f}');
            text.push_str(value.as_deref().unwrap_or("\u{0}"));
        }
        Self(hash_bytes(text.as_bytes()))
    }
}

/// The key was malformed or belongs to another query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidPageKey;

/// Builds the key for the page starting at `offset`.
pub(crate) fn encode(offset: usize, query: Fingerprint) -> String {
    let masked = offset as u64 ^ splitmix64(query.0);
    let mut bytes = [0_u8; 16];
    bytes[..8].copy_from_slice(&masked.to_be_bytes());
    bytes[8..].copy_from_slice(&query.0.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The offset a key points at, if it was issued for `query`.
pub(crate) fn decode(key: &str, query: Fingerprint) -> Result<usize, InvalidPageKey> {
    let bytes = URL_SAFE_NO_PAD.decode(key).map_err(|_| InvalidPageKey)?;
    let bytes: [u8; 16] = bytes.try_into().map_err(|_| InvalidPageKey)?;
    let (masked, issued_for) = bytes.split_at(8);
    let word = |b: &[u8]| {
        b.try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| InvalidPageKey)
    };
    if word(issued_for)? != query.0 {
        return Err(InvalidPageKey);
    }
    usize::try_from(word(masked)? ^ splitmix64(query.0)).map_err(|_| InvalidPageKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(code: &str) -> Fingerprint {
        Fingerprint::of("/equities/bars/daily", &[Some(code.to_owned()), None])
    }

    #[test]
    fn keys_round_trip_and_differ_per_page() {
        let q = query("72030");
        let (first, second) = (encode(3, q), encode(6, q));
        assert_ne!(first, second);
        assert_eq!(decode(&first, q), Ok(3));
        assert_eq!(decode(&second, q), Ok(6));
    }

    #[test]
    fn keys_are_bound_to_their_query() {
        let key = encode(3, query("72030"));
        assert_eq!(decode(&key, query("67580")), Err(InvalidPageKey));
        assert_ne!(
            query("72030"),
            Fingerprint::of("/other", &[Some("72030".into()), None])
        );
        assert_ne!(
            Fingerprint::of("/x", &[Some("a".into()), None]),
            Fingerprint::of("/x", &[None, Some("a".into())])
        );
    }

    #[test]
    fn garbage_is_refused() {
        let q = query("72030");
        for key in ["", "abc", "!!!!", "value1.value2.", &"A".repeat(40)] {
            assert_eq!(decode(key, q), Err(InvalidPageKey), "{key:?}");
        }
    }
}
