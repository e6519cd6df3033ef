//! The Yahoo Finance catalog (yahoo-api.md §1–§2): chart bars (daily and intraday, each
//! interval with Yahoo's lookback limits, checked when a job runs), the chart's dividend and
//! split events, and quotes (cookie + crumb). Symbols are J-Quants codes, mapped to Yahoo
//! symbols (`72030` → `7203.T`) in the request path; each dataset is the id prefixed `yahoo-`.
//!
//! Yahoo has no accounts or plans: every entry is open to every plan, and the limits are the
//! data source's, shared by the deployment.

use super::jquants_v2::{FROM_ALONE, FROM_TO, TO_ALONE};
use super::{Endpoint, ParamKind, ParamSpec, RateBucket, Rule, SymbolUse};
use crate::dataset::DatasetKind;
use crate::domain::Plan;

/// Defaults every Yahoo entry starts from.
const YAHOO: Endpoint = Endpoint {
    id: "",
    name: "",
    data_source: "yahoo",
    path: "/v8/finance/chart/{symbol}",
    method: "GET",
    params: &[FROM_ALONE, TO_ALONE],
    rules: &[
        Rule::AtLeastOne(&["from"]),
        Rule::AtLeastOne(&["to"]),
        FROM_TO,
    ],
    // In the path, not the query.
    symbol_param: Some("symbol"),
    symbols: SymbolUse::PerSymbol,
    dataset: DatasetKind::YahooChart,
    natural_key: &["code", "date", "start", "interval"],
    min_plan: Plan::Free,
    rate_limit_per_minute: None,
    bucket: RateBucket::Plan,
    // Yahoo answers a burst with long blocks, not with a Retry-After (reference §3): few
    // retries, spread by the backoff.
    max_attempts: Some(3),
    coalesce: None,
};

/// The bar sizes a request may ask for (`1d` when not given).
pub(crate) const INTERVALS: &[&str] = &["1m", "2m", "5m", "15m", "30m", "60m", "90m", "1d"];

/// Every Yahoo endpoint.
pub(super) const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        id: "chart",
        name: "Yahoo chart bars (1d, or intraday 1m-90m within Yahoo's lookback: 1m 30 days in spans of 8, 60m 730 days, others 60 days)",
        params: &[
            FROM_ALONE,
            TO_ALONE,
            ParamSpec {
                name: "interval",
                kind: ParamKind::OneOf(INTERVALS),
                conflicts_with: &[],
            },
        ],
        ..YAHOO
    },
    Endpoint {
        id: "chart-events",
        name: "Yahoo dividends and splits (from the daily chart)",
        dataset: DatasetKind::YahooChartEvents,
        natural_key: &["code", "date", "type"],
        ..YAHOO
    },
    Endpoint {
        id: "quote",
        name: "Yahoo latest quote (cookie + crumb)",
        path: "/v7/finance/quote",
        params: &[],
        rules: &[],
        dataset: DatasetKind::YahooQuote,
        natural_key: &["code", "date"],
        // One symbol a job, many a request: yfinance's `Tickers` asks for dozens at once.
        coalesce: Some(50),
        ..YAHOO
    },
];

/// Yahoo's limits on a chart request at `now` (an intraday interval's lookback and span), so
/// a request Yahoo would refuse is refused before any job exists. Other endpoints pass.
///
/// # Errors
/// The broken limit, saying what to change.
pub fn check_limits(
    endpoint: &Endpoint,
    params: &std::collections::BTreeMap<String, String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), super::ValidationError> {
    if !matches!(
        endpoint.dataset,
        DatasetKind::YahooChart | DatasetKind::YahooChartEvents
    ) {
        return Ok(());
    }
    let date = |k: &str| params.get(k).and_then(|v| super::parse_date(v));
    let (Some(from), Some(to)) = (date("from"), date("to")) else {
        return Ok(());
    };
    let name = params.get("interval").map_or("1d", String::as_str);
    let Some(interval) = crate::yahoo::Interval::parse(name) else {
        return Ok(());
    };
    crate::yahoo::ChartRequest { interval, from, to }
        .validate(now)
        .map_err(|e| super::ValidationError(format!("{e}: ask for a shorter or later span")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::window_tests::params;

    #[test]
    fn intraday_lookback_and_span_are_checked_before_any_job() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
            .unwrap()
            .to_utc();
        let chart = &ENDPOINTS[0];
        let ok = params(&[
            ("from", "2026-02-24"),
            ("to", "2026-02-27"),
            ("interval", "1m"),
        ]);
        assert!(check_limits(chart, &ok, now).is_ok());
        let old = params(&[
            ("from", "2026-01-05"),
            ("to", "2026-01-09"),
            ("interval", "1m"),
        ]);
        assert!(
            check_limits(chart, &old, now)
                .unwrap_err()
                .0
                .contains("30 days")
        );
        let long = params(&[
            ("from", "2026-02-10"),
            ("to", "2026-02-27"),
            ("interval", "1m"),
        ]);
        assert!(
            check_limits(chart, &long, now)
                .unwrap_err()
                .0
                .contains("8 days")
        );
        let daily = params(&[("from", "2001-01-04"), ("to", "2026-02-27")]);
        assert!(
            check_limits(chart, &daily, now).is_ok(),
            "daily bars: whole history"
        );
        let hourly = params(&[
            ("from", "2024-01-04"),
            ("to", "2024-01-05"),
            ("interval", "60m"),
        ]);
        assert!(
            check_limits(chart, &hourly, now)
                .unwrap_err()
                .0
                .contains("730 days")
        );
    }
}
