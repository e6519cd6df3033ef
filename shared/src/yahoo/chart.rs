//! The v8 chart (yahoo-api.md §2): the typed rows of the answer to a [`ChartRequest`] (what to
//! ask for is the catalog's: an [`Interval`] with Yahoo's lookback limits, a range of Tokyo
//! trading dates): bars on their Asia/Tokyo dates with a still-open last bar dropped,
//! dividends and splits.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::error::from_error_object;
use crate::catalog::yahoo::jst;
pub use crate::catalog::yahoo::{ChartRequest, Interval};
use crate::domain::IssueCode;
use crate::provider::ProviderError;

/// The TSE close (15:30 JST since November 2024; earlier bars are long closed either way).
fn session_close() -> NaiveTime {
    NaiveTime::from_hms_opt(15, 30, 0).expect("valid time")
}

/// One bar. Prices as Yahoo serves them: split-adjusted, not dividend-adjusted.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The issue.
    pub code: IssueCode,
    /// The Tokyo trading date.
    pub date: NaiveDate,
    /// When the bar starts, in Tokyo time (09:00 for daily bars).
    pub start: DateTime<FixedOffset>,
    /// Open.
    pub open: Option<f64>,
    /// High.
    pub high: Option<f64>,
    /// Low.
    pub low: Option<f64>,
    /// Close.
    pub close: Option<f64>,
    /// Shares traded.
    pub volume: Option<u64>,
    /// Close adjusted for splits and dividends as of the request (daily bars only); it
    /// changes with every later dividend.
    pub adj_close: Option<f64>,
}

/// A cash dividend on its ex-date.
#[derive(Debug, Clone, PartialEq)]
pub struct Dividend {
    /// The issue.
    pub code: IssueCode,
    /// The ex-date (Tokyo).
    pub ex_date: NaiveDate,
    /// Per share, in the price currency unless `currency` says otherwise.
    pub amount: f64,
    /// The dividend's currency, when Yahoo names one.
    pub currency: Option<String>,
}

/// A stock split on its ex-date: `numerator` new shares for `denominator` old ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The issue.
    pub code: IssueCode,
    /// The ex-date (Tokyo).
    pub ex_date: NaiveDate,
    /// Shares after.
    pub numerator: f64,
    /// Shares before.
    pub denominator: f64,
}

/// A parsed chart answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The Yahoo symbol.
    pub symbol: String,
    /// Bars in time order, complete ones only.
    pub bars: Vec<Bar>,
    /// Dividends in the requested span.
    pub dividends: Vec<Dividend>,
    /// Splits in the requested span.
    pub splits: Vec<Split>,
}

#[derive(Deserialize)]
struct Envelope {
    chart: Body,
}

#[derive(Deserialize)]
struct Body {
    result: Option<Vec<ChartResult>>,
    error: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChartResult {
    meta: Meta,
    #[serde(default)]
    timestamp: Vec<i64>,
    #[serde(default)]
    events: Events,
    indicators: Indicators,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    symbol: String,
    data_granularity: Option<String>,
}

#[derive(Deserialize, Default)]
struct Events {
    #[serde(default)]
    dividends: BTreeMap<String, RawDividend>,
    #[serde(default)]
    splits: BTreeMap<String, RawSplit>,
}

#[derive(Deserialize)]
struct RawDividend {
    amount: f64,
    date: i64,
    currency: Option<String>,
}

#[derive(Deserialize)]
struct RawSplit {
    date: i64,
    numerator: f64,
    denominator: f64,
}

#[derive(Deserialize)]
struct Indicators {
    #[serde(default)]
    quote: Vec<Columns>,
    #[serde(default)]
    adjclose: Vec<AdjColumns>,
}

#[derive(Deserialize, Default)]
struct Columns {
    #[serde(default)]
    open: Vec<Value>,
    #[serde(default)]
    high: Vec<Value>,
    #[serde(default)]
    low: Vec<Value>,
    #[serde(default)]
    close: Vec<Value>,
    #[serde(default)]
    volume: Vec<Value>,
}

#[derive(Deserialize, Default)]
struct AdjColumns {
    #[serde(default)]
    adjclose: Vec<Value>,
}

/// An array element as a number: `null`, `"NaN"`, `"Infinity"` and the like are `None`.
fn number(values: &[Value], i: usize) -> Option<f64> {
    let n = match values.get(i)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    }?;
    n.is_finite().then_some(n)
}

fn tokyo(ts: i64) -> Result<DateTime<FixedOffset>, ProviderError> {
    DateTime::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&jst()))
        .ok_or_else(|| ProviderError::Malformed(format!("timestamp {ts} out of range")))
}

/// Parses a 200 chart body for `code` asked with `request` at `now`.
///
/// Dropped: bars at or after `period2` (Yahoo appends the latest price), a trailing bar on
/// the same date as the one before it (the live row), bars still open at `now`, and bars
/// with no value at all (the lunch break).
///
/// # Errors
/// [`ProviderError::Malformed`] for a body that is not a chart or a granularity other than
/// the one asked; the mapped `chart.error` when Yahoo sent one.
pub fn parse_chart(
    body: &[u8],
    code: &IssueCode,
    request: &ChartRequest,
    now: DateTime<Utc>,
) -> Result<Chart, ProviderError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| ProviderError::unreadable(&e))?;
    if let Some(error) = envelope.chart.error.filter(|e| !e.is_null()) {
        return Err(from_error_object(&error));
    }
    let result = envelope
        .chart
        .result
        .and_then(|r| r.into_iter().next())
        .ok_or_else(|| ProviderError::Malformed("chart without a result".into()))?;
    let asked = request.interval.as_str();
    if let Some(got) = result.meta.data_granularity.as_deref()
        && got != asked
    {
        return Err(ProviderError::Malformed(format!(
            "asked for {asked} bars, got {got}"
        )));
    }
    let (_, period2) = request.period();
    let bars = bars(&result, code, request.interval, period2, now)?;
    let (start, end) = request.period();
    let in_span = |ts: i64| (start..end).contains(&ts);
    let dividends = result
        .events
        .dividends
        .values()
        .filter(|d| in_span(d.date))
        .map(|d| {
            Ok(Dividend {
                code: code.clone(),
                ex_date: tokyo(d.date)?.date_naive(),
                amount: d.amount,
                currency: d.currency.clone(),
            })
        })
        .collect::<Result<Vec<_>, ProviderError>>()?;
    let splits = result
        .events
        .splits
        .values()
        .filter(|s| in_span(s.date))
        .map(|s| {
            Ok(Split {
                code: code.clone(),
                ex_date: tokyo(s.date)?.date_naive(),
                numerator: s.numerator,
                denominator: s.denominator,
            })
        })
        .collect::<Result<Vec<_>, ProviderError>>()?;
    Ok(Chart {
        symbol: result.meta.symbol,
        bars,
        dividends,
        splits,
    })
}

fn bars(
    result: &ChartResult,
    code: &IssueCode,
    interval: Interval,
    period2: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Bar>, ProviderError> {
    let columns = result.indicators.quote.first();
    let empty = Columns::default();
    let q = columns.unwrap_or(&empty);
    let adj = result.indicators.adjclose.first().map(|a| &a.adjclose);
    let mut bars: Vec<Bar> = Vec::with_capacity(result.timestamp.len());
    for (i, &ts) in result.timestamp.iter().enumerate() {
        if ts >= period2 {
            continue;
        }
        let start = tokyo(ts)?;
        let bar = Bar {
            code: code.clone(),
            date: start.date_naive(),
            start,
            open: number(&q.open, i),
            high: number(&q.high, i),
            low: number(&q.low, i),
            close: number(&q.close, i),
            volume: number(&q.volume, i).map(|v| v as u64),
            adj_close: adj.and_then(|a| number(a, i)),
        };
        if bar.open.is_none() && bar.high.is_none() && bar.low.is_none() && bar.close.is_none() {
            continue;
        }
        bars.push(bar);
    }
    if interval == Interval::Day
        && let [.., before, last] = bars.as_slice()
        && before.date == last.date
    {
        bars.pop();
    }
    if let Some(last) = bars.last()
        && now < bar_end(last, interval)
    {
        bars.pop();
    }
    Ok(bars)
}

/// When a bar is complete: at its end, but no later than the session close of its date.
fn bar_end(bar: &Bar, interval: Interval) -> DateTime<Utc> {
    let close = bar
        .date
        .and_time(session_close())
        .and_local_timezone(jst())
        .single()
        .map_or(bar.start, |t| t);
    let end = match interval.length() {
        Some(length) => (bar.start + length).min(close.max(bar.start)),
        None => close,
    };
    end.with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's 7203.T sample (§2.3), requested 2025-04-01 after the close, with a
    /// split added and the live bar Yahoo appends while 2025-04-01 trades.
    const SAMPLE: &str = r#"{"chart":{"result":[{
      "meta":{"currency":"JPY","symbol":"7203.T","exchangeTimezoneName":"Asia/Tokyo",
        "dataGranularity":"1d","range":""},
      "timestamp":[1742774400,1742860800,1742947200,1743033600,1743120000,1743379200,1743465600],
      "events":{"dividends":{"1743120000":{"amount":50.0,"date":1743120000}},
                "splits":{"1742947200":{"date":1742947200,"numerator":3,"denominator":1,"splitRatio":"3:1"}}},
      "indicators":{
        "quote":[{
          "open":  [2850.0,2870.0,2895.0,2860.0,2790.0,2735.0,2720.0],
          "high":  [2875.5,2899.0,2901.5,2866.0,2801.0,2748.5,2730.0],
          "low":   [2838.0,2865.5,2871.0,2840.5,2757.0,2702.0,2700.0],
          "close": [2862.0,2893.5,2880.0,2851.5,2766.0,2718.5,2760.0],
          "volume":[23456700,25120300,21987600,27654300,35210900,33012400,1000]}],
        "adjclose":[{"adjclose":[2811.8,2842.7,"NaN",2801.5,2766.0,2718.5,2760.0]}]}
    }],"error":null}}"#;

    fn code() -> IssueCode {
        IssueCode::parse("72030").unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn daily_bars_take_their_tokyo_date_and_drop_the_open_one() {
        let request = ChartRequest {
            interval: Interval::Day,
            from: day("2025-03-24"),
            to: day("2025-04-01"),
        };
        // 2025-04-01 11:00 JST: the last bar is still trading.
        let chart = parse_chart(
            SAMPLE.as_bytes(),
            &code(),
            &request,
            at("2025-04-01T02:00:00Z"),
        )
        .unwrap();
        let dates: Vec<String> = chart.bars.iter().map(|b| b.date.to_string()).collect();
        assert_eq!(
            dates,
            [
                "2025-03-24",
                "2025-03-25",
                "2025-03-26",
                "2025-03-27",
                "2025-03-28",
                "2025-03-31"
            ]
        );
        assert_eq!(
            chart.bars[0].start.to_rfc3339(),
            "2025-03-24T09:00:00+09:00"
        );
        assert_eq!(chart.bars[0].volume, Some(23_456_700));
        assert_eq!(chart.bars[2].adj_close, None);
        assert_eq!(chart.dividends[0].ex_date, day("2025-03-28"));
        assert_eq!(chart.splits[0].ex_date, day("2025-03-26"));
        assert_eq!(
            (chart.splits[0].numerator, chart.splits[0].denominator),
            (3.0, 1.0)
        );
        // After the close the same bar is complete.
        let later = parse_chart(
            SAMPLE.as_bytes(),
            &code(),
            &request,
            at("2025-04-01T07:00:00Z"),
        )
        .unwrap();
        assert_eq!(later.bars.last().unwrap().date, day("2025-04-01"));
        // A bar past period2 is dropped whatever the time.
        let shorter = ChartRequest {
            to: day("2025-03-31"),
            ..request
        };
        let chart = parse_chart(
            SAMPLE.as_bytes(),
            &code(),
            &shorter,
            at("2025-04-02T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(chart.bars.last().unwrap().date, day("2025-03-31"));
    }

    #[test]
    fn a_live_row_on_the_date_of_the_last_bar_is_dropped() {
        // A second row dated 2025-03-31 (15:00 JST), as Yahoo adds for the live price.
        let body = SAMPLE.replace("1743465600]", "1743400800]");
        let request = ChartRequest {
            interval: Interval::Day,
            from: day("2025-03-24"),
            to: day("2025-03-31"),
        };
        let chart = parse_chart(
            body.as_bytes(),
            &code(),
            &request,
            at("2025-04-05T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(chart.bars.len(), 6);
        assert_eq!(chart.bars[5].close, Some(2718.5));
    }

    #[test]
    fn intraday_bars_drop_the_lunch_break_and_the_forming_bar() {
        // 2025-04-01 11:00, 11:30 (lunch, nulls), 12:30, 13:00 JST; 30-minute bars.
        let body = r#"{"chart":{"result":[{"meta":{"symbol":"7203.T","dataGranularity":"30m"},
          "timestamp":[1743472800,1743474600,1743478200,1743480000],
          "indicators":{"quote":[{"open":[1,null,3,4],"high":[1,null,3,4],"low":[1,null,3,4],
            "close":[1,null,3,4],"volume":[10,null,30,40]}]}}],"error":null}}"#;
        let request = ChartRequest {
            interval: Interval::Minute30,
            from: day("2025-04-01"),
            to: day("2025-04-01"),
        };
        // 13:10 JST: the 13:00 bar is forming.
        let chart = parse_chart(
            body.as_bytes(),
            &code(),
            &request,
            at("2025-04-01T04:10:00Z"),
        )
        .unwrap();
        let starts: Vec<String> = chart
            .bars
            .iter()
            .map(|b| b.start.format("%H:%M").to_string())
            .collect();
        assert_eq!(starts, ["11:00", "12:30"]);
        assert!(chart.bars.iter().all(|b| b.adj_close.is_none()));
    }

    #[test]
    fn errors_and_surprises_are_classified() {
        let request = ChartRequest {
            interval: Interval::Minute30,
            from: day("2025-03-24"),
            to: day("2025-03-31"),
        };
        let now = at("2025-04-05T00:00:00Z");
        assert!(matches!(
            parse_chart(SAMPLE.as_bytes(), &code(), &request, now),
            Err(ProviderError::Malformed(m)) if m.contains("got 1d")
        ));
        let missing = r#"{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}"#;
        assert!(matches!(
            parse_chart(missing.as_bytes(), &code(), &request, now),
            Err(ProviderError::NoContent(_))
        ));
        // Cut short in transit: a transport fault, retried like a 500.
        assert!(matches!(
            parse_chart(b"{\"chart\":", &code(), &request, now),
            Err(ProviderError::Transient(m)) if m.starts_with("truncated body")
        ));
        assert!(matches!(
            parse_chart(b"{\"chart\": []]", &code(), &request, now),
            Err(ProviderError::Malformed(_))
        ));
    }

    #[test]
    fn lookback_limits_are_checked_before_sending() {
        let now = at("2025-05-09T09:00:00Z");
        let ask = |interval, from: &str, to: &str| {
            ChartRequest {
                interval,
                from: day(from),
                to: day(to),
            }
            .validate(now)
        };
        assert!(ask(Interval::Minute1, "2025-05-02", "2025-05-09").is_ok());
        assert!(
            ask(Interval::Minute1, "2025-04-25", "2025-05-09").is_err(),
            "span > 8 days"
        );
        assert!(
            ask(Interval::Minute1, "2025-04-01", "2025-04-03").is_err(),
            "older than 30 days"
        );
        assert!(ask(Interval::Minute5, "2025-03-15", "2025-03-20").is_ok());
        assert!(ask(Interval::Minute5, "2025-03-01", "2025-03-05").is_err());
        assert!(ask(Interval::Minute60, "2023-06-01", "2023-06-30").is_ok());
        assert!(ask(Interval::Minute60, "2023-05-01", "2023-05-05").is_err());
        assert!(ask(Interval::Day, "2000-01-04", "2025-05-09").is_ok());
        assert!(ask(Interval::Day, "2025-05-09", "2025-05-08").is_err());
        let (p1, p2) = ChartRequest {
            interval: Interval::Day,
            from: day("2025-03-24"),
            to: day("2025-03-31"),
        }
        .period();
        assert_eq!((p1, p2), (1_742_742_000, 1_743_433_200));
    }
}
