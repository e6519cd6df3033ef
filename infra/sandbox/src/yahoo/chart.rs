//! `GET /v8/finance/chart/{symbol}`: price history with metadata and events for `XXXX.T`
//! symbols (reference yahoo-api.md §2). No crumb needed.
//!
//! `period1`/`period2` (epoch seconds, bars with `period1 <= t < period2`) or `range`
//! (default `1mo`; unverified) select the span; `interval` the bar size with Yahoo's lookback
//! limits (1m: 8 days per request within 30 days; other minute intervals 60 days, hourly 730
//! days); `events` containing `div`/`split` adds dividends and splits. Only sessions that have
//! closed by the sandbox clock appear.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::bars::{INTERVALS, Interval, Point, aggregate, daily, day_stamp, intraday};
use super::result::{Asked, events, indicators, meta};
use super::{Reply, last_closed_session, symbol_code};
use crate::clock::jst;

pub(crate) const RANGES: [&str; 11] = [
    "1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max",
];
/// 2000-01-04, the first trading day the sandbox models.
pub(crate) const FIRST_TRADE: i64 = 946_944_000;

fn chart_error(status: u16, code: &str, description: &str) -> Reply {
    Reply::json(
        status,
        json!({"chart": {"result": null, "error": {"code": code, "description": description}}}),
    )
}

fn bad_request(description: &str) -> Reply {
    chart_error(400, "Bad Request", description)
}

/// The chart answer for `symbol` with query `params` at sandbox time `now`.
pub(crate) fn chart(symbol: &str, params: &[(String, String)], now: DateTime<Utc>) -> Reply {
    let get = |name: &str| crate::params::value(params, name);
    let Some(code) = symbol_code(symbol) else {
        return chart_error(404, "Not Found", "No data found, symbol may be delisted");
    };
    let interval_text = get("interval").unwrap_or("1d");
    let Some(interval) = Interval::parse(interval_text) else {
        let valid = INTERVALS.join(", ");
        return bad_request(&format!(
            "Invalid input - interval={interval_text} is not supported. Valid intervals: [{valid}]"
        ));
    };
    let now_ts = now.timestamp();
    let today = jst(now).date();
    let range = match (get("period1"), get("range")) {
        (Some(_), _) => None,
        (None, range) => Some(range.unwrap_or("1mo")),
    };
    let (start, end) = match range {
        Some(r) if !RANGES.contains(&r) => {
            return bad_request(&format!(
                "Invalid input - range={r} is not supported. Valid ranges: [{}]",
                RANGES.join(", ")
            ));
        }
        Some(r) => (range_start(r, today, now_ts), now_ts),
        None => {
            let parse = |name: &str| get(name).and_then(|v| v.parse::<i64>().ok());
            let (Some(p1), p2) = (parse("period1"), parse("period2").unwrap_or(now_ts)) else {
                return bad_request("Invalid input - period1 must be an integer");
            };
            if p1 > p2 {
                return Reply::json(
                    422,
                    json!({"error": {"code": "InvalidPeriod", "description": "period1 > period2"}}),
                );
            }
            (p1, p2)
        }
    };
    if let Some(reply) = lookback(interval, interval_text, start, end, now_ts) {
        return reply;
    }
    let closed = last_closed_session(now);
    let date_of = |ts: i64| DateTime::from_timestamp(ts, 0).map_or(today, |d| jst(d).date());
    let (from, to) = (date_of(start.max(FIRST_TRADE)), date_of(end).min(closed));
    let points: Vec<Point> = match interval {
        Interval::Minutes(m) => intraday(&code, from, to, m, today),
        Interval::Day => daily(&code, from, to, today),
        other => aggregate(&daily(&code, from, to, today), other),
    };
    let points: Vec<Point> = points
        .into_iter()
        .filter(|p| {
            (p.ts >= start || !matches!(interval, Interval::Day | Interval::Minutes(_)))
                && p.ts < end.max(start + 1)
        })
        .collect();
    let asked = Asked {
        symbol,
        code: &code,
        interval: interval_text,
        range: range.unwrap_or(""),
        start,
        closed,
        today,
    };
    let mut result = Map::new();
    result.insert("meta".into(), meta(&asked, &points));
    if !points.is_empty() {
        result.insert("timestamp".into(), points.iter().map(|p| p.ts).collect());
    }
    let wanted = get("events").unwrap_or("");
    let event_values = events(
        &code,
        start,
        end,
        today,
        wanted.contains("div"),
        wanted.contains("split"),
    );
    if !event_values.is_empty() {
        result.insert("events".into(), Value::Object(event_values));
    }
    result.insert(
        "indicators".into(),
        indicators(&points, interval.is_intraday()),
    );
    Reply::json(
        200,
        json!({"chart": {"result": [Value::Object(result)], "error": null}}),
    )
}

fn range_start(range: &str, today: NaiveDate, now_ts: i64) -> i64 {
    let months = |n: u32| today.checked_sub_months(Months::new(n));
    let days = |n: u64| today.checked_sub_days(Days::new(n));
    let date = match range {
        "1d" => days(0),
        "5d" => days(6),
        "1mo" => months(1),
        "3mo" => months(3),
        "6mo" => months(6),
        "1y" => months(12),
        "2y" => months(24),
        "5y" => months(60),
        "10y" => months(120),
        "ytd" => NaiveDate::from_ymd_opt(today.year(), 1, 1),
        _ => return FIRST_TRADE,
    };
    date.map_or(FIRST_TRADE, day_stamp).min(now_ts)
}

/// Yahoo's 422 when an intraday span reaches too far back or is too long.
fn lookback(interval: Interval, name: &str, start: i64, end: i64, now: i64) -> Option<Reply> {
    let Interval::Minutes(m) = interval else {
        return None;
    };
    let days = match m {
        1 => 30,
        60 => 730,
        _ => 60,
    };
    let span = format!("{name} data not available for startTime={start} and endTime={end}.");
    if start < now - days * 86_400 {
        let text = format!("{span} The requested range must be within the last {days} days.");
        return Some(chart_error(422, "Unprocessable Entity", &text));
    }
    if m == 1 && end - start > 8 * 86_400 {
        let text = format!(
            "{span} Only 8 days worth of 1m granularity data are allowed to be fetched per request."
        );
        return Some(chart_error(422, "Unprocessable Entity", &text));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::bars::jst_stamp;
    use super::*;
    use chrono::NaiveTime;

    #[test]
    fn ranges_start_where_yahoo_counts_them() {
        let today = NaiveDate::from_ymd_opt(2025, 4, 1).expect("date");
        let now = jst_stamp(today, NaiveTime::from_hms_opt(18, 0, 0).expect("t"));
        assert_eq!(
            range_start("1mo", today, now),
            day_stamp(NaiveDate::from_ymd_opt(2025, 3, 1).expect("d"))
        );
        assert_eq!(range_start("max", today, now), FIRST_TRADE);
        assert!(lookback(Interval::Minutes(5), "5m", now - 61 * 86_400, now, now).is_some());
        assert!(lookback(Interval::Minutes(1), "1m", now - 9 * 86_400, now, now).is_some());
        assert!(lookback(Interval::Minutes(1), "1m", now - 2 * 86_400, now, now).is_none());
        assert!(lookback(Interval::Day, "1d", 0, now, now).is_none());
    }
}
