//! The Yahoo Finance catalog (yahoo-api.md §1–§2): chart bars (daily and intraday, each
//! interval with Yahoo's lookback limits, checked when a job runs), the chart's dividend and
//! split events, and quotes (cookie + crumb). Symbols are J-Quants codes, mapped to Yahoo
//! symbols (`72030` → `7203.T`) in the request path; each dataset is the id prefixed `yahoo-`.
//!
//! Yahoo has no accounts or plans: every entry is open to every plan, and the limits are the
//! data source's, shared by the deployment. A chart request ([`ChartRequest`]) names an
//! [`Interval`], each with Yahoo's lookback and span limits, checked when a group is created
//! and again before a request is sent.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Utc};

use super::jquants_v2::{FROM_ALONE, FROM_TO, TO_ALONE};
use super::{Endpoint, ParamKind, ParamSpec, RateBucket, Rule, SymbolUse};
use crate::dataset::DatasetKind;
use crate::domain::Plan;
use crate::provider::ProviderError;

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
    // The largest answer (a daily chart since 1970, 50 quotes) is about a megabyte.
    max_body_bytes: Some(8 * 1024 * 1024),
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
    let Some(range) = crate::domain::DateRange::from_params(|k| params.get(k).map(String::as_str))
    else {
        return Ok(());
    };
    let (from, to) = (range.from(), range.to());
    let name = params.get("interval").map_or("1d", String::as_str);
    let Some(interval) = Interval::parse(name) else {
        return Ok(());
    };
    ChartRequest { interval, from, to }
        .validate(now)
        .map_err(|e| super::ValidationError(format!("{e}: ask for a shorter or later span")))
}

/// Tokyo's offset; Japan has no daylight saving.
pub(crate) fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

/// A bar size the client asks Yahoo for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// 1 minute: at most 8 days per request, within the last 30 days.
    Minute1,
    /// 2 minutes: within the last 60 days.
    Minute2,
    /// 5 minutes: within the last 60 days.
    Minute5,
    /// 15 minutes: within the last 60 days.
    Minute15,
    /// 30 minutes: within the last 60 days.
    Minute30,
    /// 60 minutes: within the last 730 days.
    Minute60,
    /// 90 minutes: within the last 60 days.
    Minute90,
    /// One trading day: the whole history.
    Day,
}

impl Interval {
    /// Yahoo's name for it (`1m`, `1d`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Minute1 => "1m",
            Interval::Minute2 => "2m",
            Interval::Minute5 => "5m",
            Interval::Minute15 => "15m",
            Interval::Minute30 => "30m",
            Interval::Minute60 => "60m",
            Interval::Minute90 => "90m",
            Interval::Day => "1d",
        }
    }

    /// The interval Yahoo calls `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Interval::Minute1,
            Interval::Minute2,
            Interval::Minute5,
            Interval::Minute15,
            Interval::Minute30,
            Interval::Minute60,
            Interval::Minute90,
            Interval::Day,
        ]
        .into_iter()
        .find(|i| i.as_str() == name)
    }

    /// The bar length of an intraday interval; `None` for daily bars.
    pub fn length(self) -> Option<TimeDelta> {
        let minutes = match self {
            Interval::Minute1 => 1,
            Interval::Minute2 => 2,
            Interval::Minute5 => 5,
            Interval::Minute15 => 15,
            Interval::Minute30 => 30,
            Interval::Minute60 => 60,
            Interval::Minute90 => 90,
            Interval::Day => return None,
        };
        Some(TimeDelta::minutes(minutes))
    }

    /// How far back the first bar may lie (reference §4 table); `None` for no limit.
    pub fn max_lookback(self) -> Option<TimeDelta> {
        match self {
            Interval::Minute1 => Some(TimeDelta::days(30)),
            Interval::Minute60 => Some(TimeDelta::days(730)),
            Interval::Day => None,
            _ => Some(TimeDelta::days(60)),
        }
    }

    /// The longest span one request may cover; `None` for no limit.
    pub fn max_span(self) -> Option<TimeDelta> {
        (self == Interval::Minute1).then_some(TimeDelta::days(8))
    }
}

/// Bars of the Tokyo trading dates `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartRequest {
    /// Bar size.
    pub interval: Interval,
    /// First trading date (JST).
    pub from: NaiveDate,
    /// Last trading date (JST), inclusive.
    pub to: NaiveDate,
}

impl ChartRequest {
    /// `period1`/`period2`: JST midnight of `from` and of the day after `to`.
    pub fn period(&self) -> (i64, i64) {
        let midnight = |d: NaiveDate| {
            d.and_time(NaiveTime::MIN)
                .and_local_timezone(jst())
                .single()
                .map_or(0, |t| t.timestamp())
        };
        let after = self.to.succ_opt().unwrap_or(self.to);
        (midnight(self.from), midnight(after))
    }

    /// Checks the request against Yahoo's limits at `now`, so a request Yahoo would refuse
    /// with a 422 is not sent.
    ///
    /// # Errors
    /// [`ProviderError::BadRequest`] naming the broken limit.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ProviderError> {
        let (start, end) = self.period();
        let name = self.interval.as_str();
        if self.from > self.to {
            return Err(ProviderError::BadRequest(format!(
                "from {} is after to {}",
                self.from, self.to
            )));
        }
        if let Some(back) = self.interval.max_lookback()
            && start < (now - back).timestamp()
        {
            return Err(ProviderError::BadRequest(format!(
                "{name} bars reach back at most {} days; {} is too old",
                back.num_days(),
                self.from
            )));
        }
        if let Some(span) = self.interval.max_span()
            && end - start > span.num_seconds()
        {
            return Err(ProviderError::BadRequest(format!(
                "{name} bars cover at most {} days per request",
                span.num_days()
            )));
        }
        Ok(())
    }
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
