//! The results calendar: every issue discloses its 1Q, 2Q, 3Q and full-year results 35–50
//! days after each quarter of its fiscal year ends (rolled to the next trading day).
//!
//! Both directions are O(1) per issue: the disclosures of one issue over a range, and every
//! issue's disclosures on one day (only one quarter end can lie in the lag window before it).

use chrono::{Datelike, Days, Months, NaiveDate};

use super::issuer::{Issuer, issuer};
use crate::calendar::is_trading_day;
use crate::hash::mix;
use crate::params::IssueCode;
use crate::universe::issue_codes;

/// Which results a disclosure reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Period {
    Q1,
    Q2,
    Q3,
    Fy,
}

impl Period {
    /// `1Q`, `2Q`, `3Q`, `FY` as `TypeOfCurrentPeriod` writes them.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Q1 => "1Q",
            Self::Q2 => "2Q",
            Self::Q3 => "3Q",
            Self::Fy => "FY",
        }
    }

    /// Quarters since the fiscal year started (1–4).
    pub(crate) fn quarters(self) -> u32 {
        match self {
            Self::Q1 => 1,
            Self::Q2 => 2,
            Self::Q3 => 3,
            Self::Fy => 4,
        }
    }
}

/// One results disclosure.
#[derive(Debug, Clone)]
pub(crate) struct Disclosure {
    pub(crate) code: IssueCode,
    pub(crate) issuer: Issuer,
    pub(crate) date: NaiveDate,
    pub(crate) time: &'static str,
    /// 14 digits: the date, then 6 from the hash; rows sort by it.
    pub(crate) number: String,
    pub(crate) period: Period,
    pub(crate) period_end: NaiveDate,
    pub(crate) fy_start: NaiveDate,
    pub(crate) fy_end: NaiveDate,
}

/// The first statements J-Quants holds.
const FIRST: Option<NaiveDate> = NaiveDate::from_ymd_opt(2008, 7, 7);
const TIMES: [&str; 5] = ["11:30:00", "13:00:00", "15:00:00", "15:00:00", "15:30:00"];

/// The last day of `date`'s month.
pub(crate) fn month_end(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).unwrap_or(date);
    first
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(date)
}

/// Quarter ends of the issuer's fiscal year within `from..=to`.
pub(crate) fn quarter_ends(
    issuer: &Issuer,
    from: NaiveDate,
    to: NaiveDate,
) -> impl Iterator<Item = (NaiveDate, Period)> {
    let fy_end = issuer.fy_end_month;
    let start = from.with_day(1).unwrap_or(from);
    (0_u32..)
        .map_while(move |i| start.checked_add_months(Months::new(i)))
        .take_while(move |m| *m <= to)
        .filter_map(move |m| {
            let period = match (m.month() + 12 - fy_end) % 12 {
                0 => Period::Fy,
                3 => Period::Q1,
                6 => Period::Q2,
                9 => Period::Q3,
                _ => return None,
            };
            let end = month_end(m);
            (from..=to).contains(&end).then_some((end, period))
        })
}

/// The disclosure of the quarter ending `period_end`.
pub(crate) fn disclosure(
    code: &IssueCode,
    issuer: &Issuer,
    period_end: NaiveDate,
    period: Period,
) -> Option<Disclosure> {
    let h = mix(&[
        issuer.seed,
        u64::from(period_end.num_days_from_ce().unsigned_abs()),
    ]);
    let lag = if period == Period::Fy { 40 } else { 35 } + h % 10;
    let mut date = period_end.checked_add_days(Days::new(lag))?;
    while !is_trading_day(date) {
        date = date.succ_opt()?;
    }
    let fy_end =
        month_end(period_end.checked_add_months(Months::new(3 * (4 - period.quarters())))?);
    let fy_start = month_end(fy_end.checked_sub_months(Months::new(12))?).succ_opt()?;
    Some(Disclosure {
        code: code.clone(),
        issuer: issuer.clone(),
        date,
        time: TIMES[(h >> 8) as usize % TIMES.len()],
        number: format!("{}{:06}", date.format("%Y%m%d"), (h >> 16) % 1_000_000),
        period,
        period_end,
        fy_start,
        fy_end,
    })
    .filter(|d| FIRST.is_some_and(|first| d.date >= first))
}

/// The disclosures of `code` dated within `from..=to`, by date.
pub(crate) fn disclosures_of(code: &IssueCode, from: NaiveDate, to: NaiveDate) -> Vec<Disclosure> {
    let issuer = issuer(code);
    let earliest = from.checked_sub_days(Days::new(70)).unwrap_or(from);
    quarter_ends(&issuer, earliest, to)
        .filter_map(|(end, period)| disclosure(code, &issuer, end, period))
        .filter(|d| (from..=to).contains(&d.date))
        .collect()
}

/// Every issue's disclosures dated `date`, by disclosure number.
pub(crate) fn disclosures_on(date: NaiveDate) -> Vec<Disclosure> {
    let (Some(from), Some(to)) = (
        date.checked_sub_days(Days::new(65)),
        date.checked_sub_days(Days::new(30)),
    ) else {
        return Vec::new();
    };
    let mut found: Vec<Disclosure> = issue_codes()
        .iter()
        .filter_map(|c| IssueCode::parse(c).ok())
        .filter_map(|code| {
            let issuer = issuer(&code);
            let (end, period) = quarter_ends(&issuer, from, to).next()?;
            disclosure(&code, &issuer, end, period).filter(|d| d.date == date)
        })
        .collect();
    found.sort_by(|a, b| a.number.cmp(&b.number));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_march_issuer_discloses_four_times_a_year_after_each_quarter() {
        let toyota = IssueCode::parse("7203").expect("code");
        let year = disclosures_of(&toyota, day("2024-01-01"), day("2024-12-31"));
        let periods: Vec<&str> = year.iter().map(|d| d.period.label()).collect();
        assert_eq!(periods, ["3Q", "FY", "1Q", "2Q"]);
        let fy = &year[1];
        assert_eq!(
            (fy.fy_start, fy.fy_end),
            (day("2023-04-01"), day("2024-03-31"))
        );
        assert!(
            year.iter()
                .all(|d| is_trading_day(d.date) && d.number.len() == 14)
        );
    }

    #[test]
    fn disclosures_on_a_day_agree_with_the_per_issue_view() {
        let date = day("2024-05-10");
        let all = disclosures_on(date);
        assert!(all.len() > 20, "{}", all.len());
        for d in all.iter().take(20) {
            let own = disclosures_of(&d.code, date, date);
            assert_eq!(own.len(), 1);
            assert_eq!(own[0].number, d.number);
        }
        assert!(all.windows(2).all(|w| w[0].number <= w[1].number));
    }
}
