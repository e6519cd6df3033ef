//! The figures behind each results disclosure: full-year sales grow about 4% a year around a
//! size drawn per issuer, margins and balance-sheet ratios are per issuer, and quarterly
//! figures are the year's figures accumulated to the quarter (as Japanese statements report).

use chrono::Datelike;

use super::disclosures::{Disclosure, Period};
use crate::hash::{mix, unit};

/// Cumulative figures to the end of the disclosed period, in yen (shares in shares).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Figures {
    pub(crate) sales: f64,
    pub(crate) operating: f64,
    pub(crate) ordinary: f64,
    pub(crate) profit: f64,
    pub(crate) total_assets: f64,
    pub(crate) equity: f64,
    pub(crate) cash: f64,
    pub(crate) cash_flows: [f64; 3],
    pub(crate) shares_issued: f64,
    pub(crate) treasury: f64,
    /// Full-year sales and profit forecast for the current fiscal year.
    pub(crate) forecast_sales: f64,
    pub(crate) forecast_profit: f64,
}

impl Figures {
    pub(crate) fn average_shares(&self) -> f64 {
        self.shares_issued - self.treasury
    }

    pub(crate) fn eps(&self) -> f64 {
        self.profit / self.average_shares()
    }
}

/// The figures a disclosure reports.
pub(crate) fn figures(d: &Disclosure) -> Figures {
    let seed = d.issuer.seed;
    let p = |salt: u64| unit(mix(&[seed, 0xF1, salt]));
    let year = f64::from(d.fy_end.year() - 2008);
    let size = (5.0e9_f64.ln() + p(1) * 1000_f64.ln()).exp();
    let noise = |salt: u64| 0.92 + 0.16 * unit(mix(&[seed, year as u64, salt]));
    let full_sales = (size * 1.04_f64.powf(year) * noise(2) / 1.0e6).round() * 1.0e6;
    let margin = 0.03 + 0.12 * p(3);
    let share = f64::from(d.period.quarters()) / 4.0
        * if d.period == Period::Fy {
            1.0
        } else {
            noise(4)
        };
    let sales = (full_sales * share / 1.0e6).round() * 1.0e6;
    let operating = (sales * margin / 1.0e6).round() * 1.0e6;
    let total_assets = (full_sales * (1.0 + p(5)) / 1.0e6).round() * 1.0e6;
    let equity = (total_assets * (0.25 + 0.4 * p(6)) / 1.0e6).round() * 1.0e6;
    let shares_issued = ((1.0e7_f64.ln() + p(7) * 300_f64.ln()).exp() / 1000.0).round() * 1000.0;
    let cfo = (operating * 1.2 / 1.0e6).round() * 1.0e6;
    Figures {
        sales,
        operating,
        ordinary: (operating * 1.04 / 1.0e6).round() * 1.0e6,
        profit: (operating * 0.68 / 1.0e6).round() * 1.0e6,
        total_assets,
        equity,
        cash: (total_assets * 0.12 / 1.0e6).round() * 1.0e6,
        cash_flows: [cfo, -(cfo * 0.6).round(), -(cfo * 0.3).round()],
        shares_issued,
        treasury: (shares_issued * 0.03 * p(8)).round(),
        forecast_sales: (full_sales * noise(9).sqrt() / 1.0e6).round() * 1.0e6,
        forecast_profit: (full_sales * margin * 0.68 * noise(10).sqrt() / 1.0e6).round() * 1.0e6,
    }
}
