//! Jobs of every provider end to end on the emulator and the sandbox: J-Quants V1 with a stored
//! mail address and password (tokens obtained once, shared by the process's jobs, sealed back
//! into the credential and reused by a cold fetcher), and Yahoo Finance without any credential
//! (charts, dividends and splits, quotes with one crumb).

use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use devstack::client::ApiClient;
use integration_tests::World;
use reqwest::Method;
use serde_json::{Value, json};
use shared::clock::SystemClock;
use shared::domain::IssueCode;
use shared::yahoo::{ChartRequest, Interval, YahooClient, YahooConfig};

const MAIL: &str = "v1-quant@example.com";
const PASSWORD: &str = "v1-sentinel-password";

fn window() -> (NaiveDate, NaiveDate) {
    let today = Utc::now().date_naive();
    (today - Days::new(75), today - Days::new(44))
}

async fn create(user: &ApiClient, body: Value) -> String {
    let g = user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    g["id"].as_str().unwrap().to_owned()
}

async fn wait_until_done(user: &ApiClient, id: &str) -> Value {
    user.wait_for_group(id, Duration::from_secs(180))
        .await
        .unwrap()
}

/// The rows group `id`'s job for `code` fetched (read back from the archive).
async fn rows_of(w: &World, id: &str, code: &str) -> Vec<serde_json::Map<String, Value>> {
    let code = IssueCode::parse(code).unwrap();
    integration_tests::group_rows(&w.stack, id)
        .await
        .into_iter()
        .filter(|(s, _)| s.as_deref() == Some(code.as_str()))
        .map(|(_, r)| r)
        .collect()
}

/// The group's export as NDJSON rows.
async fn export(user: &ApiClient, id: &str) -> Vec<serde_json::Map<String, Value>> {
    let (status, _, body) = user
        .text(&format!("/v1/job-groups/{id}/results?format=ndjson"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Requests the sandbox logged for `key` on paths ending with `suffix`.
fn requests(w: &World, key: &str, suffix: &str) -> u64 {
    w.sandbox.stats().keys.get(key).map_or(0, |k| {
        k.by_path
            .iter()
            .filter(|(p, _)| p.ends_with(suffix))
            .map(|(_, n)| n)
            .sum()
    })
}

/// V1 credentials are checked against the data source's form, verified by signing in, and
/// never shown: wrong forms and a wrong password store nothing.
#[tokio::test]
async fn v1_credentials_are_checked_verified_and_never_shown() {
    let w = World::new(50, Default::default()).await;
    w.sandbox.add_v1_user(MAIL, PASSWORD, sandbox::Plan::Light);
    let put = |body: Value, verify: bool| {
        let path = format!("/v1/credentials/jquants-v1?verify={verify}");
        let user = w.user.clone();
        async move { user.call(Method::PUT, &path, Some(&body)).await.unwrap() }
    };
    for (body, says) in [
        (json!({"api_key": "k", "plan": "light"}), "not `api_key`"),
        (
            json!({"mail_address": MAIL, "plan": "light"}),
            "go together",
        ),
        (
            json!({"plan": "light"}),
            "give `mail_address` and `password`",
        ),
        (
            json!({"mail_address": "nobody", "password": "p", "plan": "light"}),
            "not a mail address",
        ),
    ] {
        let r = put(body.clone(), false).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().contains(says),
            "{}",
            r.body
        );
    }
    let wrong = put(
        json!({"mail_address": MAIL, "password": "wrong", "plan": "light"}),
        true,
    )
    .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(
        wrong.body["detail"]
            .as_str()
            .unwrap()
            .contains("nothing was stored")
    );
    let none = w
        .user
        .call(Method::GET, "/v1/credentials/jquants-v1", None)
        .await
        .unwrap();
    assert_eq!(none.status, 404, "nothing stored after a failed verify");
    // V2 fields on V1, and any credential for Yahoo, are refused.
    let v2 = w
        .user
        .call(
            Method::PUT,
            "/v1/credentials/jquants-v2",
            Some(&json!({"mail_address": MAIL, "password": PASSWORD, "plan": "light"})),
        )
        .await
        .unwrap();
    assert_eq!(v2.status, 400, "{}", v2.body);
    let yahoo = w
        .user
        .call(
            Method::PUT,
            "/v1/credentials/yahoo",
            Some(&json!({"api_key": "k", "plan": "free"})),
        )
        .await
        .unwrap();
    assert_eq!(yahoo.status, 400, "{}", yahoo.body);
    assert!(
        yahoo.body["detail"]
            .as_str()
            .unwrap()
            .contains("needs no credential")
    );

    let ok = put(
        json!({"mail_address": MAIL, "password": PASSWORD, "plan": "light"}),
        true,
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let text = ok.body.to_string();
    assert!(!text.contains(PASSWORD) && !text.contains(MAIL), "{text}");
    // Verifying signed in: the tokens it got are stored, sealed.
    assert_eq!(
        (
            ok.body["refresh_token"].as_str(),
            ok.body["id_token"].as_str()
        ),
        (Some("valid"), Some("valid")),
        "{}",
        ok.body
    );
    // The refused sign-in, then the one that worked; one id token.
    assert_eq!(requests(&w, MAIL, "/token/auth_user"), 2);
    assert_eq!(requests(&w, MAIL, "/token/auth_refresh"), 1);
}

/// A V1 group of three issues runs on a stored login: the process signs in once for all its
/// jobs, seals the tokens into the credential, and a cold fetcher later starts from them
/// without signing in again. Stored rows are the sandbox's V1 rows.
#[tokio::test]
async fn v1_jobs_sign_in_once_and_share_stored_tokens() {
    let mut w = World::new(10, Default::default()).await;
    w.sandbox.add_v1_user(MAIL, PASSWORD, sandbox::Plan::Light);
    w.user
        .expect(
            Method::PUT,
            "/v1/credentials/jquants-v1",
            Some(&json!({"mail_address": MAIL, "password": PASSWORD, "plan": "light"})),
            200,
        )
        .await
        .unwrap();
    let (from, to) = window();
    let symbols = ["7203", "6758", "9984"];
    let body = |symbols: &[&str]| {
        json!({"data_source": "jquants-v1", "endpoint": "prices-daily-quotes", "symbols": symbols,
               "params": {"from": from.to_string(), "to": to.to_string()}})
    };
    let instances = w.stack.start_fetcher_instances(1);
    let id = create(&w.user, body(&symbols)).await;
    let g = wait_until_done(&w.user, &id).await;
    assert_eq!(
        (g["status"].as_str(), g["completed_jobs"].as_u64()),
        (Some("completed"), Some(3)),
        "{g}"
    );
    assert_eq!(requests(&w, MAIL, "/token/auth_user"), 1, "one login");
    assert_eq!(requests(&w, MAIL, "/token/auth_refresh"), 1, "one id token");
    let stored = w
        .user
        .expect(Method::GET, "/v1/credentials/jquants-v1", None, 200)
        .await
        .unwrap();
    assert_eq!(
        (
            stored["refresh_token"].as_str(),
            stored["id_token"].as_str()
        ),
        (Some("valid"), Some("valid")),
        "renewed tokens were sealed into the credential: {stored}"
    );

    // Rows: the sandbox's V1 daily quotes for each issue, across pages of 10.
    let exported = export(&w.user, &id).await;
    let mut expected_export = Vec::new();
    for code in symbols {
        let code5 = IssueCode::parse(code).unwrap();
        let stored = rows_of(&w, &id, code).await;
        expected_export.extend(stored.iter().cloned());
        let days = sandbox::trading_days(from, to).count();
        assert!(days > 10, "the range spans pages");
        assert_eq!(stored.len(), days, "rows of {code}");
        let first = &stored[0];
        assert_eq!(first["Code"], code5.as_str(), "{first:?}");
        assert!(first.contains_key("AdjustmentClose"), "V1 names: {first:?}");
    }
    // The export reads V1 pages under their own array key (`daily_quotes`), jobs in order.
    assert_eq!(exported, expected_export, "export = stored rows");

    // A cold fetcher (a new container) reads the stored tokens: no new login or refresh.
    drop(instances);
    w.stack.stop_pollers();
    // A receive the old poller had open may still take a message sent now, hiding it for the
    // visibility timeout: let it lapse first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _fresh = w.stack.start_fetcher_instances(1);
    let id = create(&w.user, body(&["8306"])).await;
    let g = wait_until_done(&w.user, &id).await;
    assert_eq!(g["status"], "completed", "{g}");
    assert_eq!(requests(&w, MAIL, "/token/auth_user"), 1, "no second login");
    assert_eq!(
        requests(&w, MAIL, "/token/auth_refresh"),
        1,
        "no second refresh"
    );
}

/// Yahoo without a credential: daily bars, dividends and splits, and quotes, each stored as
/// the client reads them directly; the quote jobs share one crumb.
#[tokio::test]
async fn yahoo_jobs_need_no_credential_and_share_one_crumb() {
    let mut w = World::new(50, Default::default()).await;
    w.stack.start_fetcher_instances(1);
    let (from, to) = window();
    // Minute bars reach back 30 days on Yahoo: refused before any job exists.
    let too_old = w
        .user
        .call(
            Method::POST,
            "/v1/job-groups",
            Some(&json!({"data_source": "yahoo", "endpoint": "chart", "symbols": ["7203"],
                         "params": {"from": from.to_string(), "to": (from + Days::new(2)).to_string(), "interval": "1m"}})),
        )
        .await
        .unwrap();
    assert_eq!(too_old.status, 400, "{}", too_old.body);
    assert!(
        too_old.body["detail"].as_str().unwrap().contains("30 days"),
        "{}",
        too_old.body
    );
    let bars = create(
        &w.user,
        json!({"data_source": "yahoo", "endpoint": "chart", "symbols": ["7203", "6758"],
               "params": {"from": from.to_string(), "to": to.to_string(), "interval": "1d"}}),
    )
    .await;
    // An issue with a split, over a year around it (dividends fall in it too).
    let (split_code, split) = sandbox::issue_codes()
        .iter()
        .find_map(|c| {
            sandbox::stock_split(c)
                .filter(|s| s.ex_date < Utc::now().date_naive() - Days::new(200))
                .map(|s| (c.clone(), s))
        })
        .expect("the sandbox has a split issue");
    let (ev_from, ev_to) = (
        split.ex_date - Days::new(180),
        split.ex_date + Days::new(180),
    );
    let events = create(
        &w.user,
        json!({"data_source": "yahoo", "endpoint": "chart-events", "symbols": [split_code],
               "params": {"from": ev_from.to_string(), "to": ev_to.to_string()}}),
    )
    .await;
    let quotes = create(
        &w.user,
        json!({"data_source": "yahoo", "endpoint": "quote", "symbols": ["7203", "6758", "9984"]}),
    )
    .await;
    for id in [&bars, &events, &quotes] {
        let g = wait_until_done(&w.user, id).await;
        assert_eq!(g["status"], "completed", "{g}");
    }
    assert_eq!(
        requests(&w, sandbox::YAHOO, "/getcrumb"),
        1,
        "three quote jobs, one crumb"
    );
    let quote_requests = requests(&w, sandbox::YAHOO, "/v7/finance/quote");
    assert!(
        (1..=3).contains(&quote_requests),
        "jobs of one batch share a request: {quote_requests}"
    );

    // What the client reads directly, stored field for field.
    let direct = YahooClient::new(
        &YahooConfig::for_base_url(&w.sandbox.yahoo_base_url()),
        Arc::new(SystemClock),
    );
    let exported = export(&w.user, &bars).await;
    let mut expected_export = Vec::new();
    for code in ["7203", "6758"] {
        expected_export.extend(rows_of(&w, &bars, code).await);
        let chart = direct
            .chart(
                &IssueCode::parse(code).unwrap(),
                &ChartRequest {
                    interval: Interval::Day,
                    from,
                    to,
                },
            )
            .await
            .unwrap();
        let got = rows_of(&w, &bars, code).await;
        assert!(chart.bars.len() > 15, "{code}: a month of bars");
        assert_eq!(got.len(), chart.bars.len(), "{code}");
        for (row, bar) in got.iter().zip(&chart.bars) {
            let j = row;
            assert_eq!(j["date"], bar.date.to_string());
            assert_eq!(j["close"].as_f64(), bar.close);
            // Stored numbers are numbers, whatever their Rust type.
            assert_eq!(j["volume"].as_f64(), bar.volume.map(|v| v as f64));
            assert_eq!(j["adjclose"].as_f64(), bar.adj_close);
            assert_eq!(j["symbol"], chart.symbol);
        }
    }
    assert_eq!(
        exported, expected_export,
        "the export gives the stored bars"
    );
    let chart = direct
        .chart(
            &IssueCode::parse(&split_code).unwrap(),
            &ChartRequest {
                interval: Interval::Day,
                from: ev_from,
                to: ev_to,
            },
        )
        .await
        .unwrap();
    let got = rows_of(&w, &events, &split_code).await;
    assert_eq!(chart.splits.len(), 1, "the split is in the span");
    assert_eq!(got.len(), chart.splits.len() + chart.dividends.len());
    let s = got
        .iter()
        .find(|r| r["type"] == "split")
        .expect("a split row");
    assert_eq!(s["date"], split.ex_date.to_string());
    assert_eq!(
        (s["numerator"].as_f64(), s["denominator"].as_f64()),
        (Some(f64::from(split.to)), Some(f64::from(split.from)))
    );
    for code in ["7203", "6758", "9984"] {
        let q = rows_of(&w, &quotes, code).await;
        assert_eq!(q.len(), 1, "{code}: one quote row");
        assert!(q[0]["regularMarketPrice"].as_f64().is_some());
    }
}

/// Ten quote jobs delivered in one batch are fetched with one request (the endpoint takes a
/// list); each job stores its own issue's quote and archives the shared answer.
#[tokio::test]
async fn quote_jobs_of_one_batch_share_one_request() {
    let w = World::new(50, Default::default()).await;
    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .filter(|c| shared::yahoo::yahoo_symbol(&IssueCode::parse(c).unwrap()).is_some())
        .step_by(97)
        .take(10)
        .map(String::as_str)
        .collect();
    let id = create(
        &w.user,
        json!({"data_source": "yahoo", "endpoint": "quote", "symbols": symbols}),
    )
    .await;
    w.run_fan_outs(1).await;
    let q = w.stack.fetcher_config.jobs_queue_url.clone();
    let mut records = Vec::new();
    while records.len() < symbols.len() {
        let r = w
            .stack
            .aws
            .sqs
            .receive_message()
            .queue_url(&q)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        records.extend(
            r.messages
                .unwrap_or_default()
                .into_iter()
                .map(integration_tests::to_record),
        );
    }
    let before = requests(&w, sandbox::YAHOO, "/v7/finance/quote");
    let resp = fetcher::handle_records(records, &w.stack.fetcher)
        .await
        .unwrap();
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    assert_eq!(
        requests(&w, sandbox::YAHOO, "/v7/finance/quote") - before,
        1,
        "ten jobs, one request"
    );
    let g = wait_until_done(&w.user, &id).await;
    assert_eq!(
        (g["status"].as_str(), g["completed_jobs"].as_u64()),
        (Some("completed"), Some(10)),
        "{g}"
    );
    for code in &symbols {
        let got = rows_of(&w, &id, code).await;
        let code = IssueCode::parse(code).unwrap();
        assert_eq!(got.len(), 1, "{code}: its own quote, once");
        assert_eq!(got[0]["code"], code.as_str());
    }
    // The export gives each job its own issue's quote from the shared answer.
    let exported = export(&w.user, &id).await;
    assert_eq!(exported.len(), 10);
    let codes: Vec<&str> = exported
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    let want: Vec<String> = symbols
        .iter()
        .map(|c| IssueCode::parse(c).unwrap().as_str().to_owned())
        .collect();
    assert_eq!(codes, want);
}
