//! Synthetic index levels: TOPIX and its size and sector sub-indices, the market-segment
//! indices, and the Nikkei 225 the options settle on. Same chart-like waves as the issues,
//! two decimals, one bar per trading day (2020-10-01 included: index calculation went on).

use chrono::{Datelike, NaiveDate};

use crate::hash::{hash_bytes, mix, unit};
use crate::market::wave;

/// An index's open, high, low and close.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct IndexBar {
    pub(crate) o: f64,
    pub(crate) h: f64,
    pub(crate) l: f64,
    pub(crate) c: f64,
}

/// The index codes served, ascending: TOPIX (`0000`), size indices (`0028`–`002D`), the 33
/// sector indices (`0040`–`0060`), Growth 250 (`0070`) and the segment indices (`0500`–`0502`).
pub(crate) fn index_codes() -> Vec<String> {
    let mut codes: Vec<String> = ["0000", "0028", "0029", "002A", "002B", "002C", "002D"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    codes.extend((0x40..=0x60).map(|n| format!("{n:04X}")));
    codes.extend(["0070", "0500", "0501", "0502"].map(str::to_owned));
    codes
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn level_bar(seed: u64, base: f64, date: NaiveDate) -> IndexBar {
    let t = i64::from(date.num_days_from_ce());
    let noise = |salt: u64| unit(mix(&[seed, t as u64, salt]));
    let c = round2(wave(seed, t, base));
    let o = round2(wave(seed, t - 1, base) * (1.0 + 0.002 * (2.0 * noise(1) - 1.0)));
    IndexBar {
        o,
        h: round2(o.max(c) * (1.0 + 0.006 * noise(2))),
        l: round2(o.min(c) * (1.0 - 0.006 * noise(3))),
        c,
    }
}

/// The bar of index `code` on a trading day (the caller checks the calendar and the code).
pub(crate) fn index_bar(code: &str, date: NaiveDate) -> IndexBar {
    let seed = hash_bytes(code.as_bytes());
    let base = if code == "0000" {
        2000.0
    } else {
        300.0 + 3000.0 * unit(mix(&[seed, 9]))
    };
    level_bar(seed, base, date)
}

/// The Nikkei 225 on a trading day.
pub(crate) fn nikkei(date: NaiveDate) -> IndexBar {
    level_bar(hash_bytes(b"N225"), 30_000.0, date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_and_bars_consistent() {
        let codes = index_codes();
        assert_eq!(codes.len(), 7 + 33 + 4);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        let date = NaiveDate::from_ymd_opt(2024, 12, 2).expect("date");
        for bar in codes
            .iter()
            .map(|c| index_bar(c, date))
            .chain([nikkei(date)])
        {
            assert!(bar.l <= bar.o.min(bar.c) && bar.h >= bar.o.max(bar.c) && bar.l > 0.0);
        }
    }
}
