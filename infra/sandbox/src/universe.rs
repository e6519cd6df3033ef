//! The listed issues: about 4,000 deterministic 5-character codes, sorted.
//!
//! Most are classic 4-digit codes (1300–9999) with the trailing "0" J-Quants uses for common
//! stock; about 50 are the alphanumeric codes the TSE has issued since 2024 (e.g. `130A0`).
//! Every issue trades over the whole calendar: listing and delisting are not modelled.

use std::sync::LazyLock;

use crate::hash::{mix, splitmix64};
use crate::params::IssueCode;

/// Letters the TSE uses in new codes (B, E, I, O, Q, V and Z are left out as look-alikes).
const CODE_LETTERS: &[u8] = b"ACDFGHJKLMNPRSTUWXY";

/// Well-known issues kept listed whatever the sampling picks, so demos can use them.
const ALWAYS_LISTED: [u16; 8] = [1301, 6758, 7203, 8306, 8697, 9432, 9984, 6501];

static CODES: LazyLock<Vec<String>> = LazyLock::new(build);

/// All listed issue codes, 5 characters each, in ascending order.
pub fn issue_codes() -> &'static [String] {
    &CODES
}

/// Whether `code` (4 or 5 characters) names a listed issue.
pub fn is_listed(code: &str) -> bool {
    IssueCode::parse(code).is_ok_and(|c| is_listed_code(&c))
}

pub(crate) fn is_listed_code(code: &IssueCode) -> bool {
    CODES
        .binary_search_by(|c| c.as_str().cmp(code.as_str()))
        .is_ok()
}

fn build() -> Vec<String> {
    let numeric = (1300_u16..=9999)
        .filter(|n| ALWAYS_LISTED.contains(n) || mix(&[0x11, u64::from(*n)]) % 1000 < 455)
        .map(|n| format!("{n}0"));
    let mut codes: Vec<String> = numeric.chain(alphanumeric()).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// 44 codes shaped like `130A0` and 6 with letters inside, like `2A1C0`.
fn alphanumeric() -> impl Iterator<Item = String> {
    let letter = |h: u64| char::from(CODE_LETTERS[(h % CODE_LETTERS.len() as u64) as usize]);
    let classic = (0..44_u64).map(|i| {
        // The first new-style code ever issued, 130A, is kept as the list's anchor.
        let jitter = if i == 0 { 0 } else { splitmix64(i) % 3 };
        let number = 130 + i * 4 + jitter;
        format!("{number}A0")
    });
    let mixed = (0..6_u64).map(move |i| {
        let h = mix(&[0x22, i]);
        format!(
            "{}{}{}{}0",
            1 + i % 3,
            letter(h),
            (h >> 8) % 10,
            letter(h >> 16)
        )
    });
    classic.chain(mixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn universe_is_sorted_unique_and_about_four_thousand() {
        let codes = issue_codes();
        assert!((3900..=4100).contains(&codes.len()), "{}", codes.len());
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert!(codes.iter().all(|c| c.len() == 5 && c.ends_with('0')));
        assert!(codes.iter().all(|c| IssueCode::parse(c).is_ok()));
    }

    #[test]
    fn new_style_codes_are_present() {
        let alpha: Vec<_> = issue_codes()
            .iter()
            .filter(|c| c.bytes().any(|b| b.is_ascii_uppercase()))
            .collect();
        assert_eq!(alpha.len(), 50);
        assert!(is_listed("130A0"));
        assert!(alpha.iter().all(|c| c.as_bytes()[3].is_ascii_uppercase()));
    }

    #[test]
    fn lookups_accept_four_and_five_characters() {
        assert!(is_listed("7203"));
        assert!(is_listed("72030"));
        assert!(!is_listed("72031"));
        assert!(!is_listed("0000"));
        assert!(!is_listed("not a code"));
    }
}
