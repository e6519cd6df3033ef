//! The exchange's trading calendar as the scheduler keeps it: which days of a covered range
//! the market is open (business days and half-day sessions), read from the provider's markets
//! calendar. A day outside the covered range is unknown, never assumed open or closed.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::dataset::{FieldValue, Record};

/// The zone market dates are read in.
pub const MARKET_TIME_ZONE: chrono_tz::Tz = chrono_tz::Asia::Tokyo;

/// Trading days over a covered range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradingCalendar {
    /// First day covered.
    pub first: NaiveDate,
    /// Last day covered.
    pub last: NaiveDate,
    /// The open days in `first..=last`.
    pub trading: BTreeSet<NaiveDate>,
    /// When it was last read from the provider.
    pub fetched_at: DateTime<Utc>,
}

impl TradingCalendar {
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
            .filter_map(|r| r.sort.parse().ok())
            .filter(|d| (first..=last).contains(d))
            .collect();
        Self {
            first,
            last,
            trading,
            fetched_at,
        }
    }

    /// A calendar that covers nothing (none stored yet).
    pub fn empty() -> Self {
        Self {
            first: NaiveDate::MAX,
            last: NaiveDate::MIN,
            trading: BTreeSet::new(),
            fetched_at: DateTime::UNIX_EPOCH,
        }
    }

    /// Whether the market is open on `day`; `None` outside the covered range.
    pub fn is_trading_day(&self, day: NaiveDate) -> Option<bool> {
        self.covers(day).then(|| self.trading.contains(&day))
    }

    /// Whether `day` is inside the covered range.
    pub fn covers(&self, day: NaiveDate) -> bool {
        (self.first..=self.last).contains(&day)
    }

    /// The `n` trading days strictly before `day`, oldest first; `None` when the covered range
    /// does not reach back far enough to know.
    pub fn trading_days_before(&self, day: NaiveDate, n: usize) -> Option<Vec<NaiveDate>> {
        if n == 0 || !self.covers(day.pred_opt()?) {
            return None;
        }
        let mut days: Vec<NaiveDate> = self.trading.range(..day).rev().take(n).copied().collect();
        if days.len() < n {
            return None;
        }
        days.reverse();
        Some(days)
    }

    /// Trading days in `from..=to`; `None` unless the whole range is covered.
    pub fn trading_days(&self, from: NaiveDate, to: NaiveDate) -> Option<Vec<NaiveDate>> {
        (self.covers(from) && self.covers(to))
            .then(|| self.trading.range(from..=to).copied().collect())
    }

    /// This calendar with `newer` laid over it: days `newer` covers are taken from it. Only
    /// adjoining or overlapping ranges merge; otherwise the newer calendar replaces this one,
    /// so the covered range never has a hole.
    #[must_use]
    pub fn merged(&self, newer: &TradingCalendar) -> TradingCalendar {
        let adjoins = newer.first <= self.last.succ_opt().unwrap_or(self.last)
            && self.first <= newer.last.succ_opt().unwrap_or(newer.last);
        if !adjoins {
            return newer.clone();
        }
        let mut trading: BTreeSet<NaiveDate> = self
            .trading
            .iter()
            .filter(|d| !newer.covers(**d))
            .copied()
            .collect();
        trading.extend(newer.trading.iter().copied());
        TradingCalendar {
            first: self.first.min(newer.first),
            last: self.last.max(newer.last),
            trading,
            fetched_at: self.fetched_at.max(newer.fetched_at),
        }
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
            .filter(|d| !holidays.contains(d))
            .collect();
        TradingCalendar {
            first,
            last,
            trading,
            fetched_at: DateTime::UNIX_EPOCH,
        }
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

    #[test]
    fn merging_keeps_the_range_without_holes() {
        let old = weekdays(d("2026-01-01"), d("2026-03-31"), &[]);
        let newer = weekdays(d("2026-03-01"), d("2026-06-30"), &[d("2026-03-20")]);
        let m = old.merged(&newer);
        assert_eq!((m.first, m.last), (d("2026-01-01"), d("2026-06-30")));
        assert_eq!(m.is_trading_day(d("2026-03-20")), Some(false), "newer wins");
        assert_eq!(m.is_trading_day(d("2026-01-05")), Some(true));
        let far = weekdays(d("2027-01-01"), d("2027-01-31"), &[]);
        assert_eq!(m.merged(&far), far, "a gap: replaced");
    }
}
