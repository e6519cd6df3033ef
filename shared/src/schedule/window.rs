//! Which dates a scheduled run fetches, relative to the market date it fires on.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::calendar::TradingCalendar;

/// A relative date window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Window {
    /// The last trading day before the fire's market date ("yesterday's bars").
    PreviousTradingDay,
    /// The last `days` trading days before the fire's market date.
    LastTradingDays {
        /// How many (1..=250).
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 250))]
        days: u16,
    },
    /// Everything after the watermark (the last day a run of this dataset and symbol set
    /// completed), up to the previous trading day; from `start` on the first run.
    SinceLastSuccess {
        /// Where the first run (the backfill) begins.
        start: NaiveDate,
    },
}

/// A window read against the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// Fetch `from..=to`.
    Range(NaiveDate, NaiveDate),
    /// Nothing new since the watermark.
    UpToDate,
    /// The calendar does not cover the dates yet: it must be read from `since` (enough days
    /// back for the window's trading days, holidays included) to the fire's market date.
    Unknown {
        /// The first day to read.
        since: NaiveDate,
    },
}

impl Window {
    /// The dates of a run firing on market date `day`, given the dataset's `watermark`.
    pub fn resolve(
        self,
        day: NaiveDate,
        calendar: &TradingCalendar,
        watermark: Option<NaiveDate>,
    ) -> Resolved {
        let n = match self {
            Window::PreviousTradingDay | Window::SinceLastSuccess { .. } => 1,
            Window::LastTradingDays { days } => usize::from(days),
        };
        let Some(days) = calendar.trading_days_before(day, n) else {
            // Five trading days a week, and the longest closures (New Year, Golden Week).
            let back = u64::try_from(n * 3 / 2 + 14).unwrap_or(u64::MAX);
            return Resolved::Unknown {
                since: day.checked_sub_days(Days::new(back)).unwrap_or(day),
            };
        };
        let (first, last) = (days[0], days[days.len() - 1]);
        match self {
            Window::SinceLastSuccess { start } => {
                let from = watermark
                    .and_then(|w| w.checked_add_days(Days::new(1)))
                    .map_or(start, |after| after.max(start));
                if from > last {
                    Resolved::UpToDate
                } else {
                    Resolved::Range(from, last)
                }
            }
            _ => Resolved::Range(first, last),
        }
    }

    /// The window's own checks, for the API.
    ///
    /// # Errors
    /// A count out of range.
    pub fn validate(self) -> Result<(), super::ScheduleError> {
        match self {
            Window::LastTradingDays { days } if !(1..=250).contains(&days) => Err(
                super::ScheduleError("`window.days` must be between 1 and 250".into()),
            ),
            _ => Ok(()),
        }
    }
}

/// Splits `from..=to` into consecutive chunks of at most `max_trading_days` trading days
/// each (a backfill of years becomes groups a plan can finish in reasonable time); `None` when
/// the calendar does not cover the range. Chunks start and end on trading days, except that
/// the first starts at `from`.
pub fn chunks(
    from: NaiveDate,
    to: NaiveDate,
    calendar: &TradingCalendar,
    max_trading_days: usize,
) -> Option<Vec<(NaiveDate, NaiveDate)>> {
    let days = calendar.trading_days(from, to)?;
    let mut out: Vec<(NaiveDate, NaiveDate)> = days
        .chunks(max_trading_days.max(1))
        .map(|c| (c[0], c[c.len() - 1]))
        .collect();
    if let Some(first) = out.first_mut() {
        first.0 = from;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::calendar::tests::weekdays;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn windows_resolve_against_the_calendar() {
        // Golden Week 2026: 29 Apr, 4-6 May closed.
        let holidays = [
            d("2026-04-29"),
            d("2026-05-04"),
            d("2026-05-05"),
            d("2026-05-06"),
        ];
        let cal = weekdays(d("2026-01-01"), d("2026-12-31"), &holidays);
        let thu = d("2026-05-07");
        assert_eq!(
            Window::PreviousTradingDay.resolve(thu, &cal, None),
            Resolved::Range(d("2026-05-01"), d("2026-05-01"))
        );
        assert_eq!(
            Window::LastTradingDays { days: 3 }.resolve(thu, &cal, None),
            Resolved::Range(d("2026-04-28"), d("2026-05-01"))
        );
        let since = Window::SinceLastSuccess {
            start: d("2026-04-01"),
        };
        assert_eq!(
            since.resolve(thu, &cal, None),
            Resolved::Range(d("2026-04-01"), d("2026-05-01"))
        );
        assert_eq!(
            since.resolve(thu, &cal, Some(d("2026-04-27"))),
            Resolved::Range(d("2026-04-28"), d("2026-05-01"))
        );
        assert_eq!(
            since.resolve(thu, &cal, Some(d("2026-05-01"))),
            Resolved::UpToDate
        );
        assert_eq!(
            Window::PreviousTradingDay.resolve(d("2027-01-04"), &cal, None),
            Resolved::Unknown {
                since: d("2026-12-20")
            }
        );
        // 250 trading days need about a year of calendar, whatever the holidays.
        let Resolved::Unknown { since } =
            Window::LastTradingDays { days: 250 }.resolve(d("2027-01-04"), &cal, None)
        else {
            panic!("a year back is not covered");
        };
        assert!(since <= d("2026-01-04"), "{since}");
    }

    #[test]
    fn backfills_split_into_trading_day_chunks() {
        let cal = weekdays(d("2026-01-01"), d("2026-12-31"), &[]);
        let c = chunks(d("2026-01-03"), d("2026-01-31"), &cal, 10).unwrap();
        assert_eq!(
            c,
            vec![
                (d("2026-01-03"), d("2026-01-16")),
                (d("2026-01-19"), d("2026-01-30")),
            ]
        );
        assert!(chunks(d("2025-12-01"), d("2026-01-31"), &cal, 10).is_none());
    }
}
