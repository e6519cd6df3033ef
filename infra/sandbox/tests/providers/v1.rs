//! J-Quants V1: the token lifecycle on the sandbox clock and the data routes' long names.

use axum::Router;
use http::{Method, StatusCode};
use sandbox::trading_days;

use crate::{LIGHT, Reply, admin, app, call, paged, stats, v2};

const MAIL: &str = "user@example.com";
const PASSWORD: &str = "correct horse";

async fn register(app: &Router, mail: &str, plan: &str) {
    let body =
        format!(r#"{{"mailaddress": "{mail}", "password": "{PASSWORD}", "plan": "{plan}"}}"#);
    admin(app, "/_sandbox/v1-users", &body).await;
}

async fn login(app: &Router, mail: &str, password: &str) -> Reply {
    let body = format!(r#"{{"mailaddress": "{mail}", "password": "{password}"}}"#);
    call(app, Method::POST, "/v1/token/auth_user", &[], &body).await
}

async fn refresh(app: &Router, token: &str) -> Reply {
    let uri = format!("/v1/token/auth_refresh?refreshtoken={token}");
    call(app, Method::POST, &uri, &[], "").await
}

async fn data(app: &Router, uri: &str, id_token: &str) -> Reply {
    let bearer = format!("Bearer {id_token}");
    call(app, Method::GET, uri, &[("authorization", &bearer)], "").await
}

fn token(reply: &Reply, name: &str) -> String {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json[name].as_str().expect(name).to_owned()
}

async fn advance(app: &Router, secs: i64) {
    admin(
        app,
        "/_sandbox/clock",
        &format!(r#"{{"advance_secs": {secs}}}"#),
    )
    .await;
}

const QUOTES: &str = "/v1/prices/daily_quotes?code=7203&date=20241202";
const EXPIRED: &str = "The incoming token is invalid or expired.";

#[tokio::test]
async fn tokens_expire_on_the_sandbox_clock() {
    let app = app();
    register(&app, MAIL, "light").await;
    for bad in [
        login(&app, MAIL, "wrong").await,
        login(&app, "nobody@example.com", PASSWORD).await,
    ] {
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad.message(), "'mailaddress' or 'password' is incorrect.");
    }
    let garbage = call(&app, Method::POST, "/v1/token/auth_user", &[], "not json").await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    let missing = call(&app, Method::POST, "/v1/token/auth_refresh", &[], "").await;
    assert_eq!(
        (missing.status, missing.message()),
        (StatusCode::BAD_REQUEST, "'refreshtoken' is required.")
    );
    assert_eq!(
        refresh(&app, "made-up").await.status,
        StatusCode::BAD_REQUEST
    );

    let refresh_token = token(&login(&app, MAIL, PASSWORD).await, "refreshToken");
    let id = token(&refresh(&app, &refresh_token).await, "idToken");
    assert_eq!(data(&app, QUOTES, &id).await.status, StatusCode::OK);
    for header in [
        vec![],
        vec![("authorization", "Bearer nonsense")],
        vec![("x-api-key", LIGHT)],
    ] {
        let reply = call(&app, Method::GET, QUOTES, &header, "").await;
        assert_eq!(
            (reply.status, reply.message()),
            (StatusCode::UNAUTHORIZED, EXPIRED)
        );
    }
    advance(&app, 23 * 3600).await;
    assert_eq!(
        data(&app, QUOTES, &id).await.status,
        StatusCode::OK,
        "23 h old"
    );
    advance(&app, 3600).await;
    let expired = data(&app, QUOTES, &id).await;
    assert_eq!(
        (expired.status, expired.message()),
        (StatusCode::UNAUTHORIZED, EXPIRED)
    );
    let renewed = token(&refresh(&app, &refresh_token).await, "idToken");
    assert_eq!(
        data(&app, QUOTES, &renewed).await.status,
        StatusCode::OK,
        "refreshed before expiry"
    );
    advance(&app, 6 * 24 * 3600).await;
    let stale = refresh(&app, &refresh_token).await;
    assert_eq!(
        stale.status,
        StatusCode::BAD_REQUEST,
        "the refresh token lives 7 days"
    );
    assert!(stale.message().contains("refreshtoken"));
    let again = token(&login(&app, MAIL, PASSWORD).await, "refreshToken");
    let id = token(&refresh(&app, &again).await, "idToken");
    assert_eq!(
        data(&app, QUOTES, &id).await.status,
        StatusCode::OK,
        "logging in again works"
    );

    let log = stats(&app).await;
    assert_eq!(log["keys"][MAIL]["by_path"]["/prices/daily_quotes"], 4);
    assert_eq!(log["keys"][MAIL]["by_path"]["/token/auth_user"], 3);
    assert_eq!(
        log["keys"]["<invalid>"]["by_path"]["/prices/daily_quotes"],
        4
    );
}

#[tokio::test]
async fn data_routes_serve_v2_rows_under_v1_names() {
    let app = sandbox::router(paged(3));
    register(&app, MAIL, "light").await;
    register(&app, "standard@example.com", "standard").await;
    let id = |mail: &'static str| {
        let app = app.clone();
        async move {
            let refresh_token = token(&login(&app, mail, PASSWORD).await, "refreshToken");
            token(&refresh(&app, &refresh_token).await, "idToken")
        }
    };
    let (light, standard) = (id(MAIL).await, id("standard@example.com").await);

    let quotes = data(&app, QUOTES, &light).await;
    let row = &quotes.json["daily_quotes"][0];
    let v2_row = v2(
        &app,
        "/v2/equities/bars/daily?code=7203&date=20241202",
        LIGHT,
    )
    .await
    .json["data"][0]
        .clone();
    let pairs = [
        ("Date", "Date"),
        ("Code", "Code"),
        ("Open", "O"),
        ("High", "H"),
        ("Low", "L"),
        ("Close", "C"),
        ("UpperLimit", "UL"),
        ("LowerLimit", "LL"),
        ("Volume", "Vo"),
        ("TurnoverValue", "Va"),
        ("AdjustmentFactor", "AdjFactor"),
        ("AdjustmentOpen", "AdjO"),
        ("AdjustmentHigh", "AdjH"),
        ("AdjustmentLow", "AdjL"),
        ("AdjustmentClose", "AdjC"),
        ("AdjustmentVolume", "AdjVo"),
    ];
    assert_eq!(row.as_object().map(serde_json::Map::len), Some(16));
    for (v1_name, v2_name) in pairs {
        assert_eq!(row[v1_name], v2_row[v2_name], "{v1_name}");
    }

    let info = |token: String| {
        let app = app.clone();
        async move {
            data(&app, "/v1/listed/info?code=8697&date=20241202", &token)
                .await
                .json["info"][0]
                .clone()
        }
    };
    let (basic, full) = (info(light.clone()).await, info(standard).await);
    assert_eq!(basic.as_object().map(serde_json::Map::len), Some(11));
    assert_eq!(full.as_object().map(serde_json::Map::len), Some(13));
    assert_eq!(
        (&full["CompanyName"], &full["MarketCodeName"]),
        (&"日本取引所グループ".into(), &"プライム".into())
    );
    assert!(full["MarginCode"].is_string() && basic.get("MarginCode").is_none());

    let first = data(&app, "/v1/fins/statements?code=8697", &light).await;
    assert_eq!(first.json["statements"].as_array().map(Vec::len), Some(3));
    let key = first.json["pagination_key"].as_str().expect("more pages");
    let second = data(
        &app,
        &format!("/v1/fins/statements?code=8697&pagination_key={key}"),
        &light,
    )
    .await;
    let statement = &second.json["statements"][0];
    assert_eq!(statement["LocalCode"], "86970");
    assert_eq!(
        statement["OrdinaryProfit"], "",
        "IFRS has no ordinary profit"
    );
    assert!(
        statement["TypeOfDocument"]
            .as_str()
            .is_some_and(|t| t.ends_with("_IFRS"))
    );
    assert!(
        statement["DisclosureNumber"]
            .as_str()
            .is_some_and(|n| n.len() == 14)
    );

    let uri = "/v1/markets/trading_calendar?holidaydivision=1&from=20241201&to=20241231";
    let calendar = data(&app, uri, &light).await;
    let days = calendar.json["trading_calendar"]
        .as_array()
        .expect("array")
        .clone();
    let expected = trading_days(crate::day("2024-12-01"), crate::day("2024-12-31")).count();
    assert_eq!(days.len(), expected, "not paged");
    assert!(days.iter().all(|d| d["HolidayDivision"] == "1"));
    assert!(calendar.json.get("pagination_key").is_none());

    let missing = data(&app, "/v1/prices/daily_quotes", &light).await;
    assert_eq!(
        missing.message(),
        "This API requires at least 1 parameter as follows; 'date','code'."
    );
}
