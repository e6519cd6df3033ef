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
        ..YAHOO
    },
];
