//! Kill switches on the local stack: the bootstrap works once and only with the admin secret's
//! current version; an administrator disables a user (refused at once on every route, through
//! every key) and re-enables them, revokes all of a user's keys and issues a new one; a key
//! rotates only itself; answers are never cached and the KMS key's ARN is for administrators.

use devstack::client::{ApiClient, add_user};
use integration_tests::{KEY, World};
use reqwest::Method;
use serde_json::{Value, json};

/// Status, `Cache-Control` and body of a raw call (the client does not show headers).
async fn raw(
    w: &World,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, String, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", w.api_url()))
        .bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let cache = r
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, cache, body)
}

#[tokio::test]
async fn bootstrap_works_once_and_a_rotated_secret_stops_at_once() {
    let w = World::new(100, Default::default()).await;
    let secret = w.stack.admin_secret().await.unwrap();
    let again = json!({"name": "second"});
    let (status, cache, body) = raw(
        &w,
        &secret,
        Method::POST,
        "/v1/admin/bootstrap",
        Some(again.clone()),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("bootstrapped already"),
        "{body}"
    );
    assert_eq!(cache, "no-store");

    let new = "rotated-admin-secret-0123456789";
    w.stack
        .aws
        .secrets
        .put_secret_value()
        .secret_id(&w.stack.api_config.admin_secret_id)
        .secret_string(new)
        .send()
        .await
        .unwrap();
    // The same running API, nothing restarted: the old value (now AWSPREVIOUS) is refused.
    let (status, _, body) = raw(
        &w,
        &secret,
        Method::POST,
        "/v1/admin/bootstrap",
        Some(again.clone()),
    )
    .await;
    assert_eq!(status, 401, "the previous version is refused: {body}");
    let (status, _, _) = raw(&w, new, Method::POST, "/v1/admin/bootstrap", Some(again)).await;
    assert_eq!(
        status, 409,
        "the current version is accepted, and bootstrap stays done"
    );
    let users = w
        .admin
        .expect(Method::GET, "/v1/admin/users", None, 200)
        .await
        .unwrap();
    let admins = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["is_admin"] == json!(true))
        .count();
    assert_eq!(admins, 1, "one administrator only: {users}");
}

async fn whoami(client: &ApiClient) -> u16 {
    client
        .call(Method::GET, "/v1/whoami", None)
        .await
        .unwrap()
        .status
}

#[tokio::test]
async fn an_administrator_disables_revokes_and_rekeys_a_user() {
    let w = World::new(100, Default::default()).await;
    let me = w
        .user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    let id = me["user_id"].as_str().unwrap().to_owned();
    let second = w
        .user
        .expect(
            Method::POST,
            "/v1/api-keys",
            Some(&json!({"name": "ci"})),
            201,
        )
        .await
        .unwrap();
    let on_ci = w.api.with_key(second["api_key"].as_str().unwrap());

    // Listed, a page at a time.
    let (mut seen, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/admin/users?limit=1&cursor={c}"),
            None => "/v1/admin/users?limit=1".into(),
        };
        let page = w.admin.expect(Method::GET, &path, None, 200).await.unwrap();
        assert!(page["users"].as_array().unwrap().len() <= 1);
        seen.extend(
            page["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["user_id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(seen.contains(&json!(id)), "{seen:?}");
    assert_eq!(seen.len(), 2, "the administrator and the user: {seen:?}");

    // Disabled: 403 at once on every route, through every key; nothing else changes.
    let u = w
        .admin
        .expect(
            Method::POST,
            &format!("/v1/admin/users/{id}/disable"),
            None,
            200,
        )
        .await
        .unwrap();
    assert_eq!(u["disabled"], json!(true));
    for (method, path, body) in [
        (Method::GET, "/v1/whoami", None),
        (Method::GET, "/v1/job-groups", None),
        (Method::GET, "/v1/api-keys", None),
        (Method::GET, "/v1/credentials/jquants-v2", None),
        (
            Method::POST,
            "/v1/job-groups",
            Some(
                json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": ["7203"], "params": {"from": "2026-01-05", "to": "2026-01-30"}}),
            ),
        ),
        (Method::POST, "/v1/api-keys", Some(json!({}))),
    ] {
        for client in [&w.user, &on_ci] {
            let r = client
                .call(method.clone(), path, body.as_ref())
                .await
                .unwrap();
            assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
            assert!(
                r.body["detail"].as_str().unwrap().contains("disabled"),
                "{}",
                r.body
            );
        }
    }
    let admin_id = w
        .admin
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for action in ["disable", "revoke-keys"] {
        let r = w
            .admin
            .call(
                Method::POST,
                &format!("/v1/admin/users/{admin_id}/{action}"),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            r.status, 409,
            "an administrator cannot {action} themselves: {}",
            r.body
        );
    }
    let r = w
        .user
        .call(Method::POST, &format!("/v1/admin/users/{id}/enable"), None)
        .await
        .unwrap();
    assert_eq!(r.status, 403, "a disabled user cannot re-enable themselves");
    w.admin
        .expect(
            Method::POST,
            &format!("/v1/admin/users/{id}/enable"),
            None,
            200,
        )
        .await
        .unwrap();
    assert_eq!((whoami(&w.user).await, whoami(&on_ci).await), (200, 200));

    // A key rotates only itself: a stolen key cannot swap the owner's other keys for its own.
    let keys = w
        .user
        .expect(Method::GET, "/v1/api-keys", None, 200)
        .await
        .unwrap();
    let first = keys["api_keys"][0]["id"].as_str().unwrap().to_owned();
    let r = on_ci
        .call(Method::POST, &format!("/v1/api-keys/{first}/rotate"), None)
        .await
        .unwrap();
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(whoami(&w.user).await, 200, "the owner's key still works");

    // Every key revoked, the last one too, at once; an administrator issues a new one.
    let r = w
        .admin
        .expect(
            Method::POST,
            &format!("/v1/admin/users/{id}/revoke-keys"),
            None,
            200,
        )
        .await
        .unwrap();
    assert_eq!(r["revoked"], json!(2));
    assert_eq!((whoami(&w.user).await, whoami(&on_ci).await), (401, 401));
    let (status, cache, issued) = raw(
        &w,
        w.admin.key().unwrap(),
        Method::POST,
        &format!("/v1/admin/users/{id}/api-keys"),
        None,
    )
    .await;
    assert_eq!((status, cache.as_str()), (201, "no-store"), "{issued}");
    let back = w.api.with_key(issued["api_key"].as_str().unwrap());
    let again = back
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    assert_eq!(again["user_id"], json!(id));
    let r = w
        .admin
        .call(Method::POST, "/v1/admin/users/usr_nope/disable", None)
        .await
        .unwrap();
    assert_eq!(r.status, 404);

    // The KMS key's ARN is shown to administrators only.
    let mine = back
        .expect(Method::GET, "/v1/credentials/jquants-v2", None, 200)
        .await
        .unwrap();
    assert!(mine.get("key_arn").is_none(), "{mine}");
    let other = add_user(&w.api, &w.admin, KEY, "light").await.unwrap();
    assert_eq!(whoami(&other).await, 200);
}

/// A data source the operator disables gets no new work from the API: no group, and no retry
/// of an existing one (the fetcher and the scheduler refuse it too: their own tests).
#[tokio::test]
async fn a_disabled_data_source_gets_no_new_group_and_no_retry() {
    let w = World::new(100, Default::default()).await;
    let today = chrono::Utc::now().date_naive();
    let body = json!({"data_source": "yahoo", "endpoint": "chart", "symbols": ["7203"],
        "params": {"from": (today - chrono::Days::new(20)).to_string(), "to": (today - chrono::Days::new(10)).to_string()}});
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    let id = g["id"].as_str().unwrap().to_owned();
    let put = |enabled: bool| {
        let ds = json!({
            "name": "Yahoo Finance", "description": "Yahoo Finance charts and quotes (no account)",
            "provider_type": "yfinance", "is_enabled": enabled, "base_url": w.sandbox.yahoo_base_url(),
            "api_version": "v2", "rate_limit_per_minute": 60, "rate_limit_per_hour": 2000,
            "rate_limit_per_day": 20000,
        });
        let admin = w.admin.clone();
        async move {
            admin
                .expect(Method::PUT, "/v1/admin/data-sources/yahoo", Some(&ds), 200)
                .await
                .unwrap()
        }
    };
    put(false).await;
    let refused = w
        .user
        .call(Method::POST, "/v1/job-groups", Some(&body))
        .await
        .unwrap();
    assert_eq!(refused.status, 409, "{}", refused.body);
    let retry = w
        .user
        .call(Method::POST, &format!("/v1/job-groups/{id}/retry"), None)
        .await
        .unwrap();
    assert_eq!(retry.status, 409, "{}", retry.body);
    assert!(
        retry.body["detail"].as_str().unwrap().contains("disabled"),
        "{}",
        retry.body
    );
    put(true).await;
    let retry = w
        .user
        .call(Method::POST, &format!("/v1/job-groups/{id}/retry"), None)
        .await
        .unwrap();
    assert!(
        !retry.body.to_string().contains("disabled"),
        "enabled again: {}",
        retry.body
    );
}
