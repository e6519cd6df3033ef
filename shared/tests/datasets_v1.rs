//! Every J-Quants V1 dataset of the catalog fetched from the sandbox through the real client
//! (V1 token auth), page by page: the records must give back the sandbox's rows field for
//! field, with as many rows as the sandbox serves, across at least two pages (the calendar is
//! not paginated).
//!
//! As in `datasets.rs`, the expected rows come from a second, plain HTTP fetch of the same
//! query. A V1 row is a V2 row under V1's names, so each test also fetches the V2 counterpart
//! and checks a sample row's values position by position, and some by name.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use sandbox::{ApiKeySpec, Plan, Sandbox, SandboxConfig};
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use shared::catalog::{self, Endpoint};
use shared::clock::ManualClock;
use shared::dataset::{FieldValue, Record};
use shared::domain::DataSourceId;
use shared::jquants::{JQuantsClient, Login, V1Auth};

mod common;
use common::{field, query};

const MAIL: &str = "v1-user@example.com";
const PASSWORD: &str = "v1-password";
const KEY: &str = "premium-key";

/// A Friday in May; the sandbox clock reads 18:00 JST.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 5, 9).unwrap()
}

/// A sandbox with a V1 user on `plan` (and a Premium V2 key for the counterparts).
async fn sandbox(page_size: usize, plan: Plan) -> Sandbox {
    let sb = Sandbox::start(SandboxConfig {
        keys: vec![ApiKeySpec {
            key: KEY.into(),
            plan: Plan::Premium,
        }],
        page_size,
        today: Some(today()),
    })
    .await;
    sb.add_v1_user(MAIL, PASSWORD, plan);
    sb
}

fn endpoint(source: &str, id: &str) -> &'static Endpoint {
    catalog::find(&DataSourceId::parse(source).unwrap(), id).unwrap()
}

/// Every record of the query through `JQuantsClient::get_page_with` and V1 token auth (a V2
/// endpoint with the V2 key), and the number of pages.
async fn fetch(
    sb: &Sandbox,
    endpoint: &Endpoint,
    query: &[(String, String)],
) -> (Vec<Record>, usize) {
    let client = JQuantsClient::new(Duration::from_secs(30));
    let v1 = endpoint.data_source == "jquants-v1";
    let (mut records, mut pages, mut next) = (Vec::new(), 0, None::<String>);
    let auth = V1Auth::new(
        &client,
        &sb.v1_base_url(),
        Arc::new(ManualClock::new(sb.now())),
    )
    .with_login(Login {
        mail_address: SecretString::from(MAIL),
        password: SecretString::from(PASSWORD),
    });
    loop {
        let page = if v1 {
            let base = sb.v1_base_url();
            client
                .get_page_with(&base, endpoint, query, &auth, next.as_deref())
                .await
        } else {
            let key = SecretString::from(KEY);
            let base = sb.base_url();
            client
                .get_page(&base, endpoint, query, &key, next.as_deref())
                .await
        };
        let page = page.unwrap_or_else(|e| panic!("{}: {e}", endpoint.id));
        records.extend(page.records);
        pages += 1;
        match page.next {
            Some(k) => next = Some(k),
            None => return (records, pages),
        }
    }
}

/// An id token for the V1 user, by plain HTTP.
async fn id_token(sb: &Sandbox, http: &reqwest::Client) -> String {
    let v1 = sb.v1_base_url();
    let refresh: Value = http
        .post(format!("{v1}/token/auth_user"))
        .json(&json!({ "mailaddress": MAIL, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id: Value = http
        .post(format!("{v1}/token/auth_refresh"))
        .query(&[("refreshtoken", refresh["refreshToken"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    id["idToken"].as_str().unwrap().to_owned()
}

/// The same rows as served, by plain HTTP.
async fn served(
    sb: &Sandbox,
    endpoint: &Endpoint,
    query: &[(String, String)],
) -> Vec<Map<String, Value>> {
    let http = reqwest::Client::new();
    let token = id_token(sb, &http).await;
    let url = format!("{}{}", sb.v1_base_url(), endpoint.path);
    let key = endpoint.dataset.data_key();
    let (mut rows, mut next) = (Vec::new(), None::<String>);
    loop {
        let mut req = http.get(&url).bearer_auth(&token).query(query);
        if let Some(k) = &next {
            req = req.query(&[("pagination_key", k)]);
        }
        let body: Value = req.send().await.unwrap().json().await.unwrap();
        let data = body[key].as_array().unwrap_or_else(|| panic!("{body}"));
        rows.extend(data.iter().map(|r| r.as_object().unwrap().clone()));
        match body["pagination_key"].as_str() {
            Some(k) => next = Some(k.to_owned()),
            None => return rows,
        }
    }
}

/// Fetches `id` (V1) through the client on a sandbox with `page_size` rows a page and checks
/// every record against the served rows; returns them and the number of pages.
async fn check(
    sb: &Sandbox,
    id: &str,
    symbol: Option<&str>,
    params: &[(&str, &str)],
) -> (Vec<Record>, usize) {
    let endpoint = endpoint("jquants-v1", id);
    let query = query(endpoint, symbol, params);
    let (records, pages) = fetch(sb, endpoint, &query).await;
    let rows = served(sb, endpoint, &query).await;
    assert_eq!(records.len(), rows.len(), "{id}: row count");
    let page = serde_json::value::to_raw_value(&rows).unwrap();
    let untyped = endpoint.dataset.untyped_fields(&page).unwrap();
    assert!(untyped.is_empty(), "{id}: the row type lacks {untyped:?}");
    let mut keys = HashSet::new();
    for (record, row) in records.iter().zip(&rows) {
        assert_eq!(&record.to_json(), row, "{id}: every field of every row");
        for field in endpoint.natural_key {
            let value = row[*field]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: {field}"));
            assert!(
                record.partition == value || record.sort.contains(value),
                "{id}: key ({}, {}) lacks {field} = {value}",
                record.partition,
                record.sort
            );
        }
        assert!(
            keys.insert((record.partition.clone(), record.sort.clone())),
            "{id}: two rows share the key ({}, {})",
            record.partition,
            record.sort
        );
    }
    (records, pages)
}

/// The V2 counterpart's records (the V2 ids and parameter names).
async fn v2(sb: &Sandbox, id: &str, symbol: Option<&str>, params: &[(&str, &str)]) -> Vec<Record> {
    let endpoint = endpoint("jquants-v2", id);
    fetch(sb, endpoint, &query(endpoint, symbol, params))
        .await
        .0
}

/// `v1` is `v2` under other names: the same values in the same order.
fn same_values(v1: &Record, v2: &Record) {
    assert_eq!((&v1.partition, &v1.sort), (&v2.partition, &v2.sort));
    let values = |r: &Record| r.fields.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let n = v1.fields.len();
    assert_eq!(values(v1), values(v2)[..n], "{:?}", v1.fields);
}

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.to_owned())
}

#[tokio::test]
async fn listed_info() {
    let sb = sandbox(1500, Plan::Premium).await;
    let (recs, pages) = check(&sb, "listed-info", None, &[("date", "20250501")]).await;
    assert!(pages >= 2, "{pages} page(s)");
    assert_eq!(
        recs.len(),
        sandbox::issue_codes().len(),
        "every listed issue"
    );
    assert!(recs.iter().all(|r| r.fields.len() == 13));
    let v2 = v2(&sb, "eq-master", None, &[("date", "20250501")]).await;
    let toyota = |recs: &[Record]| {
        recs.iter()
            .find(|r| r.partition == "72030")
            .unwrap()
            .clone()
    };
    let (one, two) = (toyota(&recs), toyota(&v2));
    same_values(&one, &two);
    assert_eq!(field(&one, "Date"), &text("2025-05-01"));
    assert_eq!(field(&one, "CompanyName"), field(&two, "CoName"));
    assert_eq!(field(&one, "MarginCodeName"), field(&two, "MrgnNm"));
}

#[tokio::test]
async fn listed_info_has_no_margin_type_below_standard() {
    let sb = sandbox(1500, Plan::Light).await;
    let (recs, _) = check(&sb, "listed-info", Some("7203"), &[]).await;
    assert_eq!(recs.len(), 1);
    let names: Vec<&str> = recs[0].fields.iter().map(|(k, _)| k.as_ref()).collect();
    assert_eq!(names.last(), Some(&"MarketCodeName"));
    assert_eq!(names.len(), 11);
}

#[tokio::test]
async fn prices_daily_quotes_premium_rows_have_42_fields() {
    let sb = sandbox(10, Plan::Premium).await;
    let (from, to) = ("2025-03-03", "2025-04-30");
    let params = [("from", from), ("to", "20250430")];
    let (recs, pages) = check(&sb, "prices-daily-quotes", Some("7203"), &params).await;
    assert!(pages >= 2, "{pages} page(s)");
    let days = sandbox::trading_days(from.parse().unwrap(), to.parse().unwrap()).count();
    assert_eq!(recs.len(), days, "one row per trading day");
    assert!(recs.iter().all(|r| r.fields.len() == 42));
    let v2 = v2(&sb, "eq-bars-daily", Some("7203"), &params).await;
    same_values(&recs[0], &v2[0]);
    let expected =
        sandbox::daily_bar("72030", "2025-03-03".parse().unwrap(), Plan::Premium).unwrap();
    let json = recs[0].to_json();
    for (v1, v2) in [
        ("Date", "Date"),
        ("Open", "O"),
        ("Close", "C"),
        ("UpperLimit", "UL"),
        ("AdjustmentVolume", "AdjVo"),
        ("MorningClose", "MC"),
        ("AfternoonAdjustmentVolume", "AAdjVo"),
    ] {
        assert_eq!(json[v1], expected[v2], "{v1}");
    }
}

#[tokio::test]
async fn prices_daily_quotes_stop_at_16_fields_below_premium() {
    let sb = sandbox(10, Plan::Standard).await;
    let (recs, pages) = check(
        &sb,
        "prices-daily-quotes",
        Some("7203"),
        &[("from", "2025-04-01"), ("to", "2025-04-30")],
    )
    .await;
    assert!(pages >= 2, "{pages} page(s)");
    assert!(recs.iter().all(|r| r.fields.len() == 16));
}

#[tokio::test]
async fn fins_statements_rows_have_107_fields() {
    let sb = sandbox(50, Plan::Premium).await;
    let (recs, pages) = check(&sb, "fins-statements", None, &[("date", "2025-05-08")]).await;
    assert!(pages >= 2, "{pages} page(s)");
    assert!(recs.iter().all(|r| r.fields.len() == 107));
    let v2 = v2(&sb, "fin-summary", None, &[("date", "2025-05-08")]).await;
    assert_eq!(recs.len(), v2.len(), "as many statements as V2 summaries");
    for (one, two) in recs.iter().zip(&v2) {
        same_values(one, two);
    }
    assert_eq!(field(&recs[0], "NetSales"), field(&v2[0], "Sales"));
    assert_eq!(
        field(&recs[0], "AverageNumberOfShares"),
        field(&v2[0], "AvgSh")
    );
}

#[tokio::test]
async fn markets_trading_calendar() {
    // Not paginated: the sandbox answers in one page whatever the page size.
    let sb = sandbox(5, Plan::Free).await;
    let params = [("from", "20250101"), ("to", "20250131")];
    let (recs, pages) = check(&sb, "markets-trading-calendar", None, &params).await;
    assert_eq!(pages, 1);
    assert_eq!(recs.len(), 31, "every calendar day");
    let v2 = v2(&sb, "mkt-cal", None, &params).await;
    for (one, two) in recs.iter().zip(&v2) {
        same_values(one, two);
    }
    assert_eq!(field(&recs[0], "Date"), &text("2025-01-01"));
    assert_eq!(field(&recs[0], "HolidayDivision"), &text("0"));
    let business = check(
        &sb,
        "markets-trading-calendar",
        None,
        &[
            ("holidaydivision", "1"),
            ("from", "20250101"),
            ("to", "20250131"),
        ],
    )
    .await
    .0;
    let open = recs
        .iter()
        .filter(|r| field(r, "HolidayDivision") == &text("1"));
    assert_eq!(business.len(), open.count(), "only business days");
}

#[tokio::test]
async fn every_v1_catalog_entry_is_tested_here() {
    let source = include_str!("datasets_v1.rs");
    for e in catalog::ENDPOINTS
        .iter()
        .filter(|e| e.data_source == "jquants-v1")
    {
        assert!(
            source.contains(&format!("\"{}\"", e.id)),
            "no test fetches `{}`",
            e.id
        );
    }
}
