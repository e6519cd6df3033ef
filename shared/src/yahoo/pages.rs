//! Yahoo answers as pages of the catalog's datasets, so the fetcher stores them like any
//! provider's: one job is one symbol, one request, one page of records (charts and quotes
//! are not paginated).

use bytes::Bytes;

use super::YahooClient;
use super::chart::{ChartRequest, Interval};
use crate::catalog::{Endpoint, parse_date};
use crate::dataset::{ChartBar, ChartEvent, DatasetKind, QuoteRow, Row};
use crate::domain::IssueCode;
use crate::jquants::{Page, ProviderError};

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
        let code = symbol.ok_or_else(|| {
            ProviderError::BadRequest(format!("`{}` needs a symbol per job", endpoint.id))
        })?;
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let (raw, records) = match endpoint.dataset {
            DatasetKind::YahooQuote => {
                let (raw, quotes) = self.quote_raw(std::slice::from_ref(code)).await?;
                let records = quotes
                    .iter()
                    .filter_map(QuoteRow::from_quote)
                    .map(Row::into_record)
                    .collect();
                (raw, records)
            }
            DatasetKind::YahooChart | DatasetKind::YahooChartEvents => {
                let date = |name: &str| {
                    param(name)
                        .and_then(parse_date)
                        .ok_or_else(|| ProviderError::BadRequest(format!("a chart needs `{name}`")))
                };
                let interval = param("interval").unwrap_or("1d");
                let request = ChartRequest {
                    interval: Interval::parse(interval).ok_or_else(|| {
                        ProviderError::BadRequest(format!("unknown interval `{interval}`"))
                    })?,
                    from: date("from")?,
                    to: date("to")?,
                };
                let (raw, chart) = self.chart_raw(code, &request).await?;
                let records = if endpoint.dataset == DatasetKind::YahooChart {
                    chart
                        .bars
                        .iter()
                        .map(|b| ChartBar::from_bar(b, &chart.symbol, request.interval))
                        .map(Row::into_record)
                        .collect()
                } else {
                    let dividends = chart
                        .dividends
                        .iter()
                        .map(|d| ChartEvent::dividend(d, &chart.symbol));
                    let splits = chart
                        .splits
                        .iter()
                        .map(|s| ChartEvent::split(s, &chart.symbol));
                    dividends.chain(splits).map(Row::into_record).collect()
                };
                (raw, records)
            }
            other => {
                return Err(ProviderError::BadRequest(format!(
                    "`{}` is not a Yahoo dataset",
                    other.as_str()
                )));
            }
        };
        Ok(Page {
            records,
            next: None,
            raw: Bytes::from(raw),
        })
    }
}
