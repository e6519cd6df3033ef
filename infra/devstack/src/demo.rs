//! The README's main job: a local stack, a sandbox J-Quants, a user, and a job group of 50
//! issues over one month, with progress shown until it ends.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use reqwest::Method;
use serde_json::json;
use shared::dataset::DatasetKind;
use shared::domain::UserId;
use shared::store::{RowScope, RowStore, dynamo::DynamoRows};

use crate::client::{ApiClient, onboard_user};
use crate::stack::{Counters, LocalStack};

/// The sandbox key the demo user stores (a fake key, valid only against the sandbox).
const DEMO_KEY: &str = "demo-jquants-key";

/// Runs the demo; fails unless the group completes with every job accounted for.
pub async fn run() -> anyhow::Result<()> {
    let t0 = Instant::now();
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig {
        keys: vec![
            // Premium: about 150 page requests fit its 500 a minute, so the demo is not
            // paced by the rate limiter (a Light account would take two and a half minutes).
            format!("{DEMO_KEY}:premium")
                .parse()
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        ],
        // Small pages so every job follows pagination_key across several pages.
        page_size: 8,
        today: None,
    })
    .await;
    println!("▸ sandbox J-Quants V2 at {}", sandbox.base_url());
    let name = format!("demo{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut stack = LocalStack::start(&name, Counters::default()).await?;
    stack.start_pollers(4);
    println!(
        "▸ local stack `{name}` provisioned from template.yaml; API at {}",
        stack.api_url
    );

    let api = ApiClient::new(&stack.api_url, None);
    let user = onboard_user(
        &api,
        &stack.admin_secret().await?,
        &sandbox.base_url(),
        DEMO_KEY,
        "premium",
    )
    .await?;
    println!("▸ bootstrapped an admin, created a user, stored its J-Quants key (sealed by KMS)");

    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .step_by(40)
        .take(50)
        .map(String::as_str)
        .collect();
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(60);
    let to = from + chrono::Duration::days(30);
    let body = json!({
        "data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"from": from.to_string(), "to": to.to_string()},
    });
    let group = user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await?;
    let id = group["id"].as_str().context("no group id")?.to_owned();
    println!(
        "▸ job group {id}: {} issues, daily bars {from} … {to}",
        symbols.len()
    );

    let done = watch(&user, &id).await?;
    let (total, completed, failed) = (
        count(&done, "total_jobs"),
        count(&done, "completed_jobs"),
        count(&done, "failed_jobs"),
    );
    println!(
        "\n▸ group {}: completed_jobs={completed} failed_jobs={failed} total_jobs={total}",
        done["status"]
    );
    ensure!(completed + failed == total, "counters do not add up");

    let rows = DynamoRows::new(
        stack.aws.dynamodb.clone(),
        &stack.fetcher_config.market_data_table,
    );
    let owner = owner_of(&user).await?;
    let scope = RowScope {
        user_id: owner,
        dataset: DatasetKind::EqBarsDaily,
    };
    let mut stored = 0;
    for (i, s) in symbols.iter().enumerate() {
        let recs = rows
            .query_rows(scope, s, Some(&from.to_string()), Some(&to.to_string()))
            .await?;
        stored += recs.len();
        if i < 2 {
            for r in recs.iter().take(3) {
                println!("  {}", serde_json::Value::Object(r.to_json()));
            }
        }
    }
    println!(
        "▸ {stored} rows stored in the market-data table; demo took {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    ensure!(
        done["status"] == "completed",
        "group ended as {}",
        done["status"]
    );
    ensure!(stored > 0, "no rows stored");
    Ok(())
}

fn count(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

async fn watch(user: &ApiClient, id: &str) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    loop {
        let g = user
            .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
            .await?;
        let (total, done, failed) = (
            count(&g, "total_jobs"),
            count(&g, "completed_jobs"),
            count(&g, "failed_jobs"),
        );
        let width: u64 = 30;
        let filled = ((done + failed) * width)
            .checked_div(total)
            .unwrap_or(width) as usize;
        print!(
            "\r  [{}{}] {}/{} done, {} failed, {} ({:.0}s)   ",
            "#".repeat(filled),
            ".".repeat(width as usize - filled),
            done + failed,
            total,
            failed,
            g["status"].as_str().unwrap_or("?"),
            started.elapsed().as_secs_f64()
        );
        std::io::stdout().flush()?;
        if matches!(g["status"].as_str(), Some("completed" | "failed")) {
            return Ok(g);
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("group did not finish within 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

/// The demo reads rows straight from the table (the results export arrives with the job
/// engine); the owner's id is the user id of the key.
async fn owner_of(user: &ApiClient) -> anyhow::Result<UserId> {
    let r = user.expect(Method::GET, "/v1/whoami", None, 200).await?;
    UserId::parse(r["user_id"].as_str().context("no user id")?).map_err(|e| anyhow::anyhow!("{e}"))
}
