//! The exchange's trading calendar as the scheduler keeps it: which days of the covered spans
//! the market is open (business days and half-day sessions), read from the provider's markets
//! calendar. A day outside every covered span is unknown, never assumed open or closed.
//!
//! Every read of the calendar, whoever asked for it, is laid over the stored one, so the
//! calendar only grows: a read never uncovers a day another read covered (one user's read of an
//! old range cannot take yesterday away from everyone's schedules).

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::dataset::{FieldValue, Record};

/// The zone market dates are read in.
pub const MARKET_TIME_ZONE: chrono_tz::Tz = chrono_tz::Asia::Tokyo;

/// A covered stretch of days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First day covered.
    pub first: NaiveDate,
    /// Last day covered.
    pub last: NaiveDate,
}

impl Span {
    fn contains(self, day: NaiveDate) -> bool {
        (self.first..=self.last).contains(&day)
    }
}

/// Trading days over the covered spans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Stored")]
pub struct TradingCalendar {
    /// The covered spans: sorted, disjoint and not adjoining.
    covered: Vec<Span>,
    /// The open days inside the covered spans.
    trading: BTreeSet<NaiveDate>,
    /// When it was last read from the provider.
    pub fetched_at: DateTime<Utc>,
}

/// The stored form, also as it was before several spans were kept (one `first..=last`).
#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    covered: Vec<Span>,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    trading: BTreeSet<NaiveDate>,
    fetched_at: DateTime<Utc>,
}

impl From<Stored> for TradingCalendar {
    fn from(s: Stored) -> Self {
        let old = s
            .first
            .zip(s.last)
            .map(|(first, last)| Span { first, last });
        let mut cal = Self::empty();
        for span in s.covered.into_iter().chain(old) {
            cal.cover(span);
        }
        cal.trading = s.trading.into_iter().filter(|d| cal.covers(*d)).collect();
        cal.fetched_at = s.fetched_at;
        cal
    }
}

impl TradingCalendar {
    /// A calendar of `first..=last` whose open days are `trading` (days outside the range
    /// are ignored).
    pub fn new(
        first: NaiveDate,
        last: NaiveDate,
        trading: impl IntoIterator<Item = NaiveDate>,
        fetched_at: DateTime<Utc>,
    ) -> Self {
        let span = Span { first, last };
        Self {
            covered: if first <= last { vec![span] } else { vec![] },
            trading: trading.into_iter().filter(|d| span.contains(*d)).collect(),
            fetched_at,
        }
    }

    /// A calendar from the markets-calendar rows of `first..=last` (`HolDiv` 1: business day,
    /// 2: half-day session; 0 and 3 closed).
    pub fn from_records(
        records: &[Record],
        first: NaiveDate,
        last: NaiveDate,
        fetched_at: DateTime<Utc>,
    ) -> Self {
        let trading = records
            .iter()
            .filter(|r| {
                r.fields.iter().any(|(k, v)| {
                    k == "HolDiv" && matches!(v, FieldValue::Text(d) if d == "1" || d == "2")
                })
            })
            .filter_map(|r| r.sort.parse().ok());
        Self::new(first, last, trading, fetched_at)
    }

    /// A calendar that covers nothing (none stored yet).
    pub fn empty() -> Self {
        Self {
            covered: Vec::new(),
            trading: BTreeSet::new(),
            fetched_at: DateTime::UNIX_EPOCH,
        }
    }

    /// The covered spans, oldest first.
    pub fn covered(&self) -> &[Span] {
        &self.covered
    }

    /// Whether the market is open on `day`; `None` outside the covered spans.
    pub fn is_trading_day(&self, day: NaiveDate) -> Option<bool> {
        self.covers(day).then(|| self.trading.contains(&day))
    }

    /// Whether `day` is inside a covered span.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.span_of(day).is_some()
    }

    /// Whether every day of `from..=to` is covered.
    pub fn covers_all(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.span_of(from).is_some_and(|s| s.contains(to))
    }

    fn span_of(&self, day: NaiveDate) -> Option<Span> {
        self.covered.iter().copied().find(|s| s.contains(day))
    }

    /// The `n` trading days strictly before `day`, oldest first; `None` when the covered
    /// span before `day` does not reach back far enough to know.
    pub fn trading_days_before(&self, day: NaiveDate, n: usize) -> Option<Vec<NaiveDate>> {
        let span = self.span_of(day.pred_opt()?)?;
        if n == 0 {
            return None;
        }
        let mut days: Vec<NaiveDate> = self
            .trading
            .range(span.first..day)
            .rev()
            .take(n)
            .copied()
            .collect();
        if days.len() < n {
            return None;
        }
        days.reverse();
        Some(days)
    }

    /// Trading days in `from..=to`; `None` unless the whole range is covered.
    pub fn trading_days(&self, from: NaiveDate, to: NaiveDate) -> Option<Vec<NaiveDate>> {
        self.covers_all(from, to)
            .then(|| self.trading.range(from..=to).copied().collect())
    }

    /// Adds `span` to the covered spans, joining those it overlaps or adjoins.
    fn cover(&mut self, span: Span) {
        if span.first > span.last {
            return;
        }
        let (mut first, mut last) = (span.first, span.last);
        self.covered.retain(|s| {
            let touches = s.first <= last.succ_opt().unwrap_or(last)
                && first <= s.last.succ_opt().unwrap_or(s.last);
            if touches {
                first = first.min(s.first);
                last = last.max(s.last);
            }
            !touches
        });
        let at = self.covered.partition_point(|s| s.last < first);
        self.covered.insert(at, Span { first, last });
    }

    /// This calendar with `newer` laid over it: the days `newer` covers are taken from it, the
    /// others kept. The covered spans are the union of both: a merge never uncovers a day.
    #[must_use]
    pub fn merged(&self, newer: &TradingCalendar) -> TradingCalendar {
        let mut out = self.clone();
        out.trading.retain(|d| !newer.covers(*d));
        out.trading.extend(newer.trading.iter().copied());
        for span in &newer.covered {
            out.cover(*span);
        }
        out.fetched_at = self.fetched_at.max(newer.fetched_at);
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{Datelike, Weekday};

    use super::*;

    /// Weekdays of `first..=last` minus `holidays`.
    pub(crate) fn weekdays(
        first: NaiveDate,
        last: NaiveDate,
        holidays: &[NaiveDate],
    ) -> TradingCalendar {
        let trading = first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .filter(|d| !holidays.contains(d));
        TradingCalendar::new(first, last, trading, DateTime::UNIX_EPOCH)
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn knows_only_what_it_covers() {
        let cal = weekdays(d("2026-04-01"), d("2026-05-31"), &[d("2026-04-29")]);
        assert_eq!(cal.is_trading_day(d("2026-04-28")), Some(true));
        assert_eq!(cal.is_trading_day(d("2026-04-29")), Some(false));
        assert_eq!(cal.is_trading_day(d("2026-05-02")), Some(false));
        assert_eq!(cal.is_trading_day(d("2026-06-01")), None);
        assert_eq!(
            cal.trading_days_before(d("2026-04-30"), 2),
            Some(vec![d("2026-04-27"), d("2026-04-28")])
        );
        assert_eq!(cal.trading_days_before(d("2026-04-01"), 1), None);
        assert_eq!(cal.trading_days_before(d("2026-04-02"), 2), None);
    }

    fn span(first: &str, last: &str) -> Span {
        Span {
            first: d(first),
            last: d(last),
        }
    }

    #[test]
    fn merging_joins_overlapping_reads_and_the_newer_wins() {
        let old = weekdays(d("2026-01-01"), d("2026-03-31"), &[]);
        let newer = weekdays(d("2026-03-01"), d("2026-06-30"), &[d("2026-03-20")]);
        let m = old.merged(&newer);
        assert_eq!(m.covered(), [span("2026-01-01", "2026-06-30")]);
        assert_eq!(m.is_trading_day(d("2026-03-20")), Some(false), "newer wins");
        assert_eq!(m.is_trading_day(d("2026-01-05")), Some(true));
        let next = weekdays(d("2026-07-01"), d("2026-07-31"), &[]);
        assert_eq!(
            m.merged(&next).covered(),
            [span("2026-01-01", "2026-07-31")],
            "adjoining spans join"
        );
    }

    #[test]
    fn a_read_far_away_never_uncovers_a_day() {
        let recent = weekdays(d("2026-11-01"), d("2027-01-31"), &[]);
        let old = weekdays(d("2020-01-01"), d("2020-01-31"), &[]);
        let future = weekdays(d("2027-06-01"), d("2027-06-30"), &[]);
        let m = recent.merged(&old).merged(&future);
        assert_eq!(
            m.covered(),
            [
                span("2020-01-01", "2020-01-31"),
                span("2026-11-01", "2027-01-31"),
                span("2027-06-01", "2027-06-30")
            ]
        );
        assert_eq!(m.is_trading_day(d("2026-12-04")), Some(true));
        assert_eq!(
            m.is_trading_day(d("2027-03-01")),
            None,
            "the gap stays unknown"
        );
        assert_eq!(
            m.trading_days_before(d("2027-06-02"), 2),
            None,
            "the days before 2027-06-01 are not known"
        );
        assert_eq!(
            m.trading_days_before(d("2026-12-07"), 1),
            Some(vec![d("2026-12-04")])
        );
        // A span filling the gap joins all three.
        let gap = weekdays(d("2027-02-01"), d("2027-05-31"), &[]);
        assert_eq!(
            m.merged(&gap).covered(),
            [
                span("2020-01-01", "2020-01-31"),
                span("2026-11-01", "2027-06-30")
            ]
        );
    }

    #[test]
    fn the_stored_form_of_one_range_still_reads() {
        let old = r#"{"first":"2026-01-01","last":"2026-01-31","trading":["2026-01-05","2026-02-02"],"fetched_at":"2026-01-01T00:00:00Z"}"#;
        let cal: TradingCalendar = serde_json::from_str(old).unwrap();
        assert_eq!(cal.covered(), [span("2026-01-01", "2026-01-31")]);
        assert_eq!(cal.is_trading_day(d("2026-01-05")), Some(true));
        assert_eq!(cal.is_trading_day(d("2026-02-02")), None);
        let again: TradingCalendar =
            serde_json::from_str(&serde_json::to_string(&cal).unwrap()).unwrap();
        assert_eq!(again, cal);
    }
}
