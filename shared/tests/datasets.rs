//! Every dataset of the catalog fetched from the sandbox through the real client, page by
//! page: the records must give back the sandbox's rows field for field, with as many rows as
//! the sandbox serves, across at least two pages.
//!
//! The expected rows come from a second, plain HTTP fetch of the same query (JSON as served,
//! no typed parsing), so a field the row types drop, rename or re-format shows up as a
//! difference.

use std::collections::HashSet;
use std::time::Duration;

use chrono::NaiveDate;
use sandbox::{ApiKeySpec, Plan, Sandbox, SandboxConfig};
use secrecy::SecretString;
use serde_json::{Map, Value};
use shared::catalog::{self, Endpoint};
use shared::dataset::Record;
use shared::domain::DataSourceId;
use shared::jquants::JQuantsClient;

mod common;
use common::{field, query};

const KEY: &str = "premium-key";

/// A Friday in the May results season, so the earnings calendar of the next business day is
/// full; the sandbox clock reads 18:00 JST, inside the morning-bars window.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 5, 9).unwrap()
}

async fn sandbox(page_size: usize) -> Sandbox {
    Sandbox::start(SandboxConfig {
        keys: vec![ApiKeySpec {
            key: KEY.into(),
            plan: Plan::Premium,
        }],
        page_size,
        today: Some(today()),
    })
    .await
}

fn endpoint(id: &str) -> &'static Endpoint {
    catalog::find(&DataSourceId::parse("jquants-v2").unwrap(), id).unwrap()
}

/// Every record of the query through `JQuantsClient::get_page`, and the number of pages.
async fn fetch(
    sb: &Sandbox,
    endpoint: &Endpoint,
    query: &[(String, String)],
) -> (Vec<Record>, usize) {
    let client = JQuantsClient::new(Duration::from_secs(30));
    let key = SecretString::from(KEY);
    let (mut records, mut pages, mut next) = (Vec::new(), 0, None::<String>);
    loop {
        let page = client
            .get_page(&sb.base_url(), endpoint, query, &key, next.as_deref())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", endpoint.id));
        records.extend(page.records);
        pages += 1;
        match page.next {
            Some(k) => next = Some(k),
            None => return (records, pages),
        }
    }
}

/// The same rows as served, by plain HTTP.
async fn served(
    sb: &Sandbox,
    endpoint: &Endpoint,
    query: &[(String, String)],
) -> Vec<Map<String, Value>> {
    let http = reqwest::Client::new();
    let url = format!("{}{}", sb.base_url(), endpoint.path);
    let (mut rows, mut next) = (Vec::new(), None::<String>);
    loop {
        let mut req = http.get(&url).header("x-api-key", KEY).query(query);
        if let Some(k) = &next {
            req = req.query(&[("pagination_key", k)]);
        }
        let body: Value = req.send().await.unwrap().json().await.unwrap();
        let data = body["data"].as_array().unwrap_or_else(|| panic!("{body}"));
        rows.extend(data.iter().map(|r| r.as_object().unwrap().clone()));
        match body["pagination_key"].as_str() {
            Some(k) => next = Some(k.to_owned()),
            None => return rows,
        }
    }
}

/// Fetches through the client and checks every record against the served rows; returns them.
async fn check(
    page_size: usize,
    id: &str,
    symbol: Option<&str>,
    params: &[(&str, &str)],
) -> Vec<Record> {
    let sb = sandbox(page_size).await;
    let endpoint = endpoint(id);
    let query = query(endpoint, symbol, params);
    let (records, pages) = fetch(&sb, endpoint, &query).await;
    let rows = served(&sb, endpoint, &query).await;
    assert!(
        pages >= 2,
        "{id}: {pages} page(s); the test must cross a page boundary"
    );
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
    records
}

#[tokio::test]
async fn eq_master() {
    let recs = check(1500, "eq-master", None, &[("date", "20250501")]).await;
    assert_eq!(
        recs.len(),
        sandbox::issue_codes().len(),
        "every listed issue"
    );
    assert!(recs.iter().all(|r| r.sort == "2025-05-01"));
}

#[tokio::test]
async fn eq_bars_daily_premium_rows_have_42_fields() {
    let (from, to) = ("2025-03-03", "2025-04-30");
    let recs = check(
        10,
        "eq-bars-daily",
        Some("7203"),
        &[("from", from), ("to", "20250430")],
    )
    .await;
    let days = sandbox::trading_days(from.parse().unwrap(), to.parse().unwrap()).count();
    assert_eq!(recs.len(), days, "one row per trading day");
    assert!(recs.iter().all(|r| r.fields.len() == 42));
    let expected =
        sandbox::daily_bar("72030", "2025-03-03".parse().unwrap(), Plan::Premium).unwrap();
    assert_eq!(recs[0].to_json(), expected);
}

#[tokio::test]
async fn eq_bars_daily_am() {
    let recs = check(500, "eq-bars-daily-am", None, &[]).await;
    assert_eq!(recs.len(), sandbox::issue_codes().len());
}

#[tokio::test]
async fn eq_bars_minute() {
    let recs = check(
        100,
        "eq-bars-minute",
        Some("7203"),
        &[("date", "2025-05-08")],
    )
    .await;
    assert!(recs.len() > 200, "a trading day has hundreds of minutes");
    assert!(
        recs.windows(2).all(|w| w[0].sort < w[1].sort),
        "sorted by time"
    );
}

#[tokio::test]
async fn eq_investor_types() {
    check(
        10,
        "eq-investor-types",
        None,
        &[("from", "2025-01-01"), ("to", "2025-03-31")],
    )
    .await;
}

#[tokio::test]
async fn eq_earnings_cal() {
    check(20, "eq-earnings-cal", None, &[]).await;
}

#[tokio::test]
async fn fin_summary_rows_have_107_fields() {
    let recs = check(50, "fin-summary", None, &[("date", "2025-05-08")]).await;
    assert!(recs.iter().all(|r| r.fields.len() == 107));
    let blank = recs
        .iter()
        .any(|r| matches!(field(r, "OdP"), shared::dataset::FieldValue::Text(t) if t.is_empty()));
    assert!(blank, "IFRS issuers have a blank ordinary profit");
}

#[tokio::test]
async fn fin_details() {
    let recs = check(50, "fin-details", None, &[("date", "2025-05-08")]).await;
    assert!(
        recs.iter().all(|r| r.to_json()["FS"].is_object()),
        "FS stays an object"
    );
}

#[tokio::test]
async fn fin_dividend() {
    check(
        3,
        "fin-dividend",
        Some("8697"),
        &[("from", "2015-01-01"), ("to", "2025-05-09")],
    )
    .await;
}

#[tokio::test]
async fn mkt_cal() {
    // Not paginated: the sandbox answers in one page whatever the page size.
    let sb = sandbox(5).await;
    let endpoint = endpoint("mkt-cal");
    let query = query(endpoint, None, &[("from", "20250101"), ("to", "20250131")]);
    let (records, pages) = fetch(&sb, endpoint, &query).await;
    let rows = served(&sb, endpoint, &query).await;
    assert_eq!(pages, 1);
    assert_eq!(records.len(), 31, "every calendar day");
    let page = serde_json::value::to_raw_value(&rows).unwrap();
    assert!(endpoint.dataset.untyped_fields(&page).unwrap().is_empty());
    let json: Vec<_> = records.iter().map(Record::to_json).collect();
    assert_eq!(json, rows);
}

#[tokio::test]
async fn mkt_margin_interest() {
    check(
        5,
        "mkt-margin-interest",
        Some("7203"),
        &[("from", "2025-01-01"), ("to", "2025-04-30")],
    )
    .await;
}

#[tokio::test]
async fn mkt_short_ratio() {
    let recs = check(10, "mkt-short-ratio", None, &[("date", "2025-05-08")]).await;
    assert_eq!(recs.len(), 33, "one row per 33-sector");
}

#[tokio::test]
async fn mkt_short_sale_report() {
    check(
        10,
        "mkt-short-sale-report",
        None,
        &[("disc_date", "2025-05-08")],
    )
    .await;
}

#[tokio::test]
async fn mkt_margin_alert() {
    check(20, "mkt-margin-alert", None, &[("date", "2025-05-08")]).await;
}

#[tokio::test]
async fn mkt_breakdown() {
    check(
        10,
        "mkt-breakdown",
        Some("7203"),
        &[("from", "2025-04-01"), ("to", "2025-04-30")],
    )
    .await;
}

#[tokio::test]
async fn idx_bars_daily() {
    let recs = check(
        10,
        "idx-bars-daily",
        None,
        &[
            ("code", "0000"),
            ("from", "2025-04-01"),
            ("to", "2025-04-30"),
        ],
    )
    .await;
    assert!(recs.iter().all(|r| r.partition == "0000"));
}

#[tokio::test]
async fn idx_bars_daily_topix() {
    let recs = check(
        10,
        "idx-bars-daily-topix",
        None,
        &[("from", "2025-04-01"), ("to", "2025-04-30")],
    )
    .await;
    let days =
        sandbox::trading_days("2025-04-01".parse().unwrap(), "2025-04-30".parse().unwrap()).count();
    assert_eq!(recs.len(), days);
}

#[tokio::test]
async fn drv_bars_daily_fut() {
    check(4, "drv-bars-daily-fut", None, &[("date", "2025-05-08")]).await;
}

#[tokio::test]
async fn drv_bars_daily_opt() {
    let recs = check(40, "drv-bars-daily-opt", None, &[("date", "2025-05-08")]).await;
    let blank_morning = recs.iter().all(|r| r.to_json()["MO"] == "");
    assert!(blank_morning, "no morning session since 2016");
}

#[tokio::test]
async fn drv_bars_daily_opt_225() {
    check(
        40,
        "drv-bars-daily-opt-225",
        None,
        &[("date", "2025-05-08")],
    )
    .await;
}

#[tokio::test]
async fn every_v2_catalog_entry_is_tested_here() {
    let source = include_str!("datasets.rs");
    for e in catalog::ENDPOINTS
        .iter()
        .filter(|e| e.data_source == "jquants-v2")
    {
        assert!(
            source.contains(&format!("\"{}\"", e.id)),
            "no test fetches `{}`",
            e.id
        );
    }
}
