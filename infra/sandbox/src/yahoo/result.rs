//! The parts of a chart result: `meta`, `events` and `indicators` (reference yahoo-api.md
//! §2.2), built from the bars `bars` computes.

use chrono::{DateTime, Days, NaiveDate};
use serde_json::{Map, Value, json};

use super::bars::{Point, daily, day_stamp, jst_stamp};
use super::chart::{FIRST_TRADE, RANGES};
use crate::clock::jst;
use crate::corporate::{cumulative_factor, dividends_by_record, issuer, split_of};
use crate::intraday::sessions;
use crate::params::IssueCode;

fn period(start: i64, end: i64) -> Value {
    json!({"timezone": "JST", "start": start, "end": end, "gmtoffset": 32400})
}

/// What the chart was asked for, as `meta` echoes it.
#[derive(Debug)]
pub(crate) struct Asked<'a> {
    pub(crate) symbol: &'a str,
    pub(crate) code: &'a IssueCode,
    pub(crate) interval: &'a str,
    /// `""` when `period1`/`period2` were used.
    pub(crate) range: &'a str,
    pub(crate) start: i64,
    /// The last session that has closed, and the exchange's date.
    pub(crate) closed: NaiveDate,
    pub(crate) today: NaiveDate,
}

/// `meta`: the instrument, its latest session and the request echo.
pub(crate) fn meta(asked: &Asked<'_>, points: &[Point]) -> Value {
    let Asked {
        symbol,
        code,
        interval,
        range,
        start,
        closed,
        today,
    } = *asked;
    let who = issuer(code);
    let [(open, _), (_, close)] = sessions(closed);
    let recent = daily(
        code,
        closed.checked_sub_days(Days::new(365)).unwrap_or(closed),
        closed,
        today,
    );
    let last = recent.iter().rev().find_map(|p| p.bar);
    let high = recent
        .iter()
        .filter_map(|p| p.bar)
        .map(|b| b.h)
        .fold(f64::MIN, f64::max);
    let low = recent
        .iter()
        .filter_map(|p| p.bar)
        .map(|b| b.l)
        .fold(f64::MAX, f64::min);
    let first_day = DateTime::from_timestamp(start, 0).map_or(closed, |d| jst(d).date());
    let before = daily(
        code,
        first_day
            .checked_sub_days(Days::new(10))
            .unwrap_or(first_day),
        first_day,
        today,
    )
    .into_iter()
    .filter(|p| p.ts < points.first().map_or(i64::MAX, |f| f.ts))
    .filter_map(|p| p.bar)
    .next_back();
    let mut meta = json!({
        "currency": "JPY", "symbol": symbol, "exchangeName": "JPX", "fullExchangeName": "Tokyo",
        "instrumentType": "EQUITY", "firstTradeDate": FIRST_TRADE,
        "regularMarketTime": jst_stamp(closed, close), "hasPrePostMarketData": false,
        "gmtoffset": 32400, "timezone": "JST", "exchangeTimezoneName": "Asia/Tokyo",
        "regularMarketPrice": last.map(|b| b.c), "fiftyTwoWeekHigh": high, "fiftyTwoWeekLow": low,
        "regularMarketDayHigh": last.map(|b| b.h), "regularMarketDayLow": last.map(|b| b.l),
        "regularMarketVolume": last.map(|b| b.vo as u64),
        "longName": who.name_en, "shortName": who.name_en.to_uppercase(),
        "chartPreviousClose": before.map(|b| b.c), "priceHint": 2,
        "currentTradingPeriod": {
            "pre": period(jst_stamp(closed, open), jst_stamp(closed, open)),
            "regular": period(jst_stamp(closed, open), jst_stamp(closed, close)),
            "post": period(jst_stamp(closed, close), jst_stamp(closed, close)),
        },
        "dataGranularity": interval, "range": range, "validRanges": RANGES,
    });
    if interval.ends_with('m') && !interval.ends_with("mo") || interval == "1h" {
        meta["previousClose"] = json!(before.map(|b| b.c));
        meta["scale"] = json!(3);
        let mut days: Vec<i64> = points
            .iter()
            .map(|p| p.ts - p.ts.rem_euclid(86_400))
            .collect();
        days.dedup();
        let periods: Vec<Value> = days
            .into_iter()
            .filter_map(|d| DateTime::from_timestamp(d, 0).map(|t| t.date_naive()))
            .map(|d| {
                let [(o, _), (_, c)] = sessions(d);
                json!([period(jst_stamp(d, o), jst_stamp(d, c))])
            })
            .collect();
        meta["tradingPeriods"] = Value::Array(periods);
    }
    meta
}

pub(crate) fn events(
    code: &IssueCode,
    start: i64,
    end: i64,
    today: NaiveDate,
    div: bool,
    split: bool,
) -> Map<String, Value> {
    let mut events = Map::new();
    let in_span = |ts: i64| ts >= start && ts < end;
    let first =
        DateTime::from_timestamp(start.max(FIRST_TRADE), 0).map_or(today, |d| d.date_naive());
    if div {
        let dividends: Map<String, Value> = dividends_by_record(
            code,
            first,
            today.checked_add_days(Days::new(10)).unwrap_or(today),
        )
        .into_iter()
        .filter(|d| d.ex_date <= today && in_span(day_stamp(d.ex_date)))
        .map(|d| {
            let ts = day_stamp(d.ex_date);
            let amount = d.amount * cumulative_factor(code, d.ex_date, today);
            (ts.to_string(), json!({"amount": amount, "date": ts}))
        })
        .collect();
        if !dividends.is_empty() {
            events.insert("dividends".into(), Value::Object(dividends));
        }
    }
    if split
        && let Some(s) =
            split_of(code).filter(|s| s.ex_date <= today && in_span(day_stamp(s.ex_date)))
    {
        let ts = day_stamp(s.ex_date);
        let ratio = format!("{}:{}", s.to, s.from);
        let entry =
            json!({"date": ts, "numerator": s.to, "denominator": s.from, "splitRatio": ratio});
        events.insert("splits".into(), json!({ ts.to_string(): entry }));
    }
    events
}

pub(crate) fn indicators(points: &[Point], intraday: bool) -> Value {
    let column = |pick: fn(&crate::market::Ohlcv) -> f64| -> Vec<Option<f64>> {
        points.iter().map(|p| p.bar.as_ref().map(pick)).collect()
    };
    let quote = if points.is_empty() {
        json!({})
    } else {
        json!({
            "open": column(|b| b.o), "high": column(|b| b.h), "low": column(|b| b.l),
            "close": column(|b| b.c),
            "volume": points.iter().map(|p| p.bar.map(|b| b.vo as u64)).collect::<Vec<_>>(),
        })
    };
    if intraday {
        return json!({"quote": [quote]});
    }
    let adjclose = if points.is_empty() {
        json!({})
    } else {
        json!({"adjclose": points.iter().map(|p| p.adjclose).collect::<Vec<_>>()})
    };
    json!({"quote": [quote], "adjclose": [adjclose]})
}
