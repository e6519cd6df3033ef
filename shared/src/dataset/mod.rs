//! Datasets: one file per dataset with its typed row, its natural key and its mapping to a
//! stored [`Record`]. Stores know only records, so adding a dataset touches no adapter.
//!
//! A row type reads the provider's JSON (parsing dates, flags and numbers sent as text, so a
//! field of the wrong type is refused here rather than stored) and serializes back to the
//! provider's names and forms; [`Record::from_row`] stores exactly that. Fields newer than a
//! row type are kept in its `extra` map, so nothing the provider sends is lost.

mod drv_bars_daily_fut;
mod drv_bars_daily_opt;
mod drv_bars_daily_opt_225;
mod eq_bars_daily;
mod eq_bars_daily_am;
mod eq_bars_minute;
mod eq_earnings_cal;
mod eq_investor_types;
mod eq_master;
mod fields;
mod fin_details;
mod fin_dividend;
mod fin_summary;
mod idx_bars_daily;
mod idx_bars_daily_topix;
mod mkt_breakdown;
mod mkt_cal;
mod mkt_margin_alert;
mod mkt_margin_interest;
mod mkt_short_ratio;
mod mkt_short_sale_report;
mod record;
mod rows;
mod v1_daily_quotes;
mod v1_listed_info;
mod v1_statements;
mod v1_trading_calendar;
mod wire;
mod yahoo_chart;
mod yahoo_events;
mod yahoo_quote;

pub use drv_bars_daily_fut::FuturesBar;
pub use drv_bars_daily_opt::OptionsBar;
pub use drv_bars_daily_opt_225::IndexOptionBar;
pub use eq_bars_daily::DailyBar;
pub use eq_bars_daily_am::MorningBar;
pub use eq_bars_minute::MinuteBar;
pub use eq_earnings_cal::EarningsAnnouncement;
pub use eq_investor_types::InvestorTypes;
pub use eq_master::Issue;
pub use fin_details::FinDetails;
pub use fin_dividend::Dividend;
pub use fin_summary::FinSummary;
pub use idx_bars_daily::IndexBar;
pub use idx_bars_daily_topix::TopixBar;
pub use mkt_breakdown::Breakdown;
pub use mkt_cal::CalendarDay;
pub use mkt_margin_alert::{MarginAlert, PubReason};
pub use mkt_margin_interest::MarginInterest;
pub use mkt_short_ratio::ShortRatio;
pub use mkt_short_sale_report::ShortSaleReport;
pub use record::{FieldName, FieldValue, JSON_FIELD_SUFFIX, Record};
pub use rows::PageError;
pub use v1_daily_quotes::DailyQuote;
pub use v1_listed_info::ListedInfo;
pub use v1_statements::Statement;
pub use v1_trading_calendar::TradingDay;
pub use wire::NumText;
pub use yahoo_chart::ChartBar;
pub use yahoo_events::ChartEvent;
pub use yahoo_quote::QuoteRow;

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A typed row of one dataset.
pub trait Row: DeserializeOwned + Serialize {
    /// The natural key as (partition, sort). Partitions hold no `#`; sort keys start with a
    /// `YYYY-MM-DD` date, so a date range selects rows.
    fn key(&self) -> (String, String);

    /// Fields the row carried that this type does not name, kept under their provider names.
    fn extra(&self) -> &BTreeMap<String, Value>;

    /// The map [`DatasetKind::parse_rows`] fills with the fields this type does not name. The
    /// derives skip it (`#[serde(skip)]`): a flattened map would make the derived `Deserialize`
    /// buffer every field of every row, and the derived `Serialize` give names that are not
    /// `'static`.
    fn extra_mut(&mut self) -> &mut BTreeMap<String, Value>;

    /// The stored form: the natural key and the row's fields as the provider sent them, the
    /// typed ones in declaration order (the provider's), then the `extra` ones by name.
    fn into_record(mut self) -> Record
    where
        Self: Sized,
    {
        let (partition, sort) = self.key();
        let extra = std::mem::take(self.extra_mut());
        Record::from_row_and(partition, sort, &self, extra)
            .expect("a row type serializes to an object with text keys")
    }
}

/// The datasets the catalog's endpoints return. The names are the endpoints' ids, derived from
/// the official V2 client's method names (`get_eq_bars_daily` → `eq-bars-daily`) and the spec's
/// page names (`mkt-cal`); a legacy V1 dataset is its endpoint's id prefixed `v1-`, a Yahoo one
/// its id prefixed `yahoo-`. Yahoo rows are built from the parsed chart and quote answers
/// ([`crate::yahoo`]); their row types read back their own stored form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// `/equities/master`.
    EqMaster,
    /// `/equities/bars/daily`.
    EqBarsDaily,
    /// `/equities/bars/daily/am`.
    EqBarsDailyAm,
    /// `/equities/bars/minute`.
    EqBarsMinute,
    /// `/equities/investor-types`.
    EqInvestorTypes,
    /// `/equities/earnings-calendar`.
    EqEarningsCal,
    /// `/fins/summary`.
    FinSummary,
    /// `/fins/details`.
    FinDetails,
    /// `/fins/dividend`.
    FinDividend,
    /// `/markets/calendar`.
    MktCal,
    /// `/markets/margin-interest`.
    MktMarginInterest,
    /// `/markets/short-ratio`.
    MktShortRatio,
    /// `/markets/short-sale-report`.
    MktShortSaleReport,
    /// `/markets/margin-alert`.
    MktMarginAlert,
    /// `/markets/breakdown`.
    MktBreakdown,
    /// `/indices/bars/daily`.
    IdxBarsDaily,
    /// `/indices/bars/daily/topix`.
    IdxBarsDailyTopix,
    /// `/derivatives/bars/daily/futures`.
    DrvBarsDailyFut,
    /// `/derivatives/bars/daily/options`.
    DrvBarsDailyOpt,
    /// `/derivatives/bars/daily/options/225`.
    #[serde(rename = "drv-bars-daily-opt-225")]
    DrvBarsDailyOpt225,
    /// V1 `/listed/info`.
    #[serde(rename = "v1-listed-info")]
    V1ListedInfo,
    /// V1 `/prices/daily_quotes`.
    #[serde(rename = "v1-prices-daily-quotes")]
    V1DailyQuotes,
    /// V1 `/fins/statements`.
    #[serde(rename = "v1-fins-statements")]
    V1Statements,
    /// V1 `/markets/trading_calendar`.
    #[serde(rename = "v1-markets-trading-calendar")]
    V1TradingCalendar,
    /// Yahoo chart bars.
    YahooChart,
    /// Yahoo chart events (dividends and splits).
    YahooChartEvents,
    /// Yahoo quotes.
    YahooQuote,
}

impl DatasetKind {
    /// Every dataset.
    pub const ALL: [DatasetKind; 27] = [
        DatasetKind::EqMaster,
        DatasetKind::EqBarsDaily,
        DatasetKind::EqBarsDailyAm,
        DatasetKind::EqBarsMinute,
        DatasetKind::EqInvestorTypes,
        DatasetKind::EqEarningsCal,
        DatasetKind::FinSummary,
        DatasetKind::FinDetails,
        DatasetKind::FinDividend,
        DatasetKind::MktCal,
        DatasetKind::MktMarginInterest,
        DatasetKind::MktShortRatio,
        DatasetKind::MktShortSaleReport,
        DatasetKind::MktMarginAlert,
        DatasetKind::MktBreakdown,
        DatasetKind::IdxBarsDaily,
        DatasetKind::IdxBarsDailyTopix,
        DatasetKind::DrvBarsDailyFut,
        DatasetKind::DrvBarsDailyOpt,
        DatasetKind::DrvBarsDailyOpt225,
        DatasetKind::V1ListedInfo,
        DatasetKind::V1DailyQuotes,
        DatasetKind::V1Statements,
        DatasetKind::V1TradingCalendar,
        DatasetKind::YahooChart,
        DatasetKind::YahooChartEvents,
        DatasetKind::YahooQuote,
    ];

    /// The stored name, part of every record key.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetKind::EqMaster => "eq-master",
            DatasetKind::EqBarsDaily => "eq-bars-daily",
            DatasetKind::EqBarsDailyAm => "eq-bars-daily-am",
            DatasetKind::EqBarsMinute => "eq-bars-minute",
            DatasetKind::EqInvestorTypes => "eq-investor-types",
            DatasetKind::EqEarningsCal => "eq-earnings-cal",
            DatasetKind::FinSummary => "fin-summary",
            DatasetKind::FinDetails => "fin-details",
            DatasetKind::FinDividend => "fin-dividend",
            DatasetKind::MktCal => "mkt-cal",
            DatasetKind::MktMarginInterest => "mkt-margin-interest",
            DatasetKind::MktShortRatio => "mkt-short-ratio",
            DatasetKind::MktShortSaleReport => "mkt-short-sale-report",
            DatasetKind::MktMarginAlert => "mkt-margin-alert",
            DatasetKind::MktBreakdown => "mkt-breakdown",
            DatasetKind::IdxBarsDaily => "idx-bars-daily",
            DatasetKind::IdxBarsDailyTopix => "idx-bars-daily-topix",
            DatasetKind::DrvBarsDailyFut => "drv-bars-daily-fut",
            DatasetKind::DrvBarsDailyOpt => "drv-bars-daily-opt",
            DatasetKind::DrvBarsDailyOpt225 => "drv-bars-daily-opt-225",
            DatasetKind::V1ListedInfo => "v1-listed-info",
            DatasetKind::V1DailyQuotes => "v1-prices-daily-quotes",
            DatasetKind::V1Statements => "v1-fins-statements",
            DatasetKind::V1TradingCalendar => "v1-markets-trading-calendar",
            DatasetKind::YahooChart => "yahoo-chart",
            DatasetKind::YahooChartEvents => "yahoo-chart-events",
            DatasetKind::YahooQuote => "yahoo-quote",
        }
    }

    /// The names of a page's fields that the row type does not know (kept untyped in the
    /// stored rows): new provider fields worth typing.
    ///
    /// # Errors
    /// As [`DatasetKind::parse_rows`].
    pub fn untyped_fields(
        self,
        data: &serde_json::value::RawValue,
    ) -> Result<BTreeSet<String>, String> {
        by_kind!(self, untyped, data)
    }

    /// Parses one page's `data` array into records, typed on the way through so a field of the
    /// wrong type is caught here rather than stored.
    ///
    /// # Errors
    /// The first row that does not fit the dataset's row type, as text.
    pub fn parse_rows(self, data: &serde_json::value::RawValue) -> Result<Vec<Record>, String> {
        by_kind!(self, parse, data)
    }

    /// The array of a response body that holds the rows: `data` in V2, the route's own key in
    /// V1.
    pub fn data_key(self) -> &'static str {
        match self {
            DatasetKind::V1ListedInfo => "info",
            DatasetKind::V1DailyQuotes => "daily_quotes",
            DatasetKind::V1Statements => "statements",
            DatasetKind::V1TradingCalendar => "trading_calendar",
            _ => "data",
        }
    }

    /// Parses a whole response body, `{"data": [rows], "pagination_key": ...}` (the rows under
    /// [`DatasetKind::data_key`]), in one pass:
    /// its records (as [`DatasetKind::parse_rows`]; `None` when the body has no rows array)
    /// and its pagination key.
    ///
    /// # Errors
    /// The body not being such an object, or the first row that does not fit, as text.
    pub fn parse_page(self, body: &[u8]) -> Result<ParsedPage, PageError> {
        let key = self.data_key();
        by_kind!(self, parse_page, (body, key))
    }
}

/// A response body parsed by [`DatasetKind::parse_page`].
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedPage {
    /// The rows as records; `None` when the body had no rows array (or a null one).
    pub records: Option<Vec<Record>>,
    /// The body's `pagination_key`, as sent.
    pub pagination_key: Option<String>,
}

macro_rules! by_kind {
    ($kind:expr, $f:ident, $data:expr) => {
        match $kind {
            DatasetKind::EqMaster => $f::<Issue>($data),
            DatasetKind::EqBarsDaily => $f::<DailyBar>($data),
            DatasetKind::EqBarsDailyAm => $f::<MorningBar>($data),
            DatasetKind::EqBarsMinute => $f::<MinuteBar>($data),
            DatasetKind::EqInvestorTypes => $f::<InvestorTypes>($data),
            DatasetKind::EqEarningsCal => $f::<EarningsAnnouncement>($data),
            DatasetKind::FinSummary => $f::<FinSummary>($data),
            DatasetKind::FinDetails => $f::<FinDetails>($data),
            DatasetKind::FinDividend => $f::<Dividend>($data),
            DatasetKind::MktCal => $f::<CalendarDay>($data),
            DatasetKind::MktMarginInterest => $f::<MarginInterest>($data),
            DatasetKind::MktShortRatio => $f::<ShortRatio>($data),
            DatasetKind::MktShortSaleReport => $f::<ShortSaleReport>($data),
            DatasetKind::MktMarginAlert => $f::<MarginAlert>($data),
            DatasetKind::MktBreakdown => $f::<Breakdown>($data),
            DatasetKind::IdxBarsDaily => $f::<IndexBar>($data),
            DatasetKind::IdxBarsDailyTopix => $f::<TopixBar>($data),
            DatasetKind::DrvBarsDailyFut => $f::<FuturesBar>($data),
            DatasetKind::DrvBarsDailyOpt => $f::<OptionsBar>($data),
            DatasetKind::DrvBarsDailyOpt225 => $f::<IndexOptionBar>($data),
            DatasetKind::V1ListedInfo => $f::<ListedInfo>($data),
            DatasetKind::V1DailyQuotes => $f::<DailyQuote>($data),
            DatasetKind::V1Statements => $f::<Statement>($data),
            DatasetKind::V1TradingCalendar => $f::<TradingDay>($data),
            DatasetKind::YahooChart => $f::<ChartBar>($data),
            DatasetKind::YahooChartEvents => $f::<ChartEvent>($data),
            DatasetKind::YahooQuote => $f::<QuoteRow>($data),
        }
    };
}
pub(crate) use by_kind;

fn untyped<R: Row>(data: &serde_json::value::RawValue) -> Result<BTreeSet<String>, String> {
    let names = rows::read(data.get(), |r: R| {
        r.extra().keys().cloned().collect::<Vec<_>>()
    })?;
    Ok(names.into_iter().flatten().collect())
}

fn parse<R: Row>(data: &serde_json::value::RawValue) -> Result<Vec<Record>, String> {
    rows::read(data.get(), R::into_record)
}

/// A response body's rows as `R` (`None` when the body has no rows array under `data_key`) and
/// its `pagination_key`: the typed form [`DatasetKind::parse_page`] builds its records from.
///
/// # Errors
/// As [`DatasetKind::parse_page`].
pub fn read_typed_page<R: Row>(
    body: &[u8],
    data_key: &str,
) -> Result<(Option<Vec<R>>, Option<String>), PageError> {
    rows::read_page(body, data_key, |row: R| row)
}

fn parse_page<R: Row>((body, data_key): (&[u8], &str)) -> Result<ParsedPage, PageError> {
    let (records, pagination_key) = rows::read_page(body, data_key, R::into_record)?;
    Ok(ParsedPage {
        records,
        pagination_key,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::Value;

    use super::*;
    use crate::dataset::fields::tests::same_as_json_text;
    use crate::domain::parse_date;

    /// Parses `sample` (a JSON array of rows) as `kind` and checks that every record gives back
    /// its row field for field; values of `date_fields` may be compact in the sample and are
    /// compared in `YYYY-MM-DD` form.
    pub(crate) fn round_trips(
        kind: DatasetKind,
        sample: &str,
        date_fields: &[&str],
    ) -> Vec<Record> {
        let raw = serde_json::value::RawValue::from_string(sample.to_owned()).unwrap();
        by_kind!(kind, same_as_json_text, &raw);
        let records = kind.parse_rows(&raw).unwrap();
        let rows: Vec<serde_json::Map<String, Value>> = serde_json::from_str(sample).unwrap();
        assert_eq!(records.len(), rows.len());
        for (record, mut row) in records.iter().zip(rows) {
            for name in date_fields {
                if let Some(Value::String(s)) = row.get_mut(*name)
                    && let Some(d) = parse_date(s)
                {
                    *s = d.format("%Y-%m-%d").to_string();
                }
            }
            assert_eq!(
                record.to_json(),
                row,
                "{kind:?}: a field was lost or changed"
            );
        }
        records
    }

    #[test]
    fn stored_names_are_the_serde_names_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for kind in DatasetKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert!(seen.insert(kind.as_str()), "{kind:?}");
        }
    }
}
