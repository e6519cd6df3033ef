//! 403 for missing or unknown keys and for paths J-Quants does not serve.

use http::{Method, StatusCode};

use crate::{LIGHT, app, get, send};

const BARS: &str = "/v2/equities/bars/daily?code=7203&date=20241202";

#[tokio::test]
async fn missing_or_unknown_keys_get_403_with_a_message() {
    let app = app(1000);
    for key in [None, Some("wrong"), Some("")] {
        let reply = send(&app, Method::GET, BARS, key).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{key:?}");
        assert!(
            reply.message().contains("invalid or expired"),
            "{}",
            reply.text
        );
    }
    assert_eq!(get(&app, BARS, LIGHT).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_paths_and_methods_get_403_not_404() {
    let app = app(1000);
    for uri in [
        "/v2/equities/bars/weekly?code=7203",
        "/v2",
        "/v2/prices/daily_quotes",
        "/v1/nowhere",
        "/",
    ] {
        let reply = get(&app, uri, LIGHT).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(!reply.message().is_empty());
    }
    let reply = send(&app, Method::POST, BARS, Some(LIGHT)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(!reply.message().is_empty());
}
