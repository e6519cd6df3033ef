//! The Tokyo Stock Exchange trading calendar, computed by rule rather than from a table.
//!
//! A trading day is a weekday that is neither a Japanese national holiday nor an exchange
//! holiday (Dec 31, Jan 1–3). Holidays follow the Act on National Holidays as amended in
//! 2007 (substitute holidays roll forward to the next free day), with the pre-2007 rules
//! where they differ, the equinox formula valid for 1980–2099, the 2019 enthronement days
//! and the 2020/2021 Olympic moves. Results are accurate from 2000 onwards.

use chrono::{Datelike, NaiveDate, Weekday};

/// Whether the TSE holds a session on `date`.
pub fn is_trading_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
        && !is_exchange_holiday(date)
        && !is_national_holiday(date)
}

/// The trading days in `from..=to`, ascending; empty when `from > to`.
pub fn trading_days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days()
        .take_while(move |d| *d <= to)
        .filter(|d| is_trading_day(*d))
}

fn is_exchange_holiday(date: NaiveDate) -> bool {
    matches!((date.month(), date.day()), (12, 31) | (1, 1..=3))
}

/// Whether `date` is a national holiday: a named holiday, a substitute holiday (振替休日)
/// or a day sandwiched between two named holidays (国民の休日).
pub(crate) fn is_national_holiday(date: NaiveDate) -> bool {
    is_named_holiday(date) || is_substitute_holiday(date) || is_sandwiched(date)
}

fn is_substitute_holiday(date: NaiveDate) -> bool {
    if is_named_holiday(date) {
        return false;
    }
    if date.year() < 2007 {
        return date.weekday() == Weekday::Mon && date.pred_opt().is_some_and(is_named_holiday);
    }
    // Since 2007 a Sunday holiday moves to the first following day that is not a holiday.
    let mut day = date;
    while let Some(prev) = day.pred_opt() {
        if !is_named_holiday(prev) {
            return false;
        }
        if prev.weekday() == Weekday::Sun {
            return true;
        }
        day = prev;
    }
    false
}

fn is_sandwiched(date: NaiveDate) -> bool {
    // Before 2007 a sandwiched Sunday stayed an ordinary Sunday; it cannot matter for trading
    // but it keeps a Sunday May 4 from spawning a substitute day.
    if is_named_holiday(date) || (date.year() < 2007 && date.weekday() == Weekday::Sun) {
        return false;
    }
    date.pred_opt().is_some_and(is_named_holiday) && date.succ_opt().is_some_and(is_named_holiday)
}

fn is_named_holiday(date: NaiveDate) -> bool {
    let (y, m, d) = (date.year(), date.month(), date.day());
    match m {
        1 => {
            d == 1
                || (if y >= 2000 {
                    is_nth_monday(date, 2)
                } else {
                    d == 15
                })
        }
        2 => d == 11 || (y >= 2020 && d == 23),
        3 => d == vernal_equinox(y),
        4 => d == 29 || (y == 2019 && d == 30),
        5 => d == 3 || d == 5 || (y >= 2007 && d == 4) || (y == 2019 && d == 1),
        7 => match y {
            2020 => d == 23 || d == 24,
            2021 => d == 22 || d == 23,
            1996..=2002 => d == 20,
            2003.. => is_nth_monday(date, 3),
            _ => false,
        },
        8 => match y {
            2020 => d == 10,
            2021 => d == 8,
            2016.. => d == 11,
            _ => false,
        },
        9 => {
            d == autumnal_equinox(y)
                || (if y >= 2003 {
                    is_nth_monday(date, 3)
                } else {
                    d == 15
                })
        }
        10 => match y {
            2020 | 2021 => false,
            2019 => d == 22 || is_nth_monday(date, 2),
            2000.. => is_nth_monday(date, 2),
            _ => d == 10,
        },
        11 => d == 3 || d == 23,
        12 => (1989..=2018).contains(&y) && d == 23,
        _ => false,
    }
}

fn is_nth_monday(date: NaiveDate, n: u32) -> bool {
    date.weekday() == Weekday::Mon && (date.day() - 1) / 7 + 1 == n
}

// The standard approximation published with the National Astronomical Observatory's tables.
fn equinox_day(year: i32, base: f64) -> u32 {
    let since = f64::from(year - 1980);
    let leap_corrections = f64::from((year - 1980).div_euclid(4));
    (base + 0.242_194 * since - leap_corrections).floor() as u32
}

fn vernal_equinox(year: i32) -> u32 {
    equinox_day(year, 20.8431)
}

fn autumnal_equinox(year: i32) -> u32 {
    equinox_day(year, 23.2488)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    fn closed(dates: &[&str]) {
        for s in dates {
            assert!(!is_trading_day(day(s)), "{s} should be closed");
        }
    }

    fn open(dates: &[&str]) {
        for s in dates {
            assert!(is_trading_day(day(s)), "{s} should be a trading day");
        }
    }

    #[test]
    fn known_holidays_are_closed() {
        closed(&[
            "2024-01-08", // Coming-of-Age Day
            "2024-02-12", // substitute for Feb 11 (Sun)
            "2024-02-23", // Emperor's Birthday
            "2024-03-20", // vernal equinox
            "2024-09-23", // substitute for the autumnal equinox (Sun)
            "2025-11-24", // substitute for Labour Thanksgiving (Sun)
            "2026-09-22", // 国民の休日 between Respect-for-the-Aged and the equinox
            "2024-12-31",
            "2025-01-02",
            "2025-01-03",
            "2024-05-06", // substitute for Children's Day (Sun)
            "2009-09-22", // 国民の休日 (Silver Week 2009)
            "2008-05-06", // Greenery Day on Sunday -> Tuesday substitute
        ]);
    }

    #[test]
    fn known_trading_days_are_open() {
        open(&[
            "2024-12-30",
            "2025-01-06",
            "2024-01-04",
            "2023-03-24",
            "2018-12-25",
            "2024-07-16",
            "2003-05-06", // pre-2007: no substitute after a Sunday May 4
        ]);
        closed(&["2024-07-13", "2024-07-14"]); // weekend
    }

    #[test]
    fn special_years_follow_the_law_of_the_day() {
        closed(&[
            "2019-04-30",
            "2019-05-01",
            "2019-05-02",
            "2019-05-06",
            "2019-10-22",
            "2020-07-23",
            "2020-07-24",
            "2020-08-10",
            "2021-07-22",
            "2021-07-23",
            "2021-08-09",
            "2018-12-24", // substitute for the Emperor's Birthday 2018 (Sun)
        ]);
        open(&[
            "2020-10-12",
            "2021-10-11",
            "2021-07-19",
            "2020-07-20",
            "2019-12-23",
        ]);
    }

    #[test]
    fn equinoxes_match_published_dates() {
        let vernal = [(2020, 20), (2023, 21), (2024, 20), (2025, 20), (2026, 20)];
        let autumnal = [
            (2020, 22),
            (2023, 23),
            (2024, 22),
            (2025, 23),
            (2026, 23),
            (2012, 22),
        ];
        for (y, d) in vernal {
            assert_eq!(vernal_equinox(y), d, "vernal {y}");
        }
        for (y, d) in autumnal {
            assert_eq!(autumnal_equinox(y), d, "autumnal {y}");
        }
    }

    #[test]
    fn trading_days_count_a_normal_year() {
        // 262 weekdays in 2024 minus 17 weekday closures; 261 minus 18 in 2025.
        assert_eq!(
            trading_days(day("2024-01-01"), day("2024-12-31")).count(),
            245
        );
        assert_eq!(
            trading_days(day("2025-01-01"), day("2025-12-31")).count(),
            243
        );
        assert_eq!(
            trading_days(day("2024-01-02"), day("2024-01-01")).count(),
            0
        );
    }
}
