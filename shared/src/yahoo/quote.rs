//! The v7 quote (batch, needs cookie + crumb): the latest price of several symbols per
//! request, as typed rows keyed by J-Quants code.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;
use serde_json::Value;

use super::error::from_error_object;
use super::symbol::jquants_code;
use crate::catalog::yahoo::jst;
use crate::domain::IssueCode;
use crate::provider::ProviderError;

/// The latest quote of one issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// The issue.
    pub code: IssueCode,
    /// The Yahoo symbol.
    pub symbol: String,
    /// Last price.
    pub price: Option<f64>,
    /// When the last price traded, in Tokyo time.
    pub market_time: Option<DateTime<FixedOffset>>,
    /// The Tokyo trading date of the last price.
    pub trading_date: Option<NaiveDate>,
    /// That session's open.
    pub open: Option<f64>,
    /// That session's high.
    pub high: Option<f64>,
    /// That session's low.
    pub low: Option<f64>,
    /// Shares traded in that session.
    pub volume: Option<u64>,
    /// The close before it.
    pub previous_close: Option<f64>,
    /// `price - previous_close`.
    pub change: Option<f64>,
    /// The same, in percent.
    pub change_percent: Option<f64>,
    /// `REGULAR` while the session trades, `CLOSED` (or `PRE`, `POST`) otherwise.
    pub market_state: Option<String>,
    /// Price currency (`JPY`).
    pub currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    quote_response: Body,
}

#[derive(Deserialize)]
struct Body {
    result: Option<Vec<Value>>,
    error: Option<Value>,
}

/// Parses a 200 quote body. Symbols outside Tokyo are left out.
///
/// # Errors
/// [`ProviderError::Malformed`] for a body that is not a quote answer; the mapped
/// `quoteResponse.error` when Yahoo sent one.
pub fn parse_quotes(body: &[u8]) -> Result<Vec<Quote>, ProviderError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| ProviderError::unreadable(&e))?;
    if let Some(error) = envelope.quote_response.error.filter(|e| !e.is_null()) {
        return Err(from_error_object(&error));
    }
    let rows = envelope
        .quote_response
        .result
        .ok_or_else(|| ProviderError::Malformed("quote without a result".into()))?;
    Ok(rows.iter().filter_map(row).collect())
}

fn row(v: &Value) -> Option<Quote> {
    let symbol = v.get("symbol")?.as_str()?;
    let code = jquants_code(symbol)?;
    let number = |name: &str| {
        v.get(name)
            .and_then(Value::as_f64)
            .filter(|n| n.is_finite())
    };
    let text = |name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
    let market_time = v
        .get("regularMarketTime")
        .and_then(Value::as_i64)
        .and_then(|ts| DateTime::from_timestamp(ts, 0))
        .map(|t| t.with_timezone(&jst()));
    Some(Quote {
        code,
        symbol: symbol.to_owned(),
        price: number("regularMarketPrice"),
        trading_date: market_time.map(|t| t.date_naive()),
        market_time,
        open: number("regularMarketOpen"),
        high: number("regularMarketDayHigh"),
        low: number("regularMarketDayLow"),
        volume: v.get("regularMarketVolume").and_then(Value::as_u64),
        previous_close: number("regularMarketPreviousClose"),
        change: number("regularMarketChange"),
        change_percent: number("regularMarketChangePercent"),
        market_state: text("marketState"),
        currency: text("currency"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_keyed_by_jquants_code_on_their_tokyo_date() {
        let body = r#"{"quoteResponse":{"result":[
            {"symbol":"7203.T","regularMarketPrice":2760.0,"regularMarketTime":1743489000,
             "regularMarketVolume":30125400,"marketState":"CLOSED","currency":"JPY",
             "regularMarketPreviousClose":2718.5,"regularMarketChange":41.5},
            {"symbol":"AAPL","regularMarketPrice":1.0}],"error":null}}"#;
        let quotes = parse_quotes(body.as_bytes()).unwrap();
        assert_eq!(quotes.len(), 1);
        let q = &quotes[0];
        assert_eq!(q.code.as_str(), "72030");
        assert_eq!(q.trading_date, NaiveDate::from_ymd_opt(2025, 4, 1));
        assert_eq!(
            q.market_time.unwrap().to_rfc3339(),
            "2025-04-01T15:30:00+09:00"
        );
        assert_eq!((q.price, q.volume), (Some(2760.0), Some(30_125_400)));
        assert_eq!(q.open, None);
    }

    #[test]
    fn errors_inside_the_answer_are_classified() {
        let body = r#"{"quoteResponse":{"result":null,"error":{"code":"argument-error","description":"Missing required query parameter=symbols"}}}"#;
        assert!(matches!(
            parse_quotes(body.as_bytes()),
            Err(ProviderError::BadRequest(_))
        ));
        assert!(matches!(
            parse_quotes(b"Too Many"),
            Err(ProviderError::Malformed(_))
        ));
    }
}
