//! Parameters, row shapes and the synthetic data of `/equities/bars/daily`.

use http::StatusCode;
use sandbox::{Plan, daily_bar, is_trading_day, issue_codes, trading_days};
use serde_json::Value;

use crate::{FREE, LIGHT, PREMIUM, app, day, get, get_all};

const REQUIRED: &str = "This API requires at least 1 parameter as follows; date, code";

#[tokio::test]
async fn code_or_date_is_required() {
    let app = app(1000);
    for query in ["", "?from=20240101&to=20240110", "?code=&date="] {
        let reply = get(&app, &format!("/v2/equities/bars/daily{query}"), LIGHT).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.message(), REQUIRED);
    }
}

#[tokio::test]
async fn malformed_dates_and_codes_get_400_naming_the_parameter() {
    let app = app(1000);
    let cases = [
        ("date=20240230", "'date'"),
        ("date=invalid-date-format", "'date'"),
        ("code=7203&from=2024-13-01", "'from'"),
        ("code=7203&to=2024/01/01", "'to'"),
        ("code=720", "'code'"),
        ("code=abcd", "'code'"),
        ("code=7203&date=20241202&from=20241201", "'date'"),
        ("code=7203&from=20241210&to=20241201", "'from'"),
    ];
    for (query, names) in cases {
        let reply = get(&app, &format!("/v2/equities/bars/daily?{query}"), LIGHT).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(reply.message().contains(names), "{query}: {}", reply.text);
    }
}

#[tokio::test]
async fn rows_have_sixteen_keys_or_forty_two_on_premium_in_reference_order() {
    let app = app(1000);
    let uri = "/v2/equities/bars/daily?code=86970&date=2024-12-02";
    let free = get(
        &app,
        "/v2/equities/bars/daily?code=86970&date=2024-12-02",
        FREE,
    )
    .await;
    let premium = get(&app, uri, PREMIUM).await;
    assert_eq!(free.data()[0].as_object().expect("object").len(), 16);
    assert_eq!(premium.data()[0].as_object().expect("object").len(), 42);
    let order = [
        "\"Date\"",
        "\"Code\"",
        "\"O\"",
        "\"AdjFactor\"",
        "\"AdjVo\"",
        "\"MO\"",
        "\"AAdjVo\"",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|k| premium.text.find(k).expect(k))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{}", premium.text);
    assert!(free.text.contains(r#""AdjFactor":1.0"#) && free.text.contains(r#""UL":"0""#));
    assert_eq!(free.json.get("pagination_key"), None);
}

#[tokio::test]
async fn rows_match_daily_bar_and_are_deterministic() {
    let app = app(1000);
    let uri = "/v2/equities/bars/daily?code=7203&from=20241125&to=20241206";
    let (first, second) = (get(&app, uri, PREMIUM).await, get(&app, uri, PREMIUM).await);
    assert_eq!(first.text, second.text);
    let expected: Vec<Value> = trading_days(day("2024-11-25"), day("2024-12-06"))
        .map(|d| Value::Object(daily_bar("72030", d, Plan::Premium).expect("row")))
        .collect();
    assert_eq!(first.data(), &expected);
    let five = get(
        &app,
        "/v2/equities/bars/daily?code=72030&from=20241125&to=20241206",
        PREMIUM,
    );
    assert_eq!(five.await.text, first.text);
}

#[tokio::test]
async fn no_rows_on_weekends_and_holidays() {
    let app = app(1000);
    for date in ["2024-01-08", "2024-01-06", "2024-12-31", "2025-11-24"] {
        let reply = get(&app, &format!("/v2/equities/bars/daily?date={date}"), LIGHT).await;
        assert_eq!(
            (reply.status, reply.data().len()),
            (StatusCode::OK, 0),
            "{date}"
        );
    }
    let (rows, _) = get_all(
        &app,
        "/v2/equities/bars/daily?code=7203&from=20231225&to=20240115",
        LIGHT,
    )
    .await;
    let dates: Vec<&str> = rows
        .iter()
        .map(|r| r["Date"].as_str().expect("date"))
        .collect();
    assert_eq!(dates.first(), Some(&"2023-12-25"));
    assert!(dates.iter().all(|d| is_trading_day(day(d))));
    assert!(!dates.contains(&"2024-01-08") && !dates.contains(&"2024-01-02"));
}

#[tokio::test]
async fn no_trade_days_serve_nulls() {
    let app = app(1000);
    let (code, date) = issue_codes()
        .iter()
        .flat_map(|c| trading_days(day("2024-06-03"), day("2024-06-28")).map(move |d| (c, d)))
        .find(|(c, d)| daily_bar(c, *d, Plan::Light).is_some_and(|r| r["C"].is_null()))
        .expect("about 1 in 150 rows is a no-trade day");
    let uri = format!("/v2/equities/bars/daily?code={code}&date={date}");
    let row = get(&app, &uri, LIGHT).await.data()[0].clone();
    for key in [
        "O", "H", "L", "C", "Vo", "Va", "AdjO", "AdjH", "AdjL", "AdjC", "AdjVo",
    ] {
        assert_eq!(row[key], Value::Null, "{key}");
    }
    assert_eq!(
        (&row["UL"], &row["AdjFactor"]),
        (&Value::from("0"), &Value::from(1.0))
    );
}

#[tokio::test]
async fn unknown_but_well_formed_codes_get_empty_data() {
    let reply = get(&app(1000), "/v2/equities/bars/daily?code=0000", LIGHT).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text, r#"{"data":[]}"#);
}
