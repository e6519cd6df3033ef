//! Plan windows: explicit dates outside them get 400, code-only requests are clamped.

use http::StatusCode;

use crate::{FREE, LIGHT, PREMIUM, app, get, get_all};

const FREE_WINDOW: &str = "Your subscription covers the following dates: 2024-08-28 ~ 2026-08-28. If you want more data, please check other plans:  https://jpx-jquants.com/";

#[tokio::test]
async fn free_sees_only_its_delayed_two_years() {
    let app = app(1000);
    let inside = get(
        &app,
        "/v2/equities/bars/daily?code=7203&date=20250602",
        FREE,
    )
    .await;
    assert_eq!((inside.status, inside.data().len()), (StatusCode::OK, 1));
    for query in [
        "date=20261001",
        "code=7203&from=20240801",
        "code=7203&to=20261120",
        "date=20240827",
    ] {
        let reply = get(&app, &format!("/v2/equities/bars/daily?{query}"), FREE).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.message(), FREE_WINDOW);
    }
}

#[tokio::test]
async fn code_only_is_clamped_to_the_window() {
    let app = app(1000);
    let (rows, _) = get_all(&app, "/v2/equities/bars/daily?code=7203", FREE).await;
    let first = rows.first().and_then(|r| r["Date"].as_str()).expect("rows");
    let last = rows.last().and_then(|r| r["Date"].as_str()).expect("rows");
    assert!(
        first >= "2024-08-28" && last <= "2026-08-28",
        "{first}..{last}"
    );
    assert!((480..=500).contains(&rows.len()), "{}", rows.len());
    let (light, _) = get_all(
        &app,
        "/v2/equities/bars/daily?code=7203&from=20260101",
        LIGHT,
    )
    .await;
    assert_eq!(
        light.last().and_then(|r| r["Date"].as_str()),
        Some("2026-11-20")
    );
}

#[tokio::test]
async fn paid_plans_reach_back_their_years_but_not_into_the_future() {
    let app = app(1000);
    let old = get(
        &app,
        "/v2/equities/bars/daily?code=7203&date=20061201",
        PREMIUM,
    )
    .await;
    assert_eq!((old.status, old.data().len()), (StatusCode::OK, 1));
    let too_old = get(
        &app,
        "/v2/equities/bars/daily?code=7203&date=20200601",
        LIGHT,
    )
    .await;
    assert_eq!(too_old.status, StatusCode::BAD_REQUEST);
    assert!(
        too_old
            .message()
            .starts_with("Your subscription covers the following dates: 2021-11-20 ~ 2026-11-20.")
    );
    let future = get(&app, "/v2/equities/bars/daily?date=20261123", PREMIUM).await;
    assert_eq!(future.status, StatusCode::BAD_REQUEST);
}
