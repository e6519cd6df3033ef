//! Chart bars of a `.T` symbol as Yahoo serves them: split-adjusted relative to the sandbox's
//! today (raw `close` is not), `adjclose` also dividend-adjusted, daily bars stamped 09:00 JST
//! (00:00 UTC) of their date, intraday bars stamped at their start with null bars over the
//! lunch break, and longer intervals aggregated from days.

use chrono::{Datelike, Days, NaiveDate, NaiveTime, TimeDelta};

use crate::calendar::trading_days;
use crate::clock::JST_OFFSET_SECS;
use crate::corporate::{cumulative_factor, dividends_by_record};
use crate::intraday::{minute_bars, sessions};
use crate::market::{Ohlcv, round1, trades};
use crate::params::IssueCode;

/// A requested bar size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interval {
    Minutes(u32),
    Day,
    FiveDays,
    Week,
    Month,
    Quarter,
}

/// Every interval Yahoo accepts, in its order.
pub(crate) const INTERVALS: [&str; 13] = [
    "1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "1d", "5d", "1wk", "1mo", "3mo",
];

impl Interval {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "1h" => Self::Minutes(60),
            "1d" => Self::Day,
            "5d" => Self::FiveDays,
            "1wk" => Self::Week,
            "1mo" => Self::Month,
            "3mo" => Self::Quarter,
            m if INTERVALS.contains(&m) => Self::Minutes(m.trim_end_matches('m').parse().ok()?),
            _ => return None,
        })
    }

    pub(crate) fn is_intraday(self) -> bool {
        matches!(self, Self::Minutes(_))
    }
}

/// One bar slot; `bar` is `None` for slots without trades (nulls in every array).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    pub(crate) ts: i64,
    pub(crate) bar: Option<Ohlcv>,
    pub(crate) adjclose: Option<f64>,
}

/// 00:00 UTC of `date`: the stamp of a TSE daily bar.
pub(crate) fn day_stamp(date: NaiveDate) -> i64 {
    date.and_time(NaiveTime::MIN).and_utc().timestamp()
}

/// The epoch second of a JST wall-clock time.
pub(crate) fn jst_stamp(date: NaiveDate, time: NaiveTime) -> i64 {
    date.and_time(time).and_utc().timestamp() - JST_OFFSET_SECS
}

fn scaled(bar: &Ohlcv, factor: f64) -> Ohlcv {
    Ohlcv {
        o: round1(bar.o * factor),
        h: round1(bar.h * factor),
        l: round1(bar.l * factor),
        c: round1(bar.c * factor),
        vo: (bar.vo / factor).round(),
        va: bar.va,
    }
}

/// Daily points over `from..=to`, adjusted as of `today`.
pub(crate) fn daily(
    code: &IssueCode,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Vec<Point> {
    let bar =
        |d: NaiveDate| trades(code, d).map(|t| scaled(&t.day, cumulative_factor(code, d, today)));
    let start = from.checked_sub_days(Days::new(10)).unwrap_or(from);
    let end = today.checked_add_days(Days::new(10)).unwrap_or(today);
    // (ex-date, multiplier) of every dividend gone ex by today.
    let dividends: Vec<(NaiveDate, f64)> = dividends_by_record(code, start, end)
        .into_iter()
        .filter(|d| d.ex_date <= today && d.ex_date > from)
        .filter_map(|d| {
            let before = trading_days(d.ex_date - Days::new(10), d.ex_date.pred_opt()?).last()?;
            let close = bar(before)?.c;
            let amount = d.amount * cumulative_factor(code, d.ex_date, today);
            Some((d.ex_date, 1.0 - amount / close))
        })
        .collect();
    trading_days(from, to)
        .map(|d| {
            let bar = bar(d);
            let factor: f64 = dividends
                .iter()
                .filter(|(ex, _)| *ex > d)
                .map(|(_, f)| f)
                .product();
            Point {
                ts: day_stamp(d),
                bar,
                adjclose: bar.map(|b| b.c * factor),
            }
        })
        .collect()
}

/// Daily points grouped into weeks, months, quarters or runs of five trading days.
pub(crate) fn aggregate(points: &[Point], interval: Interval) -> Vec<Point> {
    let key = |p: &Point, i: usize| {
        let date =
            chrono::DateTime::from_timestamp(p.ts, 0).map_or(NaiveDate::MIN, |d| d.date_naive());
        match interval {
            Interval::Week => date.week(chrono::Weekday::Mon).first_day(),
            Interval::Month => date.with_day(1).unwrap_or(date),
            Interval::Quarter => {
                NaiveDate::from_ymd_opt(date.year(), (date.month() - 1) / 3 * 3 + 1, 1)
                    .unwrap_or(date)
            }
            _ => NaiveDate::MIN + Days::new((i / 5) as u64),
        }
    };
    let mut out: Vec<(NaiveDate, Point)> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let k = key(p, i);
        match out.last_mut() {
            Some((last, group)) if *last == k => {
                group.bar = merge(group.bar, p.bar);
                group.adjclose = p.adjclose.or(group.adjclose);
            }
            _ => out.push((k, *p)),
        }
    }
    out.into_iter()
        .map(|(k, mut p)| {
            if !matches!(interval, Interval::FiveDays) {
                p.ts = day_stamp(k);
            }
            p
        })
        .collect()
}

fn merge(a: Option<Ohlcv>, b: Option<Ohlcv>) -> Option<Ohlcv> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Ohlcv {
            o: a.o,
            h: a.h.max(b.h),
            l: a.l.min(b.l),
            c: b.c,
            vo: a.vo + b.vo,
            va: a.va + b.va,
        }),
        (a, b) => a.or(b),
    }
}

/// Intraday points of `minutes` each, from 09:00 JST to the close of each trading day in
/// `from..=to`, adjusted as of `today`.
pub(crate) fn intraday(
    code: &IssueCode,
    from: NaiveDate,
    to: NaiveDate,
    minutes: u32,
    today: NaiveDate,
) -> Vec<Point> {
    let step = i64::from(minutes);
    let mut out = Vec::new();
    for date in trading_days(from, to) {
        let bars = minute_bars(code, date);
        if bars.is_empty() {
            continue;
        }
        let factor = cumulative_factor(code, date, today);
        let [(open, _), (_, close)] = sessions(date);
        let slots = (close - open).num_minutes() / step + 1;
        for slot in 0..slots {
            let start = open + TimeDelta::minutes(slot * step);
            let end = start + TimeDelta::minutes(step);
            let bar = bars
                .iter()
                .filter(|m| m.time >= start && m.time < end)
                .map(|m| scaled(&m.bar, factor))
                .fold(None, |acc, b| merge(acc, Some(b)));
            out.push(Point {
                ts: jst_stamp(date, start),
                bar,
                adjclose: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_as_yahoo_names_them() {
        assert_eq!(Interval::parse("15m"), Some(Interval::Minutes(15)));
        assert_eq!(Interval::parse("1h"), Some(Interval::Minutes(60)));
        assert_eq!(Interval::parse("1wk"), Some(Interval::Week));
        assert_eq!(Interval::parse("7m"), None);
        assert_eq!(
            day_stamp(NaiveDate::from_ymd_opt(2025, 4, 21).expect("date")),
            1_745_193_600
        );
    }

    #[test]
    fn lunch_break_slots_are_null() {
        let code = IssueCode::parse("7203").expect("code");
        let date = NaiveDate::from_ymd_opt(2024, 12, 2).expect("date");
        let points = intraday(&code, date, date, 30, date);
        // 09:00 … 15:30 in 30-minute slots: 14 slots, 12:00 (11:30-12:30 gap) has none.
        assert_eq!(points.len(), 14);
        assert!(points[6].bar.is_none());
        assert_eq!(
            points[0].ts,
            jst_stamp(date, NaiveTime::from_hms_opt(9, 0, 0).expect("t"))
        );
        let day = trades(&code, date).expect("traded").day;
        assert_eq!(
            points
                .iter()
                .filter_map(|p| p.bar)
                .map(|b| b.vo)
                .sum::<f64>(),
            day.vo
        );
    }
}
