//! System secrets under rotation. The API-key pepper: after Secrets Manager moves AWSCURRENT
//! to a new value, keys hashed under the previous one (AWSPREVIOUS) still work, and each is
//! re-hashed under the current one on its first use, so a second rotation does not lock it
//! out. The admin bootstrap secret: only AWSCURRENT is accepted (a leaked secret is revoked by
//! rotating it).

use devstack::client::ApiClient;
use integration_tests::World;
use reqwest::Method;
use serde_json::json;
use shared::aws::Clients;

/// A freshly started API container (nothing cached), at its URL.
async fn fresh_api(cfg: &shared::config::Config) -> ApiClient {
    let sdk = shared::aws::load_sdk_config().await;
    let state = api::AppState::from_aws(cfg, &Clients::for_function(&sdk, None, "ApiFunction"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum_serve(listener, api::router(state)).await });
    ApiClient::new(&url, None)
}

async fn rotate(w: &World, id: &str, value: &str) {
    w.stack
        .aws
        .secrets
        .put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn rotated_pepper_keeps_keys_working_and_rotated_admin_secret_revokes_the_old() {
    let w = World::new(1000, Default::default()).await;
    let old_admin = w.stack.admin_secret().await.unwrap();
    let cfg = &w.stack.api_config;
    rotate(&w, &cfg.admin_secret_id, "new-admin-secret-0123456789").await;
    rotate(&w, &cfg.api_key_pepper_secret_id, "new-pepper-0123456789").await;
    let fresh = fresh_api(cfg).await;

    let user = fresh.with_key(w.user.key().unwrap());
    user.expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .expect("a key hashed under the previous pepper still works");
    for (secret, status) in [
        (old_admin.as_str(), 401),
        ("not-the-secret", 401),
        ("new-admin-secret-0123456789", 409),
    ] {
        let r = fresh
            .with_key(secret)
            .call(
                Method::POST,
                "/v1/admin/bootstrap",
                Some(&json!({"name": "ops"})),
            )
            .await
            .unwrap();
        assert_eq!(r.status, status, "{}", r.body);
    }
    // Keys made now are hashed under the new pepper and work too.
    let made = user
        .expect(Method::POST, "/v1/api-keys", Some(&json!({})), 201)
        .await
        .unwrap();

    // A second rotation: the first pepper is gone from Secrets Manager. The user's first key
    // was re-hashed when it was used above, so it still works.
    rotate(&w, &cfg.api_key_pepper_secret_id, "third-pepper-0123456789").await;
    let fresh = fresh_api(cfg).await;
    for key in [w.user.key().unwrap(), made["api_key"].as_str().unwrap()] {
        fresh
            .with_key(key)
            .expect(Method::GET, "/v1/whoami", None, 200)
            .await
            .expect("re-hashed on use, so a second rotation keeps it");
    }
    let r = fresh
        .with_key(w.admin.key().unwrap())
        .call(Method::GET, "/v1/whoami", None)
        .await
        .unwrap();
    assert_eq!(
        r.status, 401,
        "a key not used between two rotations is lost (its hash is under neither version)"
    );
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) {
    axum::serve(listener, router).await.unwrap();
}
