//! V1 tokens renewed ahead of need, on the emulator: the scheduler, 30 minutes before a V1
//! account's schedule fires, signs it in and seals the tokens into its credential; the fire's
//! fetch (a cold fetcher) then starts from the stored id token with no request to the token
//! endpoints. The scheduler's AWS actions are recorded for the least-privilege check.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, TimeDelta, Timelike, Utc};
use integration_tests::World;
use reqwest::Method;
use serde_json::json;
use shared::clock::ManualClock;

const MAIL: &str = "renewed@example.com";
const PASSWORD: &str = "correct horse battery";

fn token_requests(w: &World, path: &str) -> u64 {
    w.sandbox
        .stats()
        .keys
        .get(MAIL)
        .and_then(|k| k.by_path.get(path).copied())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_scheduler_renews_a_v1_account_before_its_fire_and_the_fetch_signs_in_no_more() {
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
    // A fire half an hour from the last whole minute, so the scheduler's clock at its first
    // attempt is the real one's (the rate limiter's state is shared with the real-time fetch).
    let now = Utc::now();
    let first_attempt = now - TimeDelta::seconds(now.timestamp() % 60);
    let at = first_attempt + scheduler::tokens::LOOKAHEAD;
    let schedule = w
        .user
        .expect(
            Method::POST,
            "/v1/schedules",
            Some(&json!({
                "name": "close", "cron": at.format("%M %H * * *").to_string(), "time_zone": "UTC",
                "template": {"data_source": "jquants-v1", "endpoint": "prices-daily-quotes",
                             "symbols": ["7203"], "window": {"kind": "previous-trading-day"}},
            })),
            201,
        )
        .await
        .unwrap();
    let fire: DateTime<Utc> = schedule["next_fire_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(fire, at.with_nanosecond(0).unwrap(), "{schedule}");
    let credential = || async {
        w.user
            .expect(Method::GET, "/v1/credentials/jquants-v1", None, 200)
            .await
            .unwrap()
    };
    assert_eq!(credential().await["id_token"], "absent");

    // Half an hour before the fire, a tick signs the account in: a login and an id token.
    let clock = Arc::new(ManualClock::new(fire - scheduler::tokens::LOOKAHEAD));
    let deps = w.scheduler(clock.clone());
    let tick = scheduler::tick(&deps).await.unwrap();
    assert_eq!(
        (tick.tokens_renewed, tick.token_renewals_failed),
        (1, 0),
        "{tick:?}"
    );
    assert_eq!(token_requests(&w, "/token/auth_user"), 1);
    assert_eq!(token_requests(&w, "/token/auth_refresh"), 1);
    let stored = credential().await;
    assert_eq!(
        (
            stored["refresh_token"].as_str(),
            stored["id_token"].as_str()
        ),
        (Some("valid"), Some("valid")),
        "{stored}"
    );
    // The next attempts before the same fire find the token covering it.
    for minutes in [20, 10] {
        clock.set(fire - TimeDelta::minutes(minutes));
        let tick = scheduler::tick(&deps).await.unwrap();
        assert_eq!(tick.tokens_renewed, 0, "{tick:?}");
    }
    assert_eq!(token_requests(&w, "/token/auth_user"), 1);

    // The fire's fetch, by a fetcher that has never seen the account: it reads the sealed id
    // token and asks the token endpoints nothing.
    let instances = w.stack.start_fetcher_instances(1);
    let day = Utc::now().date_naive() - Days::new(50);
    let group = w
        .user
        .expect(
            Method::POST,
            "/v1/job-groups",
            Some(&json!({"data_source": "jquants-v1", "endpoint": "prices-daily-quotes",
                         "symbols": ["7203"], "params": {"from": (day - Days::new(6)).to_string(), "to": day.to_string()}})),
            202,
        )
        .await
        .unwrap();
    let done = w
        .user
        .wait_for_group(group["id"].as_str().unwrap(), Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        (
            token_requests(&w, "/token/auth_user"),
            token_requests(&w, "/token/auth_refresh")
        ),
        (1, 1),
        "the fetch signed in again"
    );
    assert!(token_requests(&w, "/prices/daily_quotes") >= 1);
    drop(instances);
}
