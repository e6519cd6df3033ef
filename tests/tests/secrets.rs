//! System secrets under rotation: after Secrets Manager moves AWSCURRENT to a new value, the
//! previous value (AWSPREVIOUS) is still accepted, so keys and operators keep working.

use devstack::client::ApiClient;
use integration_tests::World;
use reqwest::Method;
use serde_json::json;
use shared::aws::Clients;

#[tokio::test]
async fn rotated_system_secrets_accept_current_and_previous() {
    let w = World::new(1000, Default::default()).await;
    let old_admin = w.stack.admin_secret().await.unwrap();
    let cfg = &w.stack.api_config;
    for (id, value) in [
        (&cfg.admin_secret_id, "new-admin-secret-0123456789"),
        (&cfg.api_key_pepper_secret_id, "new-pepper-0123456789"),
    ] {
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
    // A freshly started API container (nothing cached) after the rotation.
    let sdk = shared::aws::load_sdk_config().await;
    let state = api::AppState::from_aws(cfg, &Clients::new(&sdk, None));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum_serve(listener, api::router(state)).await });
    let fresh = ApiClient::new(&url, None);

    let user = fresh.with_key(w.user.key().unwrap());
    user.expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .expect("a key hashed under the previous pepper still works");
    for secret in [old_admin.as_str(), "new-admin-secret-0123456789"] {
        fresh
            .with_key(secret)
            .expect(
                Method::POST,
                "/v1/admin/bootstrap",
                Some(&json!({"name": "ops"})),
                201,
            )
            .await
            .unwrap();
    }
    let r = fresh
        .with_key("not-the-secret")
        .call(
            Method::POST,
            "/v1/admin/bootstrap",
            Some(&json!({"name": "x"})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    // Keys made now are hashed under the new pepper and work too.
    let admin = fresh
        .with_key("new-admin-secret-0123456789")
        .expect(
            Method::POST,
            "/v1/admin/bootstrap",
            Some(&json!({"name": "ops3"})),
            201,
        )
        .await
        .unwrap();
    fresh
        .with_key(admin["api_key"].as_str().unwrap())
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) {
    axum::serve(listener, router).await.unwrap();
}
