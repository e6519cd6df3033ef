//! The synthetic market: one deterministic bar per (issue, trading day), computed in O(1).
//!
//! Each issue gets a base price (from `price_level`) and volume from the hash of its code;
//! prices drift along two slow sine waves plus per-day hash noise, so consecutive days look
//! like a chart while any single day can be computed without its history. About 1 in 150 (issue, day) pairs is a
//! no-trade day, and 2020-10-01 (the day the TSE's arrowhead system failed) has no trades at all.
//!
//! The waves describe the split-adjusted price; raw prices are that times the issue's share
//! multiple before a split (see `corporate::splits`), so raw prices halve on a 1:2 ex-date.

use std::f64::consts::TAU;

use chrono::{Datelike, NaiveDate};

use crate::corporate::share_multiple;
use crate::hash::{hash_bytes, mix, unit};
use crate::params::IssueCode;
use crate::price_level::level;

/// Open, high, low, close, volume and turnover value of one session or one day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ohlcv {
    pub(crate) o: f64,
    pub(crate) h: f64,
    pub(crate) l: f64,
    pub(crate) c: f64,
    pub(crate) vo: f64,
    pub(crate) va: f64,
}

/// A traded day: the whole-day bar, its morning and afternoon sessions, and limit flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Trades {
    pub(crate) day: Ohlcv,
    pub(crate) morning: Ohlcv,
    pub(crate) afternoon: Ohlcv,
    /// Closed at the daily upper price limit (ストップ高).
    pub(crate) upper_limit: bool,
    /// Closed at the daily lower price limit (ストップ安).
    pub(crate) lower_limit: bool,
}

/// The day's raw trades for `code`, or `None` on a no-trade day. The caller checks the calendar.
pub(crate) fn trades(code: &IssueCode, date: NaiveDate) -> Option<Trades> {
    let adjusted = adjusted_trades(code, date)?;
    let multiple = share_multiple(code, date);
    if multiple == 1.0 {
        return Some(adjusted);
    }
    let day = to_raw(&adjusted.day, multiple);
    let mut morning = to_raw(&adjusted.morning, multiple);
    morning.vo = morning.vo.clamp(100.0, (day.vo - 100.0).max(100.0));
    let afternoon = Ohlcv {
        vo: day.vo - morning.vo,
        ..to_raw(&adjusted.afternoon, multiple)
    };
    Some(Trades {
        day,
        morning,
        afternoon,
        ..adjusted
    })
}

/// Fewer, dearer shares before a split; the turnover value does not change.
fn to_raw(bar: &Ohlcv, multiple: f64) -> Ohlcv {
    Ohlcv {
        o: round1(bar.o * multiple),
        h: round1(bar.h * multiple),
        l: round1(bar.l * multiple),
        c: round1(bar.c * multiple),
        vo: ((bar.vo / multiple / 100.0).round() * 100.0).max(100.0),
        va: bar.va,
    }
}

fn adjusted_trades(code: &IssueCode, date: NaiveDate) -> Option<Trades> {
    let issue = hash_bytes(code.as_str().as_bytes());
    let t = i64::from(date.num_days_from_ce());
    let noise = |salt: u64| unit(mix(&[issue, t as u64, salt]));
    let system_failure = NaiveDate::from_ymd_opt(2020, 10, 1) == Some(date);
    if system_failure || mix(&[issue, t as u64, 0]).is_multiple_of(150) {
        return None;
    }

    let o = round1(raw_close(issue, t - 1) * (1.0 + 0.004 * (2.0 * noise(1) - 1.0)));
    let mut c = round1(raw_close(issue, t));
    let h = round1(o.max(c) * (1.0 + 0.012 * noise(2))).max(o.max(c));
    let l = round1(o.min(c) * (1.0 - 0.012 * noise(3))).min(o.min(c));
    let limit = mix(&[issue, t as u64, 4]) % 1500;
    let (upper_limit, lower_limit) = (limit == 0, limit == 1);
    if upper_limit {
        c = h;
    } else if lower_limit {
        c = l;
    }
    let base_volume = (8.5 + 7.5 * unit(mix(&[issue, 2]))).exp();
    let vo = (base_volume * (0.4 + 1.2 * noise(5)) / 100.0)
        .round()
        .max(10.0)
        * 100.0;
    let va = (vo * (o + h + l + c) / 4.0).round();
    let day = Ohlcv { o, h, l, c, vo, va };
    let (morning, afternoon) = split_sessions(&day, noise);
    Some(Trades {
        day,
        morning,
        afternoon,
        upper_limit,
        lower_limit,
    })
}

/// The close before rounding: two sine waves around the issue's base price, plus noise.
fn raw_close(issue: u64, t: i64) -> f64 {
    wave(issue, t, level(issue))
}

/// A chart-like level around `base` on day `t` (days from the common era), from `seed`.
pub(crate) fn wave(seed: u64, t: i64, base: f64) -> f64 {
    let issue = seed;
    let p = |salt: u64| unit(mix(&[issue, salt]));
    let t = t as f64;
    let slow = 0.25 * (TAU * t / (400.0 + 800.0 * p(3)) + TAU * p(4)).sin();
    let fast = 0.08 * (TAU * t / (40.0 + 60.0 * p(5)) + TAU * p(6)).sin();
    let daily = 0.015 * (2.0 * unit(mix(&[issue, t as u64, 7])) - 1.0);
    base * (slow + fast + daily).exp()
}

/// Splits a day in two sessions that add up: the morning opens at the day's open, the
/// afternoon closes at the day's close, and one of them holds the day's high (or low).
fn split_sessions(day: &Ohlcv, noise: impl Fn(u64) -> f64) -> (Ohlcv, Ohlcv) {
    let clamp = |x: f64| round1(x).clamp(day.l, day.h);
    let mc = clamp(day.o + (day.c - day.o) * noise(8));
    let ao = clamp(mc * (1.0 + 0.002 * (2.0 * noise(9) - 1.0)));
    let (high_in_morning, low_in_morning) = (noise(10) < 0.5, noise(11) < 0.5);
    let mvo =
        ((day.vo * (0.35 + 0.3 * noise(12)) / 100.0).round() * 100.0).clamp(100.0, day.vo - 100.0);
    let mva = (day.va * mvo / day.vo).round();
    let morning = Ohlcv {
        o: day.o,
        h: if high_in_morning {
            day.h
        } else {
            day.o.max(mc)
        },
        l: if low_in_morning { day.l } else { day.o.min(mc) },
        c: mc,
        vo: mvo,
        va: mva,
    };
    let afternoon = Ohlcv {
        o: ao,
        h: if high_in_morning {
            ao.max(day.c)
        } else {
            day.h
        },
        l: if low_in_morning { ao.min(day.c) } else { day.l },
        c: day.c,
        vo: day.vo - mvo,
        va: day.va - mva,
    };
    (morning, afternoon)
}

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::trading_days;

    fn sample() -> impl Iterator<Item = Trades> {
        let from = NaiveDate::from_ymd_opt(2022, 1, 1).expect("date");
        let to = NaiveDate::from_ymd_opt(2023, 12, 31).expect("date");
        let codes =
            ["72030", "130A0", "13010", "99840"].map(|c| IssueCode::parse(c).expect("code"));
        codes
            .into_iter()
            .flat_map(move |code| trading_days(from, to).filter_map(move |d| trades(&code, d)))
    }

    fn consistent(bar: &Ohlcv) -> bool {
        bar.l > 0.0
            && bar.l <= bar.o.min(bar.c)
            && bar.o.max(bar.c) <= bar.h
            && bar.vo > 0.0
            && bar.vo.fract() == 0.0
            && bar.va.fract() == 0.0
    }

    #[test]
    fn bars_are_internally_consistent() {
        for t in sample() {
            assert!(consistent(&t.day), "{t:?}");
            assert!(consistent(&t.morning) && consistent(&t.afternoon), "{t:?}");
            assert_eq!(t.morning.vo + t.afternoon.vo, t.day.vo);
            assert_eq!(t.morning.va + t.afternoon.va, t.day.va);
            assert_eq!(t.morning.h.max(t.afternoon.h), t.day.h);
            assert_eq!(t.morning.l.min(t.afternoon.l), t.day.l);
            assert_eq!((t.morning.o, t.afternoon.c), (t.day.o, t.day.c));
            assert_eq!(round1(t.day.c), t.day.c);
        }
    }

    #[test]
    fn prices_move_like_a_chart() {
        let closes: Vec<f64> = sample().take(400).map(|t| t.day.c).collect();
        let big_jumps = closes
            .windows(2)
            .filter(|w| (w[1] / w[0] - 1.0).abs() > 0.1)
            .count();
        assert!(big_jumps <= 4, "{big_jumps} jumps over 10%");
    }

    #[test]
    fn the_2020_10_01_outage_has_no_trades() {
        let code = IssueCode::parse("7203").expect("code");
        assert_eq!(
            trades(&code, NaiveDate::from_ymd_opt(2020, 10, 1).expect("date")),
            None
        );
    }
}
