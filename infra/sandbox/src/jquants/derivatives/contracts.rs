//! Listed derivative contracts: contract months, special-quotation (SQ) and last trading
//! days, and the daily session bars they trade at around their underlying index.
//!
//! SQ day is the second Friday of the contract month (the trading day before it when that is
//! a holiday); the last trading day is the trading day before SQ. The trading day's bar is the
//! night session that opened it (from the evening before) plus the day session.

use chrono::{Datelike, Months, NaiveDate, Weekday};

use crate::calendar::is_trading_day;
use crate::hash::{mix, unit};
use crate::indices::IndexBar;

/// A contract month and its key dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Contract {
    pub(crate) month: NaiveDate,
    pub(crate) sq: NaiveDate,
    pub(crate) last_trading: NaiveDate,
}

impl Contract {
    /// `YYYY-MM`.
    pub(crate) fn label(&self) -> String {
        self.month.format("%Y-%m").to_string()
    }

    /// `YYMM`, for codes.
    pub(crate) fn yymm(&self) -> String {
        self.month.format("%y%m").to_string()
    }
}

fn previous_trading_day(mut day: NaiveDate) -> NaiveDate {
    loop {
        match day.pred_opt() {
            Some(d) if is_trading_day(d) => return d,
            Some(d) => day = d,
            None => return day,
        }
    }
}

fn contract(month: NaiveDate) -> Contract {
    let friday = NaiveDate::from_weekday_of_month_opt(month.year(), month.month(), Weekday::Fri, 2)
        .unwrap_or(month);
    let sq = if is_trading_day(friday) {
        friday
    } else {
        previous_trading_day(friday)
    };
    Contract {
        month,
        sq,
        last_trading: previous_trading_day(sq),
    }
}

/// The `count` nearest contracts still trading on `date`, monthly or quarterly (Mar, Jun,
/// Sep, Dec), nearest first.
pub(crate) fn contracts(date: NaiveDate, count: usize, quarterly: bool) -> Vec<Contract> {
    let first = date.with_day(1).unwrap_or(date);
    (0..24)
        .filter_map(|i| first.checked_add_months(Months::new(i)))
        .filter(|m| !quarterly || m.month() % 3 == 0)
        .map(contract)
        .filter(|c| c.last_trading >= date)
        .take(count)
        .collect()
}

/// One session's bar.
pub(crate) type Ohlc = [f64; 4];

/// Night, day and whole-day bars of an instrument priced `scale` times the underlying,
/// rounded to `tick`.
pub(crate) fn sessions(under: &IndexBar, scale: f64, tick: f64, seed: u64) -> [Ohlc; 3] {
    let round = |x: f64| ((x * scale / tick).round() * tick).max(tick);
    let u = |salt: u64| unit(mix(&[seed, salt]));
    let night_close = under.o * (1.0 + 0.003 * (2.0 * u(1) - 1.0));
    let night_open = under.o * (1.0 + 0.004 * (2.0 * u(2) - 1.0));
    let night = [
        round(night_open),
        round(night_open.max(night_close) * (1.0 + 0.003 * u(3))),
        round(night_open.min(night_close) * (1.0 - 0.003 * u(4))),
        round(night_close),
    ];
    let day = [
        round(under.o),
        round(under.h),
        round(under.l),
        round(under.c),
    ];
    let whole = [night[0], night[1].max(day[1]), night[2].min(day[2]), day[3]];
    [night, day, whole]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sq_is_the_second_friday_and_trading_stops_the_day_before() {
        let date = NaiveDate::from_ymd_opt(2024, 12, 2).expect("date");
        let next = contracts(date, 3, true);
        let labels: Vec<String> = next.iter().map(Contract::label).collect();
        assert_eq!(labels, ["2024-12", "2025-03", "2025-06"]);
        assert_eq!(
            next[0].sq,
            NaiveDate::from_ymd_opt(2024, 12, 13).expect("date")
        );
        assert_eq!(
            next[0].last_trading,
            NaiveDate::from_ymd_opt(2024, 12, 12).expect("date")
        );
        let after = NaiveDate::from_ymd_opt(2024, 12, 13).expect("date");
        assert_eq!(contracts(after, 1, true)[0].label(), "2025-03");
        assert_eq!(contracts(date, 2, false)[1].label(), "2025-01");
    }
}
