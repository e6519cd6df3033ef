//! Yahoo answers as pages of the catalog's datasets, so the fetcher stores them like any
//! provider's: one job is one symbol, one request, one page of records (charts and quotes
//! are not paginated). [`records_of`] turns an archived answer back into the same records.

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::YahooClient;
use super::chart::{ChartRequest, Interval, parse_chart};
use super::quote::parse_quotes;
use crate::catalog::Endpoint;
use crate::dataset::{ChartBar, ChartEvent, DatasetKind, QuoteRow, Record, Row};
use crate::domain::IssueCode;
use crate::domain::parse_date;
use crate::provider::{Page, ProviderError};

impl YahooClient {
    /// The page one job of a Yahoo `endpoint` fetches for `symbol`, with the job's (validated)
    /// query: `from`, `to` and `interval` for charts.
    ///
    /// # Errors
    /// [`ProviderError::BadRequest`] for a job without a symbol or parameters the chart
    /// cannot take (an interval's lookback passed since the group was made); Yahoo's answers
    /// as [`ProviderError`].
    pub async fn page(
        &self,
        endpoint: &Endpoint,
        query: &[(String, String)],
        symbol: Option<&IssueCode>,
    ) -> Result<Page, ProviderError> {
        let code = needs_symbol(endpoint, symbol)?;
        let cap = self.cap(Some(endpoint));
        let body = match endpoint.dataset {
            DatasetKind::YahooQuote => self.quote_body(std::slice::from_ref(code), cap).await?,
            _ => self.chart_body(code, &chart_request(query)?, cap).await?,
        };
        let records = records_of(endpoint, &body, code, query, self.clock.now())?;
        Ok(Page {
            records,
            next: None,
            raw: Bytes::from(body),
        })
    }
}

impl YahooClient {
    /// The pages of jobs of a coalescing `endpoint` (quotes), one per code, from one request:
    /// each page holds its code's records and the whole answer as its raw body.
    ///
    /// # Errors
    /// As [`YahooClient::page`].
    pub async fn pages_together(
        &self,
        endpoint: &Endpoint,
        codes: &[IssueCode],
    ) -> Result<Vec<Page>, ProviderError> {
        if endpoint.dataset != DatasetKind::YahooQuote {
            return Err(ProviderError::BadRequest(format!(
                "`{}` takes one symbol a request",
                endpoint.id
            )));
        }
        let body = Bytes::from(self.quote_body(codes, self.cap(Some(endpoint))).await?);
        let now = self.clock.now();
        codes
            .iter()
            .map(|code| {
                Ok(Page {
                    records: records_of(endpoint, &body, code, &[], now)?,
                    next: None,
                    raw: body.clone(),
                })
            })
            .collect()
    }
}

/// The days of the dividends and splits a daily chart answer shows: Yahoo's `adjclose` before
/// each of them changes when it happens. Empty for intraday charts (no `adjclose`) and other
/// answers.
pub fn actions_of(
    endpoint: &Endpoint,
    body: &[u8],
    code: &IssueCode,
    query: &[(String, String)],
    now: DateTime<Utc>,
) -> Vec<chrono::NaiveDate> {
    if endpoint.dataset != DatasetKind::YahooChart {
        return Vec::new();
    }
    let Ok(request) = chart_request(query) else {
        return Vec::new();
    };
    if request.interval != super::Interval::Day {
        return Vec::new();
    }
    parse_chart(body, code, &request, now).map_or_else(
        |_| Vec::new(),
        |chart| {
            let dividends = chart.dividends.iter().map(|d| d.ex_date);
            dividends
                .chain(chart.splits.iter().map(|s| s.ex_date))
                .collect()
        },
    )
}

/// The records of a Yahoo answer to a job of `endpoint` for `code` with `query`, as parsed at
/// `now` (a chart drops the bar still open then).
///
/// # Errors
/// [`ProviderError::Malformed`] for a body that is not the endpoint's answer; the parameters'
/// errors as [`YahooClient::page`].
pub fn records_of(
    endpoint: &Endpoint,
    body: &[u8],
    code: &IssueCode,
    query: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<Vec<Record>, ProviderError> {
    Ok(match endpoint.dataset {
        // A shared answer (several jobs' symbols): this job's part.
        DatasetKind::YahooQuote => parse_quotes(body)?
            .iter()
            .filter(|q| q.code == *code)
            .filter_map(QuoteRow::from_quote)
            .map(Row::into_record)
            .collect(),
        DatasetKind::YahooChart => {
            let request = chart_request(query)?;
            let chart = parse_chart(body, code, &request, now)?;
            chart
                .bars
                .iter()
                .map(|b| ChartBar::from_bar(b, &chart.symbol, request.interval))
                .map(Row::into_record)
                .collect()
        }
        DatasetKind::YahooChartEvents => {
            let chart = parse_chart(body, code, &chart_request(query)?, now)?;
            let dividends = chart
                .dividends
                .iter()
                .map(|d| ChartEvent::dividend(d, &chart.symbol));
            let splits = chart
                .splits
                .iter()
                .map(|s| ChartEvent::split(s, &chart.symbol));
            dividends.chain(splits).map(Row::into_record).collect()
        }
        other => {
            return Err(ProviderError::BadRequest(format!(
                "`{}` is not a Yahoo dataset",
                other.as_str()
            )));
        }
    })
}

fn needs_symbol<'a>(
    endpoint: &Endpoint,
    symbol: Option<&'a IssueCode>,
) -> Result<&'a IssueCode, ProviderError> {
    symbol.ok_or_else(|| {
        ProviderError::BadRequest(format!("`{}` needs a symbol per job", endpoint.id))
    })
}

/// A chart request from a job's query: `from` and `to` required, `interval` `1d` by default.
fn chart_request(query: &[(String, String)]) -> Result<ChartRequest, ProviderError> {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let date = |name: &str| {
        param(name)
            .and_then(parse_date)
            .ok_or_else(|| ProviderError::BadRequest(format!("a chart needs `{name}`")))
    };
    let interval = param("interval").unwrap_or("1d");
    Ok(ChartRequest {
        interval: Interval::parse(interval)
            .ok_or_else(|| ProviderError::BadRequest(format!("unknown interval `{interval}`")))?,
        from: date("from")?,
        to: date("to")?,
    })
}
