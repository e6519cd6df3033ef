//! The API-key life cycle on the local stack, as a user drives it: a created key authenticates
//! at once; a revoked one answers 401 at once; a rotation swaps the secrets atomically; the
//! last active key cannot be revoked and the active keys are capped; listings never carry a
//! secret or a hash.

use devstack::client::{ApiClient, add_user};
use integration_tests::{KEY, World};
use reqwest::Method;
use serde_json::{Value, json};

async fn whoami(client: &ApiClient) -> u16 {
    client
        .call(Method::GET, "/v1/whoami", None)
        .await
        .unwrap()
        .status
}

/// The listing; asserts it holds no secret of `secrets` and no hash-like field.
async fn listing(client: &ApiClient, secrets: &[&str]) -> Vec<Value> {
    let body = client
        .expect(Method::GET, "/v1/api-keys", None, 200)
        .await
        .unwrap();
    let text = body.to_string();
    for s in secrets {
        assert!(!text.contains(s), "the listing shows a secret: {text}");
    }
    let keys = body["api_keys"].as_array().unwrap().clone();
    for k in &keys {
        let mut fields: Vec<&str> = k.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            ["created_at", "display_prefix", "id", "name", "revoked_at"],
            "{k}"
        );
        assert!(k["display_prefix"].as_str().unwrap().len() <= 10, "{k}");
    }
    keys
}

async fn create(client: &ApiClient, body: &Value) -> (String, String) {
    let k = client
        .expect(Method::POST, "/v1/api-keys", Some(body), 201)
        .await
        .unwrap();
    let secret = k["api_key"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(k["display_prefix"].as_str().unwrap()));
    (k["id"].as_str().unwrap().to_owned(), secret)
}

#[tokio::test]
async fn keys_are_created_revoked_and_rotated_with_immediate_effect() {
    let w = World::new(100, Default::default()).await;
    let first_secret = w.user.key().unwrap().to_owned();
    let keys = listing(&w.user, &[&first_secret]).await;
    assert_eq!(keys.len(), 1);
    let first = keys[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(keys[0]["revoked_at"], Value::Null);

    // A new key works at once, as the same user.
    let (laptop, laptop_secret) = create(&w.user, &json!({"name": "laptop"})).await;
    let on_laptop = w.api.with_key(&laptop_secret);
    let me = on_laptop
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    let owner = w
        .user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    assert_eq!(me["user_id"], owner["user_id"]);
    let keys = listing(&w.user, &[&first_secret, &laptop_secret]).await;
    assert_eq!(
        (keys.len(), &keys[1]["id"], &keys[1]["name"]),
        (2, &json!(laptop), &json!("laptop"))
    );
    for bad in [
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"label": "x"}),
    ] {
        let r = w
            .user
            .call(Method::POST, "/v1/api-keys", Some(&bad))
            .await
            .unwrap();
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }

    // Rotation: the old secret answers 401 at once, the new one works, the name carries over.
    let rotated = on_laptop
        .expect(
            Method::POST,
            &format!("/v1/api-keys/{laptop}/rotate"),
            None,
            201,
        )
        .await
        .unwrap();
    let rotated_secret = rotated["api_key"].as_str().unwrap().to_owned();
    let rotated_id = rotated["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&rotated["replaces"], &rotated["name"]),
        (&json!(laptop), &json!("laptop"))
    );
    assert_eq!(whoami(&on_laptop).await, 401);
    let on_laptop = w.api.with_key(&rotated_secret);
    assert_eq!(whoami(&on_laptop).await, 200);
    let r = on_laptop
        .call(Method::POST, &format!("/v1/api-keys/{laptop}/rotate"), None)
        .await
        .unwrap();
    assert_eq!(r.status, 409, "a revoked key cannot be rotated: {}", r.body);

    // Revocation: immediate, also of the key making the request; repeating it changes nothing.
    on_laptop
        .expect(Method::DELETE, &format!("/v1/api-keys/{first}"), None, 204)
        .await
        .unwrap();
    assert_eq!(
        whoami(&w.user).await,
        401,
        "the revoked key is refused at once"
    );
    let keys = listing(
        &on_laptop,
        &[&first_secret, &laptop_secret, &rotated_secret],
    )
    .await;
    let revoked: Vec<&Value> = keys.iter().filter(|k| !k["revoked_at"].is_null()).collect();
    assert_eq!(revoked.len(), 2, "{keys:?}");
    on_laptop
        .expect(Method::DELETE, &format!("/v1/api-keys/{first}"), None, 204)
        .await
        .unwrap();
    assert_eq!(listing(&on_laptop, &[]).await, keys, "nothing changed");

    // The last active key stays: 409, and it still works.
    let r = on_laptop
        .call(Method::DELETE, &format!("/v1/api-keys/{rotated_id}"), None)
        .await
        .unwrap();
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("only active API key"),
        "{}",
        r.body
    );
    assert_eq!(whoami(&on_laptop).await, 200);

    // Up to 10 active keys; a key may revoke itself while another remains.
    let mut made = Vec::new();
    for i in 1..10 {
        made.push(create(&on_laptop, &json!({"name": format!("k{i}")})).await);
    }
    let r = on_laptop
        .call(Method::POST, "/v1/api-keys", Some(&json!({})))
        .await
        .unwrap();
    assert_eq!(r.status, 409, "the 11th active key: {}", r.body);
    let (own_id, own_secret) = &made[0];
    let own = w.api.with_key(own_secret);
    own.expect(Method::DELETE, &format!("/v1/api-keys/{own_id}"), None, 204)
        .await
        .unwrap();
    assert_eq!(whoami(&own).await, 401);
    create(&on_laptop, &json!({})).await;

    // Another user's key ids are not found, and change nothing.
    let mallory = add_user(&w.api, &w.admin, KEY, "light").await.unwrap();
    for (method, path) in [
        (Method::DELETE, format!("/v1/api-keys/{rotated_id}")),
        (Method::POST, format!("/v1/api-keys/{rotated_id}/rotate")),
    ] {
        let r = mallory.call(method, &path, None).await.unwrap();
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
    assert_eq!(whoami(&on_laptop).await, 200);
    for id in ["key_nope", "grp_00000000000000000000000000000000"] {
        let r = on_laptop
            .call(Method::DELETE, &format!("/v1/api-keys/{id}"), None)
            .await
            .unwrap();
        assert_eq!(r.status, 404, "{id}");
    }
}
