//! Yahoo: chart without a crumb, the cookie + crumb flow, quote's 401, the text 429.

use axum::Router;
use http::{Method, StatusCode, header};
use sandbox::{Plan, YAHOO, daily_bar, trading_days};
use serde_json::Value;

use crate::{admin, app, call, day, stats};

async fn yahoo(app: &Router, path: &str, headers: &[(&str, &str)]) -> crate::Reply {
    call(app, Method::GET, &format!("/yahoo{path}"), headers, "").await
}

/// 2024-12-02 and 2024-12-07 at 00:00 UTC.
const MONDAY: i64 = 1_733_097_600;
const SATURDAY: i64 = 1_733_529_600;

#[tokio::test]
async fn daily_charts_need_no_crumb_and_stamp_the_session_open() {
    let app = app();
    let uri = format!(
        "/v8/finance/chart/7203.T?period1={MONDAY}&period2={SATURDAY}&interval=1d&events=div%2Csplits"
    );
    let reply = yahoo(&app, &uri, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["chart"]["error"], Value::Null);
    let result = &reply.json["chart"]["result"][0];
    let stamps: Vec<i64> = result["timestamp"]
        .as_array()
        .expect("timestamps")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    let expected: Vec<i64> = trading_days(day("2024-12-02"), day("2024-12-06"))
        .map(|d| d.and_hms_opt(0, 0, 0).expect("t").and_utc().timestamp())
        .collect();
    assert_eq!(stamps, expected);
    let meta = &result["meta"];
    for (key, value) in [
        ("currency", "JPY"),
        ("symbol", "7203.T"),
        ("exchangeName", "JPX"),
        ("exchangeTimezoneName", "Asia/Tokyo"),
        ("timezone", "JST"),
        ("dataGranularity", "1d"),
        ("range", ""),
        ("instrumentType", "EQUITY"),
    ] {
        assert_eq!(meta[key], value, "{key}");
    }
    assert_eq!(meta["gmtoffset"], 32400);
    let quote = &result["indicators"]["quote"][0];
    let bar = daily_bar("7203", day("2024-12-02"), Plan::Light).expect("row");
    for (yahoo_key, jquants_key) in [
        ("open", "AdjO"),
        ("high", "AdjH"),
        ("low", "AdjL"),
        ("close", "AdjC"),
    ] {
        assert_eq!(quote[yahoo_key][0], bar[jquants_key], "{yahoo_key}");
    }
    assert_eq!(
        quote["volume"][0].as_u64(),
        bar["AdjVo"].as_f64().map(|v| v as u64)
    );
    assert!(result["indicators"]["adjclose"][0]["adjclose"][0].is_number());
    let unknown = yahoo(&app, "/v8/finance/chart/0000.T", &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json["chart"]["error"]["description"],
        "No data found, symbol may be delisted"
    );
    let backwards = yahoo(
        &app,
        &format!("/v8/finance/chart/7203.T?period1={SATURDAY}&period2={MONDAY}"),
        &[],
    )
    .await;
    assert_eq!(backwards.status.as_u16(), 422);
}

#[tokio::test]
async fn splits_and_dividends_come_as_events_and_adjust_the_history() {
    let app = app();
    let (from, to) = (1_693_526_400, 1_696_118_400); // 2023-09-01 .. 2023-10-01 UTC
    let uri = format!(
        "/v8/finance/chart/8697.T?period1={from}&period2={to}&interval=1d&events=div|split"
    );
    let result = yahoo(&app, &uri, &[]).await.json["chart"]["result"][0].clone();
    let split = &result["events"]["splits"]["1695859200"];
    assert_eq!(
        (split["numerator"].as_u64(), split["denominator"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(split["splitRatio"], "2:1");
    let dividends = result["events"]["dividends"]
        .as_object()
        .expect("an interim dividend ex in September");
    let (stamp, dividend) = dividends.iter().next().expect("one");
    assert_eq!(
        dividend["date"].as_i64().map(|d| d.to_string()).as_deref(),
        Some(stamp.as_str())
    );
    let closes = result["indicators"]["quote"][0]["close"]
        .as_array()
        .expect("closes")
        .clone();
    let adjusted = result["indicators"]["adjclose"][0]["adjclose"]
        .as_array()
        .expect("adjclose")
        .clone();
    let raw = daily_bar("8697", day("2023-09-01"), Plan::Light).expect("row");
    assert_eq!(closes[0], raw["AdjC"], "split-adjusted close");
    assert!(
        adjusted[0].as_f64() < closes[0].as_f64(),
        "adjclose also takes the dividend out"
    );
    let ratio = |i: usize| adjusted[i].as_f64().unwrap_or(0.0) / closes[i].as_f64().unwrap_or(1.0);
    assert!(
        ratio(closes.len() - 1) > ratio(0),
        "fewer dividends to take out later"
    );
    let plain = yahoo(
        &app,
        &format!("/v8/finance/chart/8697.T?period1={from}&period2={to}"),
        &[],
    )
    .await;
    assert!(
        plain.json["chart"]["result"][0].get("events").is_none(),
        "events only when asked"
    );
}

#[tokio::test]
async fn intraday_charts_follow_the_session_and_the_lookback_limits() {
    let app = app();
    let (open, close) = (1_763_596_800, 1_763_620_200); // 2025-11-20 09:00 and 15:30 JST
    let uri = format!(
        "/v8/finance/chart/7203.T?period1={}&period2={}&interval=5m",
        open,
        close + 60
    );
    let reply = yahoo(&app, &uri, &[]).await;
    assert_eq!(
        reply.status.as_u16(),
        422,
        "a year ago is too old for minutes: {}",
        reply.text
    );
    let recent = "/v8/finance/chart/7203.T?range=1d&interval=5m";
    let reply = yahoo(&app, recent, &[]).await;
    let result = &reply.json["chart"]["result"][0];
    let stamps = result["timestamp"].as_array().expect("bars");
    assert_eq!(stamps.len(), 79, "09:00 to 15:30 every 5 minutes");
    let quote = &result["indicators"]["quote"][0];
    let lunch = (11 * 60 + 45 - 9 * 60) / 5;
    assert_eq!(
        quote["close"][lunch],
        Value::Null,
        "the lunch break is null"
    );
    assert!(result["indicators"].get("adjclose").is_none());
    assert_eq!(result["meta"]["dataGranularity"], "5m");
    assert!(result["meta"]["tradingPeriods"].is_array());
    let too_long = yahoo(&app, "/v8/finance/chart/7203.T?range=1mo&interval=1m", &[]).await;
    assert_eq!(too_long.status.as_u16(), 422);
    let bad = yahoo(&app, "/v8/finance/chart/7203.T?interval=7m", &[]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn quotes_need_the_cookie_and_its_crumb() {
    let app = app();
    let cookie_host = yahoo(&app, "/", &[]).await;
    assert_eq!(
        cookie_host.status,
        StatusCode::NOT_FOUND,
        "fc.yahoo.com answers 404"
    );
    let set_cookie = cookie_host.headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    assert!(cookie.starts_with("A3="), "{set_cookie}");
    assert!(!set_cookie.contains("Domain") && !set_cookie.contains("Secure"));
    let crumb = yahoo(&app, "/v1/test/getcrumb", &[("cookie", &cookie)]).await;
    assert_eq!(crumb.status, StatusCode::OK);
    assert_eq!(crumb.text.len(), 11);
    assert!(
        crumb.headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/plain"))
    );
    let no_cookie = yahoo(&app, "/v1/test/getcrumb", &[]).await;
    assert_eq!(no_cookie.status, StatusCode::UNAUTHORIZED);

    let invalid = serde_json::json!({"finance": {"result": null, "error": {"code": "Unauthorized", "description": "Invalid Crumb"}}});
    for (headers, crumb_param) in [
        (vec![("cookie", cookie.as_str())], String::new()),
        (
            vec![("cookie", cookie.as_str())],
            "&crumb=wrongcrumb1".to_owned(),
        ),
        (vec![], format!("&crumb={}", crumb.text)),
    ] {
        let reply = yahoo(
            &app,
            &format!("/v7/finance/quote?symbols=7203.T{crumb_param}"),
            &headers,
        )
        .await;
        assert_eq!(
            (reply.status, &reply.json),
            (StatusCode::UNAUTHORIZED, &invalid)
        );
    }
    let uri = format!(
        "/v7/finance/quote?symbols=7203.T,8697.T,XXXX.T&crumb={}",
        crumb.text
    );
    let reply = yahoo(&app, &uri, &[("cookie", &cookie)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let results = reply.json["quoteResponse"]["result"]
        .as_array()
        .expect("results");
    assert_eq!(results.len(), 2, "unknown symbols are left out");
    let toyota = &results[0];
    let bar = daily_bar("7203", day("2026-11-20"), Plan::Light).expect("the clock's today");
    assert_eq!(
        (&toyota["symbol"], &toyota["currency"], &toyota["exchange"]),
        (&"7203.T".into(), &"JPY".into(), &"JPX".into())
    );
    assert_eq!(toyota["regularMarketPrice"], bar["AdjC"]);
    assert_eq!(toyota["longName"], "TOYOTA MOTOR CORPORATION");
    assert_eq!(reply.json["quoteResponse"]["error"], Value::Null);
}

#[tokio::test]
async fn the_deployment_limit_answers_429_in_plain_text() {
    let app = app();
    admin(&app, "/_sandbox/limits", r#"{"yahoo_per_minute": 3}"#).await;
    for _ in 0..3 {
        let ok = yahoo(&app, "/v8/finance/chart/7203.T", &[]).await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    let limited = yahoo(&app, "/v8/finance/chart/7203.T", &[]).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.text, "Too Many Requests\r\n");
    assert!(
        limited.headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/plain"))
    );
    admin(&app, "/_sandbox/clock", r#"{"advance_secs": 61}"#).await;
    assert_eq!(
        yahoo(&app, "/v1/test/getcrumb", &[]).await.status,
        StatusCode::UNAUTHORIZED,
        "admitted again"
    );
    let log = stats(&app).await;
    assert_eq!(log["keys"][YAHOO]["requests"], 5);
    assert_eq!(log["keys"][YAHOO]["too_many_requests"], 1);
    assert_eq!(log["keys"][YAHOO]["max_per_60s"], 4);
}
