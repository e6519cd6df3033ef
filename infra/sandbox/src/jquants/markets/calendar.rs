//! `GET /v2/markets/calendar`: the TSE calendar with `HolDiv` "1" (business day), "0" (closed)
//! and "3" (closed, but the OSE holds holiday trading: weekday national holidays since
//! 2022-09-23, except over the year-end break). "2" (half-day session) is never served: the TSE has held no half-day sessions
//! in the years the sandbox covers. Not paginated; `hol_div`, `from`, `to` are optional.
//! Paid plans see to the end of next year, Free its usual delayed window.

use chrono::{Datelike, NaiveDate, Weekday};

use crate::calendar::{is_national_holiday, is_trading_day};
use crate::config::{Plan, Window};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day};

pub(crate) const ENDPOINT: Endpoint = Endpoint {
    paginated: false,
    ..Endpoint::new("/markets/calendar", Plan::Free, list)
};

/// The `HolDiv` of `date`.
pub(crate) fn holiday_division(date: NaiveDate) -> &'static str {
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    let year_end = matches!((date.month(), date.day()), (12, 31) | (1, 1..=3));
    let holiday_trading = NaiveDate::from_ymd_opt(2022, 9, 23).is_some_and(|d| date >= d);
    if is_trading_day(date) {
        "1"
    } else if holiday_trading && !weekend && !year_end && is_national_holiday(date) {
        "3"
    } else {
        "0"
    }
}

fn list(q: &Query) -> Result<Listing, ApiError> {
    let division = q.get("hol_div").map(str::to_owned);
    if division
        .as_deref()
        .is_some_and(|d| !matches!(d, "0" | "1" | "2" | "3"))
    {
        return Err(ApiError::invalid("hol_div"));
    }
    let mut window = q.window();
    if q.plan != Plan::Free {
        let end_of_next_year = NaiveDate::from_ymd_opt(q.today.year() + 1, 12, 31);
        window = Window {
            to: end_of_next_year.unwrap_or(window.to),
            ..window
        };
    }
    let (from, to) = q.range(window)?;
    let rows = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|d| (d, holiday_division(d)))
        .filter(|(_, div)| division.as_deref().is_none_or(|want| want == *div))
        .map(|(d, div)| {
            let mut row = Record::with_capacity(2);
            row.push("Date", day(d));
            row.push("HolDiv", div);
            row
        })
        .collect();
    Ok(Listing::rows(rows))
}
