//! `/v1/data` end to end as production runs it (the real binaries on the Lambda-shaped
//! runtime, the SQS mapping, the sandbox's request log): reads answered from what is held,
//! fetching only what is missing; held history read again after a split; a user's holdings
//! deleted without a trace while another user's stay.

use chrono::{DateTime, NaiveDate, Utc};
use devstack::client::ApiClient;
use devstack::runtime::deployed::Options;
use integration_tests::{KEY, World};
use reqwest::Method;
use serde_json::{Map, Value};

/// Rows a page: small, so provider requests grow with the days asked for, as real pages do
/// with their size.
const PAGE: usize = 5;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn symbols(n: usize) -> Vec<String> {
    sandbox::issue_codes()
        .iter()
        .step_by(97)
        .take(n)
        .cloned()
        .collect()
}

fn path(symbols: &[String], from: &str, to: &str) -> String {
    format!(
        "/v1/data/jquants-v2/eq-bars-daily?symbols={}&from={from}&to={to}",
        symbols.join(",")
    )
}

fn requests(w: &World) -> u64 {
    w.sandbox.stats().requests(KEY)
}

/// The rows the provider serves for `symbols` over `from..=to`, as of the sandbox's today.
fn expected(w: &World, symbols: &[String], from: &str, to: &str) -> Vec<Map<String, Value>> {
    let mut out = Vec::new();
    for code in symbols {
        out.extend(
            sandbox::trading_days(day(from), day(to))
                .filter_map(|d| sandbox::daily_bar(code, d, w.plan)),
        );
    }
    out
}

fn objects(rows: &[Value]) -> Vec<Map<String, Value>> {
    rows.iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

#[tokio::test]
async fn reads_ask_the_provider_only_for_what_is_not_held() {
    let w = World::deployed(PAGE, sandbox::Plan::Premium, Options::default()).await;
    let codes = symbols(6);

    // First half of 2024 (the held range), read twice: the second costs nothing.
    let before = requests(&w);
    let (rows, fetching) = w
        .user
        .read_data(&path(&codes, "2024-01-04", "2024-06-28"))
        .await
        .unwrap();
    let whole = requests(&w) - before;
    assert_eq!(fetching.len(), 1, "one round of fetching");
    assert_eq!(
        objects(&rows),
        expected(&w, &codes, "2024-01-04", "2024-06-28")
    );
    // On the wire (this crate's JSON maps sort their keys, so the text is read).
    let (_, _, text) = w
        .user
        .text(&path(&codes, "2024-01-04", "2024-01-31"))
        .await
        .unwrap();
    assert!(
        text.starts_with("{\"Date\":\"2024-01-04\",\"Code\":"),
        "Date and Code lead: {}",
        &text[..80]
    );
    assert!(
        text.lines().next().unwrap().contains("\"O\":"),
        "then the provider's order"
    );
    let (_, kind, csv) = w
        .user
        .text(&format!(
            "{}&format=csv",
            path(&codes, "2024-01-04", "2024-01-31")
        ))
        .await
        .unwrap();
    assert!(kind.starts_with("text/csv"));
    // The provider's own order after them, as its answer lists the fields.
    let first: Map<String, Value> = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let names: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(csv.lines().next().unwrap(), names.join(","));
    assert_eq!(names[..2], ["Date", "Code"]);
    let before = requests(&w);
    let (again, fetching) = w
        .user
        .read_data(&path(&codes, "2024-01-04", "2024-06-28"))
        .await
        .unwrap();
    assert!(fetching.is_empty(), "answered from the store: {fetching:?}");
    assert_eq!(again, rows);
    assert_eq!(
        requests(&w) - before,
        0,
        "the same read twice: no provider request"
    );

    // A range half held: only the other half is asked for.
    let before = requests(&w);
    let (half, fetching) = w
        .user
        .read_data(&path(&codes, "2024-04-01", "2024-09-30"))
        .await
        .unwrap();
    let spent = requests(&w) - before;
    assert_eq!(
        objects(&half),
        expected(&w, &codes, "2024-04-01", "2024-09-30")
    );
    for m in fetching[0]["missing"].as_array().unwrap() {
        assert_eq!(
            (m["from"].as_str(), m["to"].as_str()),
            (Some("2024-06-29"), Some("2024-09-30"))
        );
    }
    let ratio = spent as f64 / whole as f64;
    println!(
        "half-held range: {spent} provider requests against {whole} for a whole one ({ratio:.2})"
    );
    assert!(ratio <= 0.55, "{spent} of {whole}");

    // Everything held but one month: only that month is asked for.
    w.user
        .read_data(&path(&codes, "2024-11-01", "2024-12-30"))
        .await
        .unwrap();
    let before = requests(&w);
    let (year, fetching) = w
        .user
        .read_data(&path(&codes, "2024-01-04", "2024-12-30"))
        .await
        .unwrap();
    let month = requests(&w) - before;
    let groups: Vec<&Value> = fetching
        .iter()
        .flat_map(|f| f["groups"].as_array().unwrap())
        .collect();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["params"]["from"], "2024-10-01");
    assert_eq!(groups[0]["params"]["to"], "2024-10-31");
    assert_eq!(
        objects(&year),
        expected(&w, &codes, "2024-01-04", "2024-12-30")
    );
    let october_pages: u64 = codes
        .iter()
        .map(|c| {
            let n = sandbox::trading_days(day("2024-10-01"), day("2024-10-31"))
                .filter(|d| sandbox::daily_bar(c, *d, w.plan).is_some())
                .count();
            n.div_ceil(PAGE).max(1) as u64
        })
        .sum();
    assert_eq!(month, october_pages, "October's pages and nothing else");

    // `refresh=true` fetches on purpose; `held=only` never fetches.
    let before = requests(&w);
    let refreshed = format!(
        "{}&refresh=true",
        path(&codes[..1], "2024-01-04", "2024-01-31")
    );
    let r = w.user.call(Method::GET, &refreshed, None).await.unwrap();
    assert_eq!(r.status, 202, "{}", r.body);
    for g in r.body["groups"].as_array().unwrap() {
        w.user
            .wait_for_group(
                g["id"].as_str().unwrap(),
                std::time::Duration::from_secs(120),
            )
            .await
            .unwrap();
    }
    assert!(requests(&w) > before);
    let (status, _, body) = w
        .user
        .text("/v1/data/jquants-v2/eq-bars-daily?from=2025-01-06&to=2025-01-31&held=only")
        .await
        .unwrap();
    assert_eq!(
        (status, body.as_str()),
        (200, ""),
        "nothing held there, nothing fetched"
    );

    // Bad input: 4xx with a message, nothing created.
    for (bad, want) in [
        (
            "/v1/data/jquants-v2/eq-bars-daily?symbols=72030&from=2024-02-01&to=2024-01-01",
            "after",
        ),
        (
            "/v1/data/jquants-v2/eq-bars-daily?symbols=72030&from=2024-01-01",
            "both",
        ),
        (
            "/v1/data/jquants-v2/eq-bars-daily?from=2024-01-01&to=2024-01-31",
            "symbols",
        ),
        (
            "/v1/data/jquants-v2/eq-master?symbols=72030&from=2024-01-01&to=2024-01-31",
            "not read by",
        ),
        (
            "/v1/data/jquants-v2/eq-bars-daily?symbols=72030&from=2024-01-01&to=2024-01-31&format=xml",
            "format",
        ),
    ] {
        let r = w.user.call(Method::GET, bad, None).await.unwrap();
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap_or_default().contains(want),
            "{bad}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn a_split_after_history_was_stored_makes_it_read_again() {
    let w = World::deployed(PAGE, sandbox::Plan::Premium, Options::default()).await;
    let split = sandbox::stock_split("86970").expect("JPX split 1:2 on 2023-09-28");
    assert_eq!(split.ex_date, day("2023-09-28"));
    let code = vec!["86970".to_owned()];
    let evening = |d: &str| -> DateTime<Utc> { format!("{d}T09:30:00Z").parse().unwrap() };

    // The week before the split: the provider's history has no adjustment yet.
    w.sandbox.set_clock(evening("2023-09-20"));
    let (old, _) = w
        .user
        .read_data(&path(&code, "2023-08-01", "2023-09-19"))
        .await
        .unwrap();
    assert!(
        old.iter().all(|r| r["AdjC"] == r["C"]),
        "not adjusted before the split"
    );

    // After it: the read that reaches the ex-date sees `AdjFactor` 0.5, and the history held
    // from before is stale, so it is fetched again before the answer.
    w.sandbox.set_clock(evening("2023-10-10"));
    let (rows, fetching) = w
        .user
        .read_data(&path(&code, "2023-08-01", "2023-10-06"))
        .await
        .unwrap();
    assert_eq!(
        fetching.len(),
        2,
        "the new days, then the stale history: {fetching:?}"
    );
    assert_eq!(
        fetching[1]["missing"][0]["to"], "2023-09-19",
        "the second round refetches the history before the split"
    );
    assert_eq!(
        objects(&rows),
        expected(&w, &code, "2023-08-01", "2023-10-06"),
        "adjusted prices equal the provider's new series, row for row"
    );
    let before_split: Vec<&Value> = rows
        .iter()
        .filter(|r| r["Date"].as_str() < Some("2023-09-28"))
        .collect();
    assert!(
        before_split.iter().all(|r| r["AdjC"] != r["C"]),
        "history halved"
    );
}

async fn user_id(user: &ApiClient) -> String {
    let me = user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    me["user_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn deleting_a_users_holdings_leaves_nothing_of_them() {
    let w = World::deployed(100, sandbox::Plan::Premium, Options::default()).await;
    let other = devstack::client::add_user(&w.api, &w.admin, KEY, "premium")
        .await
        .unwrap();
    let codes = symbols(3);
    let (mine, _) = w
        .user
        .read_data(&path(&codes, "2024-03-01", "2024-03-29"))
        .await
        .unwrap();
    let (theirs, _) = other
        .read_data(&path(&codes, "2024-03-01", "2024-03-29"))
        .await
        .unwrap();
    assert!(!mine.is_empty() && mine == theirs);
    let export = w
        .user
        .call(Method::GET, "/v1/job-groups", None)
        .await
        .unwrap();
    let group = export.body["job_groups"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.user
        .expect(
            Method::POST,
            &format!("/v1/job-groups/{group}/exports"),
            Some(&serde_json::json!({})),
            201,
        )
        .await
        .unwrap();

    // A user's own deletion of a range cuts it out.
    let cut = w
        .user
        .expect(
            Method::DELETE,
            &format!(
                "/v1/data/jquants-v2/eq-bars-daily?symbols={}&from=2024-03-01&to=2024-03-15",
                codes[0]
            ),
            None,
            200,
        )
        .await
        .unwrap();
    assert_eq!(cut["holdings_changed"], 1, "{cut}");
    let (status, _, body) = w
        .user
        .text(&format!(
            "{}&held=only",
            path(&codes[..1], "2024-03-01", "2024-03-29")
        ))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let days: Vec<String> = body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["Date"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        !days.is_empty() && days.iter().all(|d| d.as_str() > "2024-03-15"),
        "deleted days are not served: {days:?}"
    );

    let me = user_id(&w.user).await;
    let you = user_id(&other).await;
    let deleted = w
        .admin
        .expect(
            Method::DELETE,
            &format!("/v1/admin/users/{me}/data"),
            None,
            200,
        )
        .await
        .unwrap();
    assert!(
        deleted["objects_deleted"].as_u64().unwrap() > 0,
        "{deleted}"
    );

    let aws = &w.stack.aws;
    let c = &w.stack.fetcher_config;
    let mut found = Vec::new();
    // The rate-limit table holds the limiter's state of the user's provider account (its
    // minute log), no data; it expires by TTL two days after its last write.
    for table in [&c.jobs_table, &c.accounts_table] {
        let items = aws.dynamodb.scan().table_name(table).send().await.unwrap();
        for item in items.items() {
            let pk = item
                .get("pk")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            let sk = item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            let is_data =
                sk.starts_with("HOLD#") || !pk.starts_with("GROUP#") && !pk.starts_with("USER#");
            if is_data && (pk.contains(&me) || sk.contains(&me)) {
                found.push(format!("{table}: {pk} {sk}"));
            }
        }
    }
    let listed = aws
        .s3
        .list_objects_v2()
        .bucket(&c.raw_payload_bucket)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    found.extend(
        keys.iter()
            .filter(|k| k.contains(&me))
            .map(|k| format!("s3: {k}")),
    );
    assert!(found.is_empty(), "left behind: {found:?}");
    assert!(
        keys.iter().any(|k| k.contains(&you)),
        "the other user's objects stay"
    );

    // The other user still reads everything, without a provider request.
    let before = requests(&w);
    let (still, fetching) = other
        .read_data(&path(&codes, "2024-03-01", "2024-03-29"))
        .await
        .unwrap();
    assert!(fetching.is_empty());
    assert_eq!(still, theirs);
    assert_eq!(requests(&w), before);
    // The deleted user's next read fetches again.
    let r = w
        .user
        .call(Method::GET, &path(&codes, "2024-03-01", "2024-03-29"), None)
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.body);
}

#[tokio::test]
async fn a_yahoo_split_after_history_was_stored_makes_it_read_again() {
    use shared::yahoo::{ChartRequest, Interval, YahooClient, YahooConfig};
    let w = World::deployed(PAGE, sandbox::Plan::Premium, Options::default()).await;
    let evening = |d: &str| -> DateTime<Utc> { format!("{d}T09:30:00Z").parse().unwrap() };
    let chart = |from: &str, to: &str| {
        format!("/v1/data/yahoo/chart?symbols=8697&interval=1d&from={from}&to={to}")
    };

    w.sandbox.set_clock(evening("2023-09-20"));
    let (old, _) = w
        .user
        .read_data(&chart("2023-08-01", "2023-09-19"))
        .await
        .unwrap();
    assert!(!old.is_empty());

    w.sandbox.set_clock(evening("2023-10-10"));
    let (rows, fetching) = w
        .user
        .read_data(&chart("2023-08-01", "2023-10-06"))
        .await
        .unwrap();
    assert!(
        fetching.len() >= 2,
        "the new days, then the stale history: {fetching:?}"
    );

    // What Yahoo serves now for the whole range, read directly.
    let direct = YahooClient::new(
        &YahooConfig::for_base_url(&w.sandbox.yahoo_base_url()),
        std::sync::Arc::new(shared::clock::SystemClock),
    );
    let now = direct
        .chart(
            &shared::domain::IssueCode::parse("8697").unwrap(),
            &ChartRequest {
                interval: Interval::Day,
                from: day("2023-08-01"),
                to: day("2023-10-06"),
            },
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), now.bars.len());
    for (row, bar) in rows.iter().zip(&now.bars) {
        assert_eq!(row["date"], bar.date.to_string());
        assert_eq!(row["adjclose"].as_f64(), bar.adj_close, "{row}");
        assert_eq!(row["close"].as_f64(), bar.close, "{row}");
    }
    let halved = rows
        .iter()
        .zip(&old)
        .filter(|(new, was)| new["adjclose"] != was["adjclose"])
        .count();
    assert!(
        halved > 0,
        "the history read before the split was adjusted since"
    );
}
