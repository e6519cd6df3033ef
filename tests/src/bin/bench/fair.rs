//! Fair sharing of the deployment-wide Yahoo budget (issue #18): one user asks for fifty times
//! the work of two others, who start after it. How long the two small users' groups take, with
//! fair sharing and with first come first served (`FAIR_SHARE=off`), against their fair-share
//! bound (their requests x 3 / the budget's rate). They ask once the big backlog runs at the
//! budget's pace, after its first minute.

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use devstack::client::add_user;
use devstack::stack::Counters;
use integration_tests::{KEY, World};
use reqwest::Method;
use serde_json::json;
use shared::domain::IssueCode;

/// Requests of each small user; the big one asks for fifty times as many.
const SMALL: usize = 10;
/// The Yahoo data source's budget in the local stack (requests a minute).
const RATE: f64 = 60.0;
/// When the small users ask, after the big one.
const START_AFTER: Duration = Duration::from_secs(75);

/// One row: the mode, each small group's time, the bound and the worse ratio.
pub(crate) async fn scenario(fair: bool) -> anyhow::Result<()> {
    let overrides: &[(&str, &str)] = if fair { &[] } else { &[("FAIR_SHARE", "off")] };
    let mut w = World::on_plan(1000, Counters::default(), overrides, sandbox::Plan::Premium).await;
    let small = [
        add_user(&w.api, &w.admin, KEY, "premium").await?,
        add_user(&w.api, &w.admin, KEY, "premium").await?,
    ];
    w.stack.start_fetcher_instances(4);
    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .filter(|c| IssueCode::parse(c).is_ok_and(|c| shared::yahoo::yahoo_symbol(&c).is_some()))
        .map(String::as_str)
        .take(50 * SMALL)
        .collect();
    anyhow::ensure!(symbols.len() == 50 * SMALL, "not enough Yahoo symbols");
    let today = Utc::now().date_naive();
    let group = |symbols: &[&str]| {
        json!({"data_source": "yahoo", "endpoint": "chart", "symbols": symbols,
               "params": {"from": (today - Days::new(40)).to_string(), "to": (today - Days::new(10)).to_string()}})
    };
    let big = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&group(&symbols)), 202)
        .await?;
    // The others ask once the big backlog runs at the budget's pace (its first minute's
    // permits spent): what they find is a budget in use, not one spent in a burst just before
    // (which no sharing can give back before its window frees).
    tokio::time::sleep(START_AFTER).await;
    let started = Instant::now();
    let mut ids = Vec::new();
    for (user, from) in small.iter().zip([0, SMALL]) {
        let g = user
            .expect(
                Method::POST,
                "/v1/job-groups",
                Some(&group(&symbols[from..from + SMALL])),
                202,
            )
            .await?;
        ids.push(g["id"].as_str().unwrap_or_default().to_owned());
    }
    let (a, b) = tokio::join!(
        wait(&small[0], &ids[0], started),
        wait(&small[1], &ids[1], started)
    );
    let (a, b) = (a?, b?);
    let bound = SMALL as f64 * 3.0 * 60.0 / RATE;
    let worse = a.max(b);
    println!(
        "| {} | {a:.0} s | {b:.0} s | {bound:.0} s | {:.2} |",
        if fair {
            "fair shares"
        } else {
            "first come, first served"
        },
        worse / bound
    );
    // The big group is no longer of interest.
    let id = big["id"].as_str().unwrap_or_default();
    w.user
        .call(Method::POST, &format!("/v1/job-groups/{id}/cancel"), None)
        .await?;
    Ok(())
}

/// Seconds from `started` until group `id` ends (its progress on stderr now and then).
async fn wait(
    user: &devstack::client::ApiClient,
    id: &str,
    started: Instant,
) -> anyhow::Result<f64> {
    let mut said = Instant::now();
    loop {
        let g = user
            .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
            .await?;
        if matches!(g["status"].as_str(), Some("completed" | "failed")) {
            anyhow::ensure!(g["completed_jobs"] == SMALL, "small group ended as {g}");
            return Ok(started.elapsed().as_secs_f64());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(1200),
            "group did not finish: {g}"
        );
        if said.elapsed() > Duration::from_secs(15) {
            eprintln!(
                "  {id}: {} of {SMALL} done after {:.0} s, rate {}",
                g["completed_jobs"],
                started.elapsed().as_secs_f64(),
                g["rate"]
            );
            said = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
