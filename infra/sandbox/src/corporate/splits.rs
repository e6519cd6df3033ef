//! Stock splits: about 25 issues (JPX's own 8697 among them, on its real ex-date 2023-09-28)
//! split 1:2 once, on a trading day between 2012 and 2025.
//!
//! Raw prices halve on the ex-date; J-Quants serves `AdjFactor` 0.5 on that day and adjusted
//! prices for the days before it halved (volumes doubled), once the ex-date is not in the future.

use chrono::NaiveDate;

use crate::calendar::is_trading_day;
use crate::hash::{hash_bytes, mix};
use crate::params::IssueCode;

/// A stock split: every `from` shares became `to` shares from `ex_date` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockSplit {
    /// The first day the shares trade at the post-split price.
    pub ex_date: NaiveDate,
    /// Shares before (1).
    pub from: u32,
    /// Shares after (2).
    pub to: u32,
}

impl StockSplit {
    /// The J-Quants adjustment factor of the ex-date (`from / to`, 0.5 for 1:2).
    pub fn factor(&self) -> f64 {
        f64::from(self.from) / f64::from(self.to)
    }
}

/// The split of `code`, if it has one.
pub(crate) fn split_of(code: &IssueCode) -> Option<StockSplit> {
    if code.as_str() == "86970" {
        return NaiveDate::from_ymd_opt(2023, 9, 28).map(one_to_two);
    }
    let issue = hash_bytes(code.as_str().as_bytes());
    if mix(&[issue, 0x5911]) % 1000 >= 6 {
        return None;
    }
    let first = NaiveDate::from_ymd_opt(2012, 1, 4)?;
    let offset = mix(&[issue, 0x5912]) % (14 * 365);
    let mut day = first.checked_add_days(chrono::Days::new(offset))?;
    while !is_trading_day(day) {
        day = day.succ_opt()?;
    }
    Some(one_to_two(day))
}

fn one_to_two(ex_date: NaiveDate) -> StockSplit {
    StockSplit {
        ex_date,
        from: 1,
        to: 2,
    }
}

/// How many post-split shares one share of `date` is: 2 before a 1:2 ex-date, else 1.
/// Raw prices are the adjusted series times this.
pub(crate) fn share_multiple(code: &IssueCode, date: NaiveDate) -> f64 {
    split_of(code).map_or(1.0, |s| {
        if date < s.ex_date {
            f64::from(s.to) / f64::from(s.from)
        } else {
            1.0
        }
    })
}

/// The factor J-Quants multiplies raw prices of `date` by, for splits known on `as_of`.
pub(crate) fn cumulative_factor(code: &IssueCode, date: NaiveDate, as_of: NaiveDate) -> f64 {
    split_of(code).map_or(1.0, |s| {
        if date < s.ex_date && s.ex_date <= as_of {
            s.factor()
        } else {
            1.0
        }
    })
}

/// `AdjFactor` of `date`: the split's factor on its ex-date, 1.0 otherwise.
pub(crate) fn day_factor(code: &IssueCode, date: NaiveDate) -> f64 {
    split_of(code).map_or(1.0, |s| if s.ex_date == date { s.factor() } else { 1.0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::universe::issue_codes;

    #[test]
    fn a_few_issues_split_once_on_a_trading_day() {
        let splits: Vec<StockSplit> = issue_codes()
            .iter()
            .filter_map(|c| split_of(&IssueCode::parse(c).expect("code")))
            .collect();
        assert!((15..=40).contains(&splits.len()), "{}", splits.len());
        assert!(splits.iter().all(|s| is_trading_day(s.ex_date)));
        let last = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        assert!(splits.iter().all(|s| s.ex_date < last && s.factor() == 0.5));
    }

    #[test]
    fn factors_change_at_the_ex_date() {
        let jpx = IssueCode::parse("8697").expect("code");
        let day = |d| NaiveDate::from_ymd_opt(2023, 9, d).expect("date");
        let later = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        assert_eq!(share_multiple(&jpx, day(27)), 2.0);
        assert_eq!(share_multiple(&jpx, day(28)), 1.0);
        assert_eq!(cumulative_factor(&jpx, day(27), later), 0.5);
        assert_eq!(cumulative_factor(&jpx, day(27), day(27)), 1.0);
        assert_eq!(
            (day_factor(&jpx, day(28)), day_factor(&jpx, day(29))),
            (0.5, 1.0)
        );
    }
}
