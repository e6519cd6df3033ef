//! `GET /v7/finance/quote?symbols=A,B&crumb=...`: the latest quote per symbol; needs the
//! `A3` cookie and its crumb (401 "Invalid Crumb" otherwise). Unknown symbols are left out.

use chrono::{DateTime, Days, Utc};
use serde_json::{Value, json};

use super::bars::{daily, jst_stamp};
use super::{Reply, last_closed_session, symbol_code};
use crate::clock::jst;
use crate::corporate::issuer;
use crate::intraday::sessions;

/// The quote answer for the comma-separated `symbols` at sandbox time `now`.
pub(crate) fn quote(symbols: Option<&str>, now: DateTime<Utc>) -> Reply {
    let Some(symbols) = symbols else {
        let error = json!({"code": "argument-error", "description": "Missing required query parameter=symbols"});
        return Reply::json(
            400,
            json!({"quoteResponse": {"result": null, "error": error}}),
        );
    };
    let result: Vec<Value> = symbols
        .split(',')
        .map(str::trim)
        .filter_map(|symbol| one(symbol, now))
        .collect();
    Reply::json(
        200,
        json!({"quoteResponse": {"result": result, "error": null}}),
    )
}

fn one(symbol: &str, now: DateTime<Utc>) -> Option<Value> {
    let code = symbol_code(symbol)?;
    let today = jst(now).date();
    let closed = last_closed_session(now);
    let year = daily(
        &code,
        closed.checked_sub_days(Days::new(365))?,
        closed,
        today,
    );
    let mut traded = year.iter().rev().filter_map(|p| p.bar);
    let last = traded.next()?;
    let previous = traded.next().map_or(last.o, |b| b.c);
    let high = year
        .iter()
        .filter_map(|p| p.bar)
        .map(|b| b.h)
        .fold(f64::MIN, f64::max);
    let low = year
        .iter()
        .filter_map(|p| p.bar)
        .map(|b| b.l)
        .fold(f64::MAX, f64::min);
    let [(open, _), (_, close)] = sessions(today);
    let open_now = closed < today
        && crate::calendar::is_trading_day(today)
        && (jst_stamp(today, open)..jst_stamp(today, close)).contains(&now.timestamp());
    let who = issuer(&code);
    let change = ((last.c - previous) * 100.0).round() / 100.0;
    Some(json!({
        "language": "en-US", "region": "US", "quoteType": "EQUITY", "typeDisp": "Equity",
        "quoteSourceName": "Delayed Quote", "triggerable": false, "currency": "JPY",
        "exchange": "JPX", "shortName": who.name_en.to_uppercase(), "longName": who.name_en,
        "messageBoardId": format!("finmb_{}", who.seed % 100_000_000),
        "exchangeTimezoneName": "Asia/Tokyo", "exchangeTimezoneShortName": "JST",
        "gmtOffSetMilliseconds": 32_400_000, "market": "jp_market",
        "marketState": if open_now { "REGULAR" } else { "CLOSED" },
        "priceHint": 2, "tradeable": false, "fullExchangeName": "Tokyo",
        "regularMarketPrice": last.c, "regularMarketTime": jst_stamp(closed, sessions(closed)[1].1),
        "regularMarketChange": change,
        "regularMarketChangePercent": (change / previous * 1.0e4).round() / 100.0,
        "regularMarketDayHigh": last.h, "regularMarketDayLow": last.l,
        "regularMarketOpen": last.o, "regularMarketVolume": last.vo as u64,
        "regularMarketPreviousClose": previous,
        "fiftyTwoWeekHigh": high, "fiftyTwoWeekLow": low, "symbol": symbol,
    }))
}
