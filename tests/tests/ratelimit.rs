//! The distributed rate limiter end to end: the real `fetcher` binary in several execution
//! environments of the Lambda-shaped runtime (separate processes, each with its own clients and
//! limiter), fed by the SQS mapping, against the sandbox with its per-key limits switched on.
//! Proven from the sandbox's own request log, never from our counters.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use devstack::client::{ApiClient, add_user};
use devstack::runtime::deployed::Options;
use integration_tests::{KEY, World};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::{JobGroupId, UserId};
use shared::limiter::LimiterStore;
use shared::limiter::Scope;
use shared::limiter::store::DynamoLimits;
use shared::store::JobQueries;
use shared::store::dynamo::DynamoJobs;

fn month() -> (NaiveDate, NaiveDate) {
    // Older than 12 weeks: inside the Free plan's window too.
    let today = Utc::now().date_naive();
    (today - Days::new(130), today - Days::new(100))
}

async fn create(user: &ApiClient, symbols: &[String]) -> String {
    let (from, to) = month();
    let body = json!({
        "data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"from": from.to_string(), "to": to.to_string()},
    });
    let g = user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    g["id"].as_str().unwrap().to_owned()
}

async fn wait_done(user: &ApiClient, id: &str, limit: Duration) -> Value {
    user.wait_for_group(id, limit).await.unwrap()
}

fn symbols(n: usize, skip: usize) -> Vec<String> {
    sandbox::issue_codes()
        .iter()
        .skip(skip)
        .step_by(97)
        .take(n)
        .cloned()
        .collect()
}

/// Eight fetchers, one Light account (60 a minute), about 80 page requests (3 a job): no sliding minute
/// of the sandbox's log holds more than 60, no 429, every page fetched once (jobs the limiter
/// paused part-way go on from their checkpoint), and no pause counted as a retry.
#[tokio::test]
async fn eight_fetchers_on_one_light_account_stay_inside_its_limit() {
    let w = World::deployed(
        7,
        sandbox::Plan::Light,
        Options {
            fetcher_concurrency: Some(8),
            ..Options::default()
        },
    )
    .await;
    assert!(w.sandbox.set_rate_limit(KEY, true));
    let started = Instant::now();
    let id = create(&w.user, &symbols(26, 0)).await;
    let g = wait_done(&w.user, &id, Duration::from_secs(300)).await;
    let elapsed = started.elapsed();
    assert_eq!(
        (g["status"].as_str(), g["completed_jobs"].as_u64()),
        (Some("completed"), Some(26)),
        "{g}"
    );
    let jobs = DynamoJobs::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.fetcher_config.jobs_table,
    )
    .list_jobs(JobGroupId::parse(&id).unwrap())
    .await
    .unwrap();
    let pages: u64 = jobs
        .iter()
        .map(|j| u64::from(j.response_data.as_ref().unwrap().pages))
        .sum();
    let stats = w.sandbox.stats().keys[KEY].clone();
    println!(
        "light account, 8 fetchers: {} requests, busiest 60 s {}, 429s {}, {:.1} s (requests / rate: {:.1} s)",
        stats.requests,
        stats.max_per_60s,
        stats.too_many_requests,
        elapsed.as_secs_f64(),
        stats.requests as f64 * 60.0 / 60.0
    );
    assert!(pages > 60, "the run needs more than one minute's budget");
    assert_eq!(stats.too_many_requests, 0);
    assert!(stats.max_per_60s <= 60, "{stats:?}");
    assert_eq!(stats.requests, pages, "every page fetched exactly once");
    assert!(
        jobs.iter().all(|j| j.retry_count == 0),
        "a pause is not a retry"
    );
    // Every permit the limiter gave was spent on a request, but for duplicate deliveries.
    let me = w
        .user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    let user = UserId::parse(me["user_id"].as_str().unwrap()).unwrap();
    let source = shared::domain::DataSource::jquants_v2(w.sandbox.base_url());
    let (state, _) = DynamoLimits::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.fetcher_config.rate_limits_table,
    )
    .load_scope(Scope::for_request(&source, user).as_str())
    .await
    .unwrap();
    // A message SQS hands to two fetchers at once costs a permit the second cannot use (its
    // job is leased), so a couple may go unused; a leak (permits taken and never spent in
    // every saturated batch) would show as dozens.
    let taken = u64::from(state.buckets["plan"].day.count);
    assert!(
        (stats.requests..=stats.requests + 2).contains(&taken),
        "permits taken {taken}, requests sent {}",
        stats.requests
    );
}

/// Two users, a Free (5 a minute) and a Light account, at the same time: each is held to its
/// own limit, and the Light one is not slowed to the Free one's budget.
#[tokio::test]
async fn two_accounts_on_different_plans_each_get_their_own_budget() {
    let w = World::deployed(1000, sandbox::Plan::Light, Options::default()).await;
    assert!(w.sandbox.set_rate_limit(KEY, true));
    w.sandbox.add_key("free-key", sandbox::Plan::Free, true);
    let free = add_user(&w.api, &w.admin, "free-key", "free")
        .await
        .unwrap();
    let free_id = create(&free, &symbols(8, 1)).await;
    let light_id = create(&w.user, &symbols(40, 2)).await;
    let light = wait_done(&w.user, &light_id, Duration::from_secs(300)).await;
    let free_g = wait_done(&free, &free_id, Duration::from_secs(300)).await;
    assert_eq!(light["completed_jobs"], 40, "{light}");
    assert_eq!(free_g["completed_jobs"], 8, "{free_g}");
    let stats = w.sandbox.stats();
    let (l, f) = (&stats.keys[KEY], &stats.keys["free-key"]);
    println!(
        "light: {} requests, busiest 60 s {}; free: {} requests, busiest 60 s {}",
        l.requests, l.max_per_60s, f.requests, f.max_per_60s
    );
    assert_eq!((l.too_many_requests, f.too_many_requests), (0, 0));
    assert!(f.max_per_60s <= 5 && l.max_per_60s <= 60);
    assert!(
        l.max_per_60s > 5,
        "the Light account used more than the Free account's budget in a minute"
    );
    assert_eq!((l.requests, f.requests), (40, 8));
}

/// The provider answers 429 twice in a row (with `Retry-After: 2`): the scope pauses for every
/// fetcher (2 s, then a full window when its one probe is refused too), and each job waits
/// rather than fails; nothing is fetched twice.
#[tokio::test]
async fn a_burst_of_429s_pauses_the_account_and_no_job_fails() {
    let w = World::deployed(1000, sandbox::Plan::Light, Options::default()).await;
    w.sandbox.set_limits(sandbox::Limits {
        retry_after_secs: Some(2),
        ..Default::default()
    });
    w.sandbox.set_faults(
        KEY,
        sandbox::FaultSpec {
            burst_429: 2,
            ..Default::default()
        },
    );
    let id = create(&w.user, &symbols(30, 3)).await;
    let g = wait_done(&w.user, &id, Duration::from_secs(300)).await;
    assert_eq!(
        (g["completed_jobs"].as_u64(), g["failed_jobs"].as_u64()),
        (Some(30), Some(0)),
        "{g}"
    );
    let stats = w.sandbox.stats().keys[KEY].clone();
    assert_eq!(
        (stats.too_many_requests, stats.requests),
        (2, 32),
        "each 429 cost one request, then the jobs went on"
    );
    let me = w
        .user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    let user = UserId::parse(me["user_id"].as_str().unwrap()).unwrap();
    let source = w
        .stack
        .fetcher
        .ports
        .sources
        .get_data_source(&shared::domain::DataSourceId::parse("jquants-v2").unwrap())
        .await
        .unwrap()
        .unwrap();
    let (state, _) = DynamoLimits::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.fetcher_config.rate_limits_table,
    )
    .load_scope(Scope::for_request(&source, user).as_str())
    .await
    .unwrap();
    assert_eq!(
        state.adaptive.throttled_total, 2,
        "every 429 paused the account"
    );
    let jobs = DynamoJobs::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.fetcher_config.jobs_table,
    )
    .list_jobs(JobGroupId::parse(&id).unwrap())
    .await
    .unwrap();
    assert!(
        jobs.iter().all(|j| j.retry_count == 0),
        "a pause is not a retry"
    );
}

/// A Free key (really 5 a minute) declared as Light (60), eight fetcher processes: the limiter
/// opens slowly and learns the real limit from the provider's first 429s instead of sending a
/// minute's worth of Light requests at once (which cost 10 x 429 and a lockout before it
/// learned). From the sandbox's log: a few 429s, never more than twice the real limit in
/// attempts a minute, no lockout, every job completed with one successful request each.
#[tokio::test]
async fn a_free_key_declared_light_is_learned_without_a_burst_or_a_lockout() {
    let w = World::deployed(
        1000,
        sandbox::Plan::Light,
        Options {
            fetcher_concurrency: Some(8),
            ..Options::default()
        },
    )
    .await;
    assert!(w.sandbox.set_rate_limit(KEY, true));
    assert!(w.sandbox.set_key_limit(KEY, Some(5)));
    let started = Instant::now();
    let id = create(&w.user, &symbols(15, 4)).await;
    let g = wait_done(&w.user, &id, Duration::from_secs(600)).await;
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(
        (g["completed_jobs"].as_u64(), g["failed_jobs"].as_u64()),
        (Some(15), Some(0)),
        "{g}"
    );
    let stats = w.sandbox.stats().keys[KEY].clone();
    println!(
        "free key declared light, 15 jobs, 8 fetchers: {} requests, {} x 429, busiest 60 s {}, {} lockouts, {elapsed:.0} s (requests / real rate: {:.0} s)",
        stats.requests,
        stats.too_many_requests,
        stats.max_per_60s,
        stats.lockouts,
        15.0 * 60.0 / 5.0
    );
    assert_eq!(stats.lockouts, 0, "{stats:?}");
    assert!(stats.too_many_requests <= 5, "{stats:?}");
    assert!(stats.max_per_60s <= 10, "{stats:?}");
    assert_eq!(stats.requests - stats.too_many_requests, 15);
}

/// A data source's day quota used up: the jobs that must wait for the next UTC day (longer
/// than SQS can delay a message) are parked, not failed and not left in the queue; the
/// scheduler's tick after midnight sends exactly those again.
#[tokio::test]
async fn a_used_up_day_quota_parks_jobs_for_the_scheduler() {
    // Jobs over the day's quota are parked only when midnight UTC is further away than SQS can
    // delay a message (15 minutes); closer to midnight they are rightly delayed instead. So
    // in the last 16 minutes of a UTC day, start after midnight.
    let now = Utc::now();
    let next_midnight = (now.date_naive() + Days::new(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    if next_midnight - now < chrono::TimeDelta::minutes(16) {
        let wait = (next_midnight - now).to_std().unwrap() + Duration::from_secs(5);
        eprintln!("waiting {wait:?} for the new UTC day");
        tokio::time::sleep(wait).await;
    }
    let w = World::new(1000, Default::default()).await;
    let ds = json!({
        "name": "J-Quants", "description": "JPX J-Quants API V2", "provider_type": "jquants",
        "is_enabled": true, "base_url": w.sandbox.base_url(), "api_version": "v2",
        "rate_limit_per_minute": 500, "rate_limit_per_hour": 30000, "rate_limit_per_day": 3,
    });
    w.admin
        .expect(
            Method::PUT,
            "/v1/admin/data-sources/jquants-v2",
            Some(&ds),
            200,
        )
        .await
        .unwrap();
    let id = create(&w.user, &symbols(5, 4)).await;
    let group = JobGroupId::parse(&id).unwrap();
    let jobs = DynamoJobs::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.fetcher_config.jobs_table,
    );
    let start = Instant::now();
    let listed = loop {
        let listed = jobs.list_jobs(group).await.unwrap();
        let completed = listed.iter().filter(|j| j.status.is_terminal()).count();
        let parked = listed.iter().filter(|j| j.parked_until.is_some()).count();
        if completed + parked == 5 {
            break listed;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "{listed:?}");
        // The event-source mapping, driven here so nothing polls once the test stops.
        devstack::esm::poll_once(
            &w.stack.aws.sqs,
            &w.stack.fetcher_config.jobs_queue_url,
            Duration::from_millis(200),
            |records| fetcher::handle_records(records, &w.stack.fetcher),
        )
        .await
        .unwrap();
    };
    let midnight = (Utc::now().date_naive() + Days::new(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let parked: Vec<_> = listed.iter().filter(|j| j.parked_until.is_some()).collect();
    assert_eq!(parked.len(), 2, "{listed:?}");
    assert!(parked.iter().all(|j| {
        let until = j.parked_until.unwrap();
        j.status == shared::domain::JobStatus::Pending
            && until >= midnight
            && until < midnight + chrono::TimeDelta::seconds(2)
    }));
    assert_eq!(
        w.sandbox.stats().requests(KEY),
        3,
        "the day's quota, no more"
    );
    let g = w
        .user
        .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
        .await
        .unwrap();
    assert_eq!(
        (
            g["status"].as_str(),
            g["completed_jobs"].as_u64(),
            g["failed_jobs"].as_u64()
        ),
        (Some("running"), Some(3), Some(0))
    );

    let clock = std::sync::Arc::new(shared::clock::ManualClock::new(Utc::now()));
    let accounts = std::sync::Arc::new(shared::store::dynamo::DynamoAccounts::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.fetcher_config.accounts_table,
    ));
    let tick = scheduler::Deps {
        schedules: std::sync::Arc::new(jobs.clone()),
        jobs: std::sync::Arc::new(jobs.clone()),
        credentials: accounts.clone(),
        sources: accounts.clone(),
        users: accounts,
        parked: std::sync::Arc::new(jobs.clone()),
        stalled: std::sync::Arc::new(jobs.clone()),
        stalled_after: scheduler::STALLED_AFTER,
        queue: std::sync::Arc::new(shared::queue::SqsJobQueue::new(
            w.stack.aws.sqs.clone(),
            &w.stack.fetcher_config.jobs_queue_url,
            &w.stack.fetcher_config.dead_letter_queue_url,
        )),
        clock: clock.clone(),
        vault: None,
        renewal: None,
    };
    assert_eq!(scheduler::tick(&tick).await.unwrap().requeued, 0);
    clock.set(midnight + chrono::TimeDelta::seconds(2));
    assert_eq!(scheduler::tick(&tick).await.unwrap().requeued, 2);
    assert_eq!(
        scheduler::tick(&tick).await.unwrap().requeued,
        0,
        "sent once"
    );
    let sent = w
        .stack
        .aws
        .sqs
        .receive_message()
        .queue_url(&w.stack.fetcher_config.jobs_queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    let mut sent: Vec<u32> = sent
        .iter()
        .map(|m| serde_json::from_str::<shared::queue::JobMessage>(m.body().unwrap()).unwrap())
        .map(|m| m.job_id.index())
        .collect();
    sent.sort_unstable();
    let mut expected: Vec<u32> = parked.iter().map(|j| j.id.index()).collect();
    expected.sort_unstable();
    assert_eq!(sent, expected);
}
