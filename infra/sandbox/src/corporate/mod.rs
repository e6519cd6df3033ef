//! Synthetic corporate facts behind the datasets: issuer profiles, results disclosures,
//! dividends and stock splits. Everything is a pure function of the issue code and the date.

mod disclosures;
mod dividends;
mod financials;
mod issuer;
mod sectors;
mod splits;

pub(crate) use disclosures::{Disclosure, Period, disclosures_of, disclosures_on, month_end};
pub(crate) use dividends::{Dividend, dividend, dividend_of, dividends_by_record};
pub(crate) use financials::figures;
pub(crate) use issuer::{Accounting, issuer, margin_name, market};
pub(crate) use sectors::{SECTORS_33, sector17_name};
pub use splits::StockSplit;
pub(crate) use splits::{cumulative_factor, day_factor, share_multiple, split_of};
