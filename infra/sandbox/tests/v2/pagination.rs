//! Page keys: chained pages equal the unpaged result; keys are bound to their query.

use http::StatusCode;
use sandbox::issue_codes;

use crate::{LIGHT, app, get, get_all};

const RANGE: &str = "/v2/equities/bars/daily?code=7203&from=20241101&to=20241130";

#[tokio::test]
async fn pages_concatenate_to_the_unpaged_result() {
    let whole = get(&app(1000), RANGE, LIGHT).await;
    assert_eq!(whole.page_key(), None);
    let (rows, keys) = get_all(&app(3), RANGE, LIGHT).await;
    assert_eq!(&rows, whole.data());
    assert_eq!(keys.len(), rows.len().div_ceil(3) - 1);
    let mut unique = keys.clone();
    unique.dedup();
    assert_eq!(unique, keys, "every page has a new key");
}

#[tokio::test]
async fn date_only_returns_every_listed_issue_across_pages() {
    let (rows, keys) = get_all(&app(1000), "/v2/equities/bars/daily?date=20241202", LIGHT).await;
    let codes: Vec<&str> = rows
        .iter()
        .map(|r| r["Code"].as_str().expect("code"))
        .collect();
    let listed: Vec<&str> = issue_codes().iter().map(String::as_str).collect();
    assert_eq!(codes, listed);
    assert_eq!(keys.len(), listed.len().div_ceil(1000) - 1);
    assert!(rows.iter().all(|r| r["Date"] == "2024-12-02"));
}

#[tokio::test]
async fn keys_sent_with_other_parameters_or_tampered_are_refused() {
    let app = app(3);
    let first = get(&app, RANGE, LIGHT).await;
    let key = first.page_key().expect("more pages");
    let other =
        format!("/v2/equities/bars/daily?code=6758&from=20241101&to=20241130&pagination_key={key}");
    for uri in [
        other,
        format!("{RANGE}&pagination_key=garbage"),
        format!("{RANGE}&pagination_key=value1.value2."),
    ] {
        let reply = get(&app, &uri, LIGHT).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(reply.message().contains("pagination_key"), "{}", reply.text);
    }
    let same = get(&app, &format!("{RANGE}&pagination_key={key}"), LIGHT).await;
    assert_eq!(same.status, StatusCode::OK);
}
