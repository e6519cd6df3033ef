//! When the declared limit is wrong (issue #17): eight fetcher instances on one J-Quants key
//! whose real limit is not the declared plan's, from the sandbox's own request log.

use std::time::{Duration, Instant};

use devstack::stack::Counters;
use integration_tests::{KEY, World};
use reqwest::Method;

use crate::rate::one_page_jobs;

/// What the key really allows during the run.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key {
    /// Its own limit from the start.
    Limit(u32),
    /// The plan's limit, shared with another consumer taking this many a minute.
    Outside(u32),
    /// The plan's limit, dropping to this many a minute after the delay.
    DropsTo(u32, Duration),
}

/// Runs `jobs` one-page jobs declared on `declared` against a key that behaves as `key`; prints
/// a table row. `physical`: the seconds the real limit needs for the requests that succeed.
pub(crate) async fn scenario(
    name: &str,
    declared: sandbox::Plan,
    key: Key,
    jobs: usize,
    physical: f64,
) -> anyhow::Result<()> {
    let mut w = World::on_plan(1000, Counters::default(), &[], declared).await;
    anyhow::ensure!(w.sandbox.set_rate_limit(KEY, true), "sandbox key");
    match key {
        Key::Limit(n) => anyhow::ensure!(w.sandbox.set_key_limit(KEY, Some(n)), "key limit"),
        Key::Outside(n) => anyhow::ensure!(w.sandbox.set_outside_consumer(KEY, n), "consumer"),
        Key::DropsTo(..) => {}
    }
    w.stack.start_fetcher_instances(8);
    let t = Instant::now();
    let id = one_page_jobs(&w, jobs).await?;
    let change = async {
        if let Key::DropsTo(n, after) = key {
            tokio::time::sleep(after).await;
            w.sandbox.set_key_limit(KEY, Some(n));
        }
    };
    let (done, ()) = tokio::join!(
        w.user.wait_for_group(&id, Duration::from_secs(3600)),
        change
    );
    let done = done?;
    let elapsed = t.elapsed().as_secs_f64();
    let s = w.sandbox.stats().keys[KEY].clone();
    let credential = w
        .user
        .expect(Method::GET, "/v1/credentials/jquants-v2", None, 200)
        .await?;
    let rate = &credential["rate"];
    if let Key::Outside(_) = key {
        let (admitted, refused) = w.sandbox.outside_consumer_served(KEY);
        println!(
            "(the outside consumer meanwhile: {admitted} requests admitted, {refused} found the window full)"
        );
    }
    println!(
        "| {name} | {} completed, {} failed | {} | {} | {} | {} | {elapsed:.0} s | {physical:.0} s | {:.2} | {} / {} |",
        done["completed_jobs"],
        done["failed_jobs"],
        s.requests,
        s.too_many_requests,
        s.max_per_60s,
        s.lockouts,
        elapsed / physical,
        rate["effective_per_minute"],
        rate["configured_per_minute"],
    );
    Ok(())
}
