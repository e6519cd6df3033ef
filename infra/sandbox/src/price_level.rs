//! Each issue's typical price level (yen, split-adjusted), from the hash of its code: the base
//! the synthetic market's prices move around (`market`), and the scale of the figures priced
//! from it (dividends in `corporate`, share counts in the margin datasets of `jquants`).

use crate::hash::{hash_bytes, mix, unit};
use crate::params::IssueCode;

/// The issue's typical price level (yen, split-adjusted), for dividends and share counts.
pub(crate) fn base_price(code: &IssueCode) -> f64 {
    level(hash_bytes(code.as_str().as_bytes()))
}

/// The price level of the issue whose code hashes to `issue`: log-uniform in 100..20,000 yen.
pub(crate) fn level(issue: u64) -> f64 {
    (100_f64.ln() + unit(mix(&[issue, 1])) * (20_000_f64 / 100.0).ln()).exp()
}
