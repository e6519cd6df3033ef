//! The sandbox's own clock: token lifetimes, plan windows, the morning-session window, rate
//! windows and the request log all read it, so tests can move time instead of waiting.
//!
//! It runs at real speed from a starting instant: the real time, or 18:00 JST of
//! [`crate::SandboxConfig::today`] when a fixed date is configured (after the day's data is
//! published, so the date's bars exist). Advancing or setting it shifts every later reading.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

/// Japan's offset from UTC; it has no daylight saving.
pub(crate) const JST_OFFSET_SECS: i64 = 9 * 3600;

/// A clock that runs at real speed from a chosen start and can be moved forward or set.
#[derive(Debug)]
pub(crate) struct Clock {
    started: Instant,
    start: DateTime<Utc>,
    shift: Mutex<TimeDelta>,
}

impl Clock {
    /// A clock reading the real time, or 18:00 JST of `today` when given.
    pub(crate) fn new(today: Option<NaiveDate>) -> Self {
        let start = today.map_or_else(Utc::now, |day| {
            let evening = NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default();
            day.and_time(evening).and_utc() - TimeDelta::seconds(JST_OFFSET_SECS)
        });
        Self {
            started: Instant::now(),
            start,
            shift: Mutex::new(TimeDelta::zero()),
        }
    }

    /// The current sandbox time.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let elapsed = TimeDelta::from_std(self.started.elapsed()).unwrap_or_default();
        self.start + elapsed + *self.shift.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Milliseconds since the epoch, for the request log and rate windows.
    pub(crate) fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// The date at the exchange.
    pub(crate) fn today(&self) -> NaiveDate {
        jst(self.now()).date()
    }

    /// Moves the clock forward (or back, with a negative delta).
    pub(crate) fn advance(&self, by: TimeDelta) {
        *self.shift.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }

    /// Sets the clock so that it reads `at` now.
    pub(crate) fn set(&self, at: DateTime<Utc>) {
        let by = at - self.now();
        self.advance(by);
    }
}

/// The JST wall-clock time of an instant.
pub(crate) fn jst(at: DateTime<Utc>) -> chrono::NaiveDateTime {
    (at + TimeDelta::seconds(JST_OFFSET_SECS)).naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_today_starts_at_six_pm_tokyo_and_moves_when_advanced() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
        let clock = Clock::new(Some(day));
        assert_eq!(clock.today(), day);
        assert_eq!(jst(clock.now()).time().format("%H").to_string(), "18");
        clock.advance(TimeDelta::hours(7));
        assert_eq!(clock.today(), day.succ_opt().expect("date"));
        let target = Utc::now() - TimeDelta::days(400);
        clock.set(target);
        assert!((clock.now() - target).num_seconds().abs() < 5);
    }
}
