//! One-minute bars of a traded day, consistent with its daily bar: each session's minutes
//! open at the session open, close at its close, touch its high and low once, and share its
//! volume (about 330 bars a day, so a day is built whole and the callers cache it).
//!
//! Sessions: 09:00–11:30 and 12:30–15:30 (15:00 before the 2024-11-05 extension), both
//! ends included as bars (the closing auctions).

use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta};

use crate::hash::{hash_bytes, mix, unit};
use crate::market::{Ohlcv, round1, trades};
use crate::params::IssueCode;

/// One minute of trading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MinuteBar {
    /// The minute's start, JST.
    pub(crate) time: NaiveTime,
    pub(crate) bar: Ohlcv,
}

/// The first day the afternoon session ran until 15:30.
fn extended_close() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 11, 5).unwrap_or(NaiveDate::MAX)
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

/// The (first, last) bar times of the two sessions on `date`.
pub(crate) fn sessions(date: NaiveDate) -> [(NaiveTime, NaiveTime); 2] {
    let close = if date >= extended_close() {
        hm(15, 30)
    } else {
        hm(15, 0)
    };
    [(hm(9, 0), hm(11, 30)), (hm(12, 30), close)]
}

/// Bars per trading day on `date`.
pub(crate) fn minutes_per_day(date: NaiveDate) -> usize {
    sessions(date)
        .iter()
        .map(|(a, b)| ((*b - *a).num_minutes() + 1) as usize)
        .sum()
}

/// The minute bars of `code` on `date` (raw prices); empty on days without trades.
pub(crate) fn minute_bars(code: &IssueCode, date: NaiveDate) -> Vec<MinuteBar> {
    let Some(day) = trades(code, date) else {
        return Vec::new();
    };
    let seed = mix(&[
        hash_bytes(code.as_str().as_bytes()),
        u64::from(date.num_days_from_ce().unsigned_abs()),
    ]);
    let [am, pm] = sessions(date);
    let mut bars = session(&day.morning, am, mix(&[seed, 1]));
    bars.extend(session(&day.afternoon, pm, mix(&[seed, 2])));
    bars
}

fn session(s: &Ohlcv, (first, last): (NaiveTime, NaiveTime), seed: u64) -> Vec<MinuteBar> {
    let n = ((last - first).num_minutes() + 1) as usize;
    let noise = |k: usize, salt: u64| unit(mix(&[seed, k as u64, salt]));
    // A random walk pinned to the session's open and close (a Brownian bridge).
    let mut walk = vec![0.0; n + 1];
    for k in 1..=n {
        walk[k] = walk[k - 1] + (2.0 * noise(k, 0) - 1.0);
    }
    let spread = (s.h - s.l).max(0.1);
    let amp = spread / 4.0 / (n as f64).sqrt();
    let path: Vec<f64> = (0..=n)
        .map(|k| {
            let t = k as f64 / n as f64;
            let level = s.o + (s.c - s.o) * t + amp * (walk[k] - t * walk[n]);
            round1(level.clamp(s.l, s.h))
        })
        .collect();
    let (at_high, at_low) = (
        (seed % n as u64) as usize,
        ((seed >> 20) % n as u64) as usize,
    );
    let weights: Vec<f64> = (0..n)
        .map(|k| {
            let edge = (-(k as f64) / 8.0).exp() + (-((n - 1 - k) as f64) / 8.0).exp();
            (1.0 + 3.0 * edge) * (0.5 + noise(k, 1))
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut volumes: Vec<f64> = weights
        .iter()
        .map(|w| (s.vo * w / total / 100.0).floor() * 100.0)
        .collect();
    volumes[0] += s.vo - volumes.iter().sum::<f64>();
    (0..n)
        .map(|k| {
            let (o, c) = (
                if k == 0 { s.o } else { path[k] },
                if k == n - 1 { s.c } else { path[k + 1] },
            );
            let mut h = round1((o.max(c) + spread * 0.05 * noise(k, 2)).min(s.h));
            let mut l = round1((o.min(c) - spread * 0.05 * noise(k, 3)).max(s.l));
            if k == at_high {
                h = s.h;
            }
            if k == at_low {
                l = s.l;
            }
            let vo = volumes[k];
            let bar = Ohlcv {
                o,
                h: h.max(o.max(c)),
                l: l.min(o.min(c)),
                c,
                vo,
                va: (vo * (o + h + l + c) / 4.0).round(),
            };
            MinuteBar {
                time: first + TimeDelta::minutes(k as i64),
                bar,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_add_up_to_the_sessions() {
        let code = IssueCode::parse("7203").expect("code");
        let date = NaiveDate::from_ymd_opt(2024, 12, 2).expect("date");
        let day = trades(&code, date).expect("traded");
        let bars = minute_bars(&code, date);
        assert_eq!(bars.len(), minutes_per_day(date));
        assert_eq!(bars.len(), 151 + 181);
        assert_eq!(bars[0].bar.o, day.day.o);
        assert_eq!(bars.last().map(|b| b.bar.c), Some(day.day.c));
        let high = bars.iter().map(|b| b.bar.h).fold(f64::MIN, f64::max);
        let low = bars.iter().map(|b| b.bar.l).fold(f64::MAX, f64::min);
        assert_eq!((high, low), (day.day.h, day.day.l));
        assert_eq!(bars.iter().map(|b| b.bar.vo).sum::<f64>(), day.day.vo);
        assert!(
            bars.iter()
                .all(|b| b.bar.l <= b.bar.o.min(b.bar.c) && b.bar.h >= b.bar.o.max(b.bar.c))
        );
        let old = NaiveDate::from_ymd_opt(2024, 11, 1).expect("date");
        assert_eq!(minutes_per_day(old), 151 + 151);
    }
}
