//! Cash dividends: three in four issuers pay twice a year, on the record dates that end their
//! second quarter and their fiscal year, announced with those results.
//!
//! The amount is about 1.1% of the issue's price level per payment, growing 3% a year, in
//! split-adjusted yen; the raw amount is that times the share multiple on the ex-date.

use chrono::{Datelike, Days, NaiveDate};

use super::disclosures::{Disclosure, Period, disclosure, quarter_ends};
use super::issuer::issuer;
use super::splits::share_multiple;
use crate::calendar::is_trading_day;
use crate::params::IssueCode;
use crate::price_level::base_price;

/// One dividend.
#[derive(Debug, Clone)]
pub(crate) struct Dividend {
    pub(crate) announcement: Disclosure,
    pub(crate) interim: bool,
    pub(crate) record_date: NaiveDate,
    pub(crate) ex_date: NaiveDate,
    pub(crate) pay_date: NaiveDate,
    /// Yen per share as paid.
    pub(crate) amount: f64,
}

/// The dividend whose record date ends `period`, if the issuer pays one.
pub(crate) fn dividend(
    code: &IssueCode,
    period_end: NaiveDate,
    period: Period,
) -> Option<Dividend> {
    let issuer = issuer(code);
    if !issuer.pays_dividends || !matches!(period, Period::Q2 | Period::Fy) {
        return None;
    }
    let announcement = disclosure(code, &issuer, period_end, period)?;
    let ex_date = ex_date(period_end)?;
    let years = f64::from(period_end.year() - 2008);
    let adjusted = ((base_price(code) * 0.011 * 1.03_f64.powf(years)) * 2.0).round() / 2.0;
    let adjusted_amount = adjusted.max(1.0);
    let lag = if period == Period::Fy { 86 } else { 65 };
    let mut pay_date = period_end.checked_add_days(Days::new(lag))?;
    while !is_trading_day(pay_date) {
        pay_date = pay_date.succ_opt()?;
    }
    Some(Dividend {
        announcement,
        interim: period == Period::Q2,
        record_date: period_end,
        ex_date,
        pay_date,
        amount: adjusted_amount * share_multiple(code, ex_date),
    })
}

/// The ex-dividend date for `record_date`: one trading day before the last trading day on or
/// before it (two before settlement moved to T+2 on 2019-07-16).
fn ex_date(record_date: NaiveDate) -> Option<NaiveDate> {
    let previous = |mut d: NaiveDate| {
        d = d.pred_opt()?;
        while !is_trading_day(d) {
            d = d.pred_opt()?;
        }
        Some(d)
    };
    let settlement = record_date.succ_opt().and_then(previous)?;
    let t_plus_two = NaiveDate::from_ymd_opt(2019, 7, 16)?;
    let once = previous(settlement)?;
    if once >= t_plus_two {
        Some(once)
    } else {
        previous(once)
    }
}

/// Dividends of `code` whose record date falls within `from..=to`.
pub(crate) fn dividends_by_record(
    code: &IssueCode,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Dividend> {
    quarter_ends(&issuer(code), from, to)
        .filter_map(|(end, period)| dividend(code, end, period))
        .collect()
}

/// The dividend announced with `disclosure`, if any.
pub(crate) fn dividend_of(disclosure: &Disclosure) -> Option<Dividend> {
    dividend(&disclosure.code, disclosure.period_end, disclosure.period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn ex_dates_follow_the_settlement_rule() {
        // 2024-03-31 is a Sunday: last trading day 03-29, ex-date 03-28.
        assert_eq!(ex_date(day("2024-03-31")), Some(day("2024-03-28")));
        // 2018-09-30 is a Sunday: last trading day 09-28, ex-date two days before it.
        assert_eq!(ex_date(day("2018-09-30")), Some(day("2018-09-26")));
    }

    #[test]
    fn toyota_pays_twice_a_year_announced_after_the_record_date() {
        let toyota = IssueCode::parse("7203").expect("code");
        let paid = dividends_by_record(&toyota, day("2024-01-01"), day("2024-12-31"));
        assert_eq!(paid.len(), 2);
        assert!(
            paid.iter()
                .all(|d| d.announcement.date > d.record_date && d.amount >= 1.0)
        );
        assert!(paid[1].interim && !paid[0].interim);
    }
}
