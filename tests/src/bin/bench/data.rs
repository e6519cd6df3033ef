//! `/v1/data` against the sandbox's request log: what a read asks of the provider when data
//! is held, and what holding market data costs, priced from the operations and bytes counted
//! while 50 issues' year of daily bars was fetched.

use std::time::Duration;

use devstack::stack::Counters;
use integration_tests::{KEY, World};
use shared::aws::CallCounter;

/// Rows a page: provider requests grow with the days asked for, as real pages do with size.
const PAGE: usize = 20;
const ISSUES: usize = 50;

/// AWS's published on-demand prices, Asia Pacific (Tokyo), in US dollars, as of 2026-12-06.
mod price {
    /// DynamoDB, per write request unit (on-demand, $0.715 a million since November 2024).
    pub(super) const DDB_WRITE: f64 = 0.715e-6;
    /// DynamoDB, per read request unit ($0.1425 a million).
    pub(super) const DDB_READ: f64 = 0.1425e-6;
    /// DynamoDB storage, per GB-month.
    pub(super) const DDB_GB_MONTH: f64 = 0.285;
    /// S3 Standard PUT, COPY, POST, LIST, per request ($0.0047 a thousand).
    pub(super) const S3_PUT: f64 = 0.0047e-3;
    /// S3 Standard GET, per request ($0.00037 a thousand).
    pub(super) const S3_GET: f64 = 0.00037e-3;
    /// S3 Standard storage, per GB-month (first 50 TB).
    pub(super) const S3_GB_MONTH: f64 = 0.025;
    /// SQS standard queue, per request ($0.40 a million).
    pub(super) const SQS: f64 = 0.40e-6;
}

fn symbols() -> Vec<String> {
    sandbox::issue_codes()
        .iter()
        .step_by(37)
        .take(ISSUES)
        .cloned()
        .collect()
}

fn path(symbols: &[String], from: &str, to: &str) -> String {
    format!(
        "/v1/data/jquants-v2/eq-bars-daily?symbols={}&from={from}&to={to}",
        symbols.join(",")
    )
}

/// The section.
pub(crate) async fn section() -> anyhow::Result<()> {
    let (api, fetcher) = (CallCounter::default(), CallCounter::default());
    let counters = Counters {
        api: Some(api.clone()),
        fetcher: Some(fetcher.clone()),
    };
    let mut w = World::on_plan(PAGE, counters, &[], sandbox::Plan::Premium).await;
    w.stack.start_pollers(4);
    let codes = symbols();
    let requests = |w: &World| w.sandbox.stats().requests(KEY);

    println!(
        "\n## Reads that fetch only what is missing: {ISSUES} issues, daily bars, {PAGE} rows a page (sandbox request log)"
    );
    println!("| read | provider requests | asked for |");
    println!("|---|---|---|");
    // 2024 held except October.
    api.reset();
    fetcher.reset();
    let start = requests(&w);
    w.user
        .read_data(&path(&codes, "2024-01-01", "2024-09-30"))
        .await?;
    w.user
        .read_data(&path(&codes, "2024-11-01", "2024-12-31"))
        .await?;
    let eleven = requests(&w) - start;
    let before = requests(&w);
    let (year, fetching) = w
        .user
        .read_data(&path(&codes, "2024-01-01", "2024-12-31"))
        .await?;
    let october = requests(&w) - before;
    let asked: Vec<String> = fetching
        .iter()
        .flat_map(|f| f["groups"].as_array().cloned().unwrap_or_default())
        .map(|g| format!("{}..{}", g["params"]["from"], g["params"]["to"]).replace('"', ""))
        .collect();
    let whole_year = eleven + october;
    println!(
        "| 2024, held except October ({} rows answered) | {october} | {} |",
        year.len(),
        asked.join(", ")
    );

    let before = requests(&w);
    let (_, fetching) = w
        .user
        .read_data(&path(&codes, "2024-01-01", "2024-12-31"))
        .await?;
    anyhow::ensure!(fetching.is_empty(), "held data fetched again");
    println!(
        "| the same read again | {} | nothing: answered from the store |",
        requests(&w) - before
    );
    let before = requests(&w);
    let (_, fetching) = w
        .user
        .read_data(&path(&codes, "2024-07-01", "2025-06-30"))
        .await?;
    let half = requests(&w) - before;
    let asked: Vec<String> = fetching
        .iter()
        .flat_map(|f| f["groups"].as_array().cloned().unwrap_or_default())
        .map(|g| format!("{}..{}", g["params"]["from"], g["params"]["to"]).replace('"', ""))
        .collect();
    println!(
        "| 2024-07-01..2025-06-30, half held | {half} ({:.2}x the {whole_year} of a whole year) | {} |",
        half as f64 / whole_year as f64,
        asked.join(", ")
    );

    w.stack.stop_pollers();
    drop(w);
    tokio::time::sleep(Duration::from_millis(100)).await;
    cost_model().await
}

/// Fetches 20 years of daily bars for 50 issues through `/v1/data` with the sandbox's default
/// pages (1,000 rows; J-Quants' own are "thousands of rows"), counts every AWS operation and
/// the bytes archived, and prices them scaled to every issue.
async fn cost_model() -> anyhow::Result<()> {
    let (api, fetcher) = (CallCounter::default(), CallCounter::default());
    let counters = Counters {
        api: Some(api.clone()),
        fetcher: Some(fetcher.clone()),
    };
    let mut w = World::on_plan(1000, counters, &[], sandbox::Plan::Premium).await;
    w.stack.start_pollers(4);
    let codes = symbols();
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (
        today - chrono::Months::new(12 * 20) + chrono::Days::new(7),
        today - chrono::Days::new(7),
    );
    api.reset();
    fetcher.reset();
    let (held, _) = w
        .user
        .read_data(&path(&codes, &from.to_string(), &to.to_string()))
        .await?;
    let rows = held.len() as u64;
    let ops: Vec<(String, u64)> = api
        .snapshot()
        .into_iter()
        .chain(fetcher.snapshot())
        .collect();
    w.stack.stop_pollers();
    let c = &w.stack.fetcher_config;
    let mut stored = 0u64;
    let mut token = None;
    loop {
        let page = w
            .stack
            .aws
            .s3
            .list_objects_v2()
            .bucket(&c.raw_payload_bucket)
            .prefix("raw/")
            .set_continuation_token(token)
            .send()
            .await?;
        stored += page
            .contents()
            .iter()
            .filter_map(|o| o.size())
            .map(|s| s as u64)
            .sum::<u64>();
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let holdings = w
        .stack
        .aws
        .dynamodb
        .scan()
        .table_name(&c.jobs_table)
        .filter_expression("begins_with(sk, :h)")
        .expression_attribute_values(
            ":h",
            aws_sdk_dynamodb::types::AttributeValue::S("HOLD#".into()),
        )
        .send()
        .await?;
    let holding_bytes: u64 = holdings
        .items()
        .iter()
        // The debug text of an item is longer than its stored size: an upper bound.
        .map(|i| format!("{i:?}").len() as u64)
        .sum();

    // Every issue (the sandbox's universe, as J-Quants lists about 4,400).
    let issues = sandbox::issue_codes().len() as f64;
    let scale = issues / ISSUES as f64;
    let target_rows = rows as f64 * scale;
    let (mut once, mut lines) = (0.0, Vec::new());
    for (op, n) in &ops {
        // Item sizes stay under 1 KB: a write is one unit, a transaction's item two.
        let each = match op.as_str() {
            o if o.ends_with(".TransactWriteItems") => 2.0 * 3.0 * price::DDB_WRITE,
            o if o.ends_with(".BatchWriteItem") => 25.0 * price::DDB_WRITE,
            o if o.starts_with("DynamoDB.") && (o.ends_with("Item") && !o.ends_with("GetItem")) => {
                price::DDB_WRITE
            }
            o if o.starts_with("DynamoDB.") => price::DDB_READ,
            // PUT, COPY, POST and LIST requests, multipart ones included.
            o if o.starts_with("S3.") && !o.ends_with(".GetObject") => price::S3_PUT,
            o if o.ends_with(".GetObject") => price::S3_GET,
            o if o.starts_with("SQS.") => price::SQS,
            _ => 0.0,
        };
        let dollars = each * *n as f64 * scale;
        once += dollars;
        lines.push(format!("{op} {n}"));
    }
    let s3_gb = stored as f64 * scale / 1e9;
    let ddb_gb = holding_bytes as f64 * scale / 1e9;
    let monthly = s3_gb * price::S3_GB_MONTH + ddb_gb * price::DDB_GB_MONTH;
    // The design this replaces: every row an item of its own.
    let old_once = target_rows * price::DDB_WRITE;
    let old_monthly = target_rows * 800.0 / 1e9 * price::DDB_GB_MONTH;

    println!(
        "\n## Cost to fetch and hold 20 years of daily bars for every issue ({} issues, ~{:.1} M rows), Tokyo on-demand prices of 2026-12-06",
        issues,
        target_rows / 1e6
    );
    println!(
        "Counted while {ISSUES} issues' {from}..{to} was fetched and read back once ({rows} rows, {stored} bytes archived): {}; scaled by {scale:.1}. Lambda compute is not in it.",
        lines.join(", ")
    );
    println!("| design | one-off | per month | stored |");
    println!("|---|---|---|---|");
    println!(
        "| rows in the raw archive (S3, gzip pages) + holdings in DynamoDB (this design) | ${once:.2} | ${monthly:.3} | {s3_gb:.2} GB S3 + {:.1} MB DynamoDB |",
        ddb_gb * 1e3
    );
    println!(
        "| every row a DynamoDB item (the design before) | ${:.2} | ${old_monthly:.2} | {:.1} GB DynamoDB |",
        old_once + once,
        target_rows * 800.0 / 1e9
    );
    let met = once < 1.0 && monthly < 0.10;
    println!(
        "Target under $1 one-off and $0.10 a month: {}",
        if met { "met" } else { "NOT met" }
    );
    Ok(())
}
