//! Stable, dependency-free hashing for the synthetic data and the page keys.
//!
//! `std`'s `DefaultHasher` may change between Rust releases; the sandbox promises the same
//! rows and the same page keys forever, so it uses fixed algorithms instead.

/// One step of the splitmix64 generator: a fast, well-mixed 64-bit bijection.
pub(crate) const fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// FNV-1a over bytes, finished with splitmix64 so that close inputs land far apart.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let fnv = bytes.iter().fold(0xCBF2_9CE4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    });
    splitmix64(fnv)
}

/// Hash of several words, order-sensitive.
pub(crate) fn mix(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x2545_F491_4F6C_DD1D, |h, &p| splitmix64(h ^ p))
}

/// A hash mapped to the unit interval `[0, 1)`.
pub(crate) fn unit(h: u64) -> f64 {
    // The top 53 bits fit an f64 mantissa exactly.
    (h >> 11) as f64 / (1_u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_across_releases() {
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(hash_bytes(b"72030"), hash_bytes(b"72030"));
        assert_ne!(hash_bytes(b"72030"), hash_bytes(b"72040"));
        assert_ne!(mix(&[1, 2]), mix(&[2, 1]));
    }

    #[test]
    fn unit_stays_below_one() {
        assert!(unit(u64::MAX) < 1.0);
        assert!(unit(0) >= 0.0);
    }
}
