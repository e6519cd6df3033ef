//! Broken object-level authorization, tried on every route: a second user presents the first
//! user's ids (job groups, schedules, API keys) and the first user's data source, and gets 404
//! (or 403 on admin routes) with nothing of the first user in the answer and nothing of theirs
//! changed.

use std::time::Duration;

use devstack::client::{ApiClient, add_user};
use devstack::runtime::deployed::Options;
use integration_tests::World;
use reqwest::Method;
use serde_json::{Value, json};

/// Every route with an owner's id in its path, as (method, path template, body).
fn owned_routes() -> Vec<(Method, &'static str, Option<Value>)> {
    let schedule = json!({
        "name": "mine now", "cron": "*/5 * * * *",
        "template": {"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                     "window": {"kind": "previous-trading-day"}},
    });
    vec![
        (Method::GET, "/v1/job-groups/{group}", None),
        (Method::GET, "/v1/job-groups/{group}/jobs", None),
        (
            Method::GET,
            "/v1/job-groups/{group}/jobs?status=completed&limit=1",
            None,
        ),
        (
            Method::POST,
            "/v1/job-groups/{group}/cancel",
            Some(json!({})),
        ),
        (
            Method::POST,
            "/v1/job-groups/{group}/retry",
            Some(json!({})),
        ),
        (
            Method::GET,
            "/v1/job-groups/{group}/results?format=ndjson",
            None,
        ),
        (
            Method::GET,
            "/v1/job-groups/{group}/results?format=csv",
            None,
        ),
        (Method::GET, "/v1/schedules/{schedule}", None),
        (Method::PUT, "/v1/schedules/{schedule}", Some(schedule)),
        (Method::DELETE, "/v1/schedules/{schedule}", None),
        (Method::DELETE, "/v1/api-keys/{key}", None),
        (Method::POST, "/v1/api-keys/{key}/rotate", Some(json!({}))),
    ]
}

/// Admin routes, which a user's key must not reach.
fn admin_routes() -> Vec<(Method, &'static str, Value)> {
    vec![
        (
            Method::POST,
            "/v1/admin/users",
            json!({"name": "mallory's friend"}),
        ),
        (
            Method::PUT,
            "/v1/admin/data-sources/jquants-v2",
            json!({"name": "x", "description": "x", "provider_type": "jquants", "is_enabled": false,
                   "base_url": "http://127.0.0.1:9", "api_version": "v2",
                   "rate_limit_per_minute": 1, "rate_limit_per_hour": 1, "rate_limit_per_day": 1}),
        ),
        (Method::POST, "/v1/admin/key-rotation", json!({})),
        (Method::POST, "/v1/admin/dlq/redrive", json!({})),
        (
            Method::POST,
            "/v1/admin/users/usr_0190f0c0-0000-7000-8000-000000000000/disable",
            json!({}),
        ),
        (
            Method::POST,
            "/v1/admin/users/usr_0190f0c0-0000-7000-8000-000000000000/enable",
            json!({}),
        ),
        (
            Method::POST,
            "/v1/admin/users/usr_0190f0c0-0000-7000-8000-000000000000/revoke-keys",
            json!({}),
        ),
        (
            Method::POST,
            "/v1/admin/users/usr_0190f0c0-0000-7000-8000-000000000000/api-keys",
            json!({}),
        ),
    ]
}

/// What the owner sees of everything Mallory tries to reach.
type Snapshot = (Value, Value, Value, String, Value, Value);

async fn snapshot(owner: &ApiClient, group: &str, schedule: &str) -> Snapshot {
    let g = owner
        .expect(Method::GET, &format!("/v1/job-groups/{group}"), None, 200)
        .await
        .unwrap();
    let s = owner
        .expect(Method::GET, &format!("/v1/schedules/{schedule}"), None, 200)
        .await
        .unwrap();
    let c = owner
        .expect(Method::GET, "/v1/credentials/jquants-v2", None, 200)
        .await
        .unwrap();
    let (_, _, rows) = owner
        .text(&format!("/v1/job-groups/{group}/results?format=ndjson"))
        .await
        .unwrap();
    let jobs = owner
        .expect(
            Method::GET,
            &format!("/v1/job-groups/{group}/jobs"),
            None,
            200,
        )
        .await
        .unwrap();
    let keys = owner
        .expect(Method::GET, "/v1/api-keys", None, 200)
        .await
        .unwrap();
    (g, s, c, rows, jobs, keys)
}

#[tokio::test]
async fn another_users_ids_answer_not_found_and_change_nothing() {
    let w = World::deployed(100, sandbox::Plan::Light, Options::default()).await;
    let today = chrono::Utc::now().date_naive();
    let body = json!({
        "data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": ["7203"],
        "params": {"from": (today - chrono::Days::new(60)).to_string(),
                   "to": (today - chrono::Days::new(45)).to_string()},
    });
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    let group = g["id"].as_str().unwrap().to_owned();
    w.user
        .wait_for_group(&group, Duration::from_secs(120))
        .await
        .unwrap();
    let s = w
        .user
        .expect(
            Method::POST,
            "/v1/schedules",
            Some(&json!({
                "name": "close", "cron": "0 18 * * 1-5",
                "template": {"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                             "symbols": ["7203"], "window": {"kind": "previous-trading-day"}},
            })),
            201,
        )
        .await
        .unwrap();
    let schedule = s["id"].as_str().unwrap().to_owned();
    let before = snapshot(&w.user, &group, &schedule).await;
    assert!(before.3.lines().count() > 5, "the owner's export has rows");
    assert_eq!(
        before.4["jobs"].as_array().unwrap().len(),
        1,
        "{}",
        before.4
    );
    let key = before.5["api_keys"][0]["id"].as_str().unwrap().to_owned();

    // Mallory: a user of her own, with her own J-Quants key, and the owner's ids.
    let mallory = add_user(&w.api, &w.admin, "mallory-key", "light")
        .await
        .unwrap();
    let secrets = [group.as_str(), schedule.as_str(), key.as_str(), "72030"];
    for (method, template, body) in owned_routes() {
        let path = template
            .replace("{group}", &group)
            .replace("{schedule}", &schedule)
            .replace("{key}", &key);
        let r = mallory
            .call(method.clone(), &path, body.as_ref())
            .await
            .unwrap();
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
        let text = r.body.to_string();
        for s in secrets {
            assert!(!text.contains(s), "{method} {path} leaked {s}: {text}");
        }
    }
    for (method, path, body) in admin_routes() {
        let r = mallory
            .call(method.clone(), path, Some(&body))
            .await
            .unwrap();
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
    }
    // Her own views hold nothing of the owner's.
    let mine = mallory
        .expect(Method::GET, "/v1/schedules", None, 200)
        .await
        .unwrap();
    assert!(mine["schedules"].as_array().unwrap().is_empty());
    let groups = mallory
        .expect(Method::GET, "/v1/job-groups", None, 200)
        .await
        .unwrap();
    assert!(
        groups["job_groups"].as_array().unwrap().is_empty(),
        "{groups}"
    );
    let keys = mallory
        .expect(Method::GET, "/v1/api-keys", None, 200)
        .await
        .unwrap();
    assert_eq!(keys["api_keys"].as_array().unwrap().len(), 1, "{keys}");
    assert!(!keys.to_string().contains(&key), "{keys}");
    let cred = mallory
        .expect(Method::GET, "/v1/credentials/jquants-v2", None, 200)
        .await
        .unwrap();
    assert_ne!(cred, before.2, "her credential is her own");
    // Deleting "her" credential removes hers only.
    mallory
        .expect(Method::DELETE, "/v1/credentials/jquants-v2", None, 204)
        .await
        .unwrap();

    let after = snapshot(&w.user, &group, &schedule).await;
    assert_eq!(after, before, "nothing of the owner's changed");
}
