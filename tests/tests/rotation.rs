//! The re-wrap after a key rotation runs on its own: the scheduler's ticks move every
//! credential onto the key the alias names once it moves, a page a tick, its progress shown by
//! `GET /v1/admin/key-rotation`; a credential re-wrapped still opens (a fetch decrypts it).

use std::sync::Arc;

use integration_tests::World;
use reqwest::Method;
use shared::clock::ManualClock;
use shared::domain::{DataSourceId, UserId};
use shared::store::CredentialStore;
use shared::store::dynamo::DynamoAccounts;

#[tokio::test]
async fn the_scheduler_rewraps_credentials_after_the_alias_moves() {
    let mut w = World::new(100, Default::default()).await;
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let deps = w.scheduler(clock.clone());
    let kms = &w.stack.aws.kms;
    let alias = w.stack.api_config.credentials_key_id.clone();

    // The first ticks sweep for the key in place: nothing to re-wrap, then done.
    let first = scheduler::tick(&deps).await.unwrap();
    assert_eq!(first.rewrapped, 0);
    let p = w
        .admin
        .expect(Method::GET, "/v1/admin/key-rotation", None, 200)
        .await
        .unwrap();
    assert!(p["finished_at"].is_string(), "{p}");
    assert_eq!(p["rewrapped"], 0);

    // The alias moves to a new key.
    let k2 = kms
        .create_key()
        .description("K2")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap();
    shared::aws::actions::record_resource("CredentialsKey", &k2);
    kms.update_alias()
        .alias_name(&alias)
        .target_key_id(&k2)
        .send()
        .await
        .unwrap();
    let next = scheduler::tick(&deps).await.unwrap();
    assert!(next.rewrapped >= 1, "{next:?}");
    let p = w
        .admin
        .expect(Method::GET, "/v1/admin/key-rotation", None, 200)
        .await
        .unwrap();
    assert_eq!(p["key_arn"], k2.as_str(), "{p}");
    assert!(p["finished_at"].is_string() && p["failed"] == 0, "{p}");

    // The user's credential is on the new key and still opens: the user reads it and fetches.
    let me = w
        .user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    let user = UserId::parse(me["user_id"].as_str().unwrap()).unwrap();
    let accounts = DynamoAccounts::new(
        w.stack.aws.dynamodb.clone(),
        &w.stack.api_config.accounts_table,
    );
    let ds = DataSourceId::parse("jquants-v2").unwrap();
    let record = accounts.get_credential(user, &ds).await.unwrap().unwrap();
    assert_eq!(record.encrypted_credentials.key_arn, k2);
    let again = scheduler::tick(&deps).await.unwrap();
    assert_eq!(again.rewrapped, 0, "a finished sweep re-wraps nothing");
    // A fetch opens the credential (a KMS decrypt under the new key).
    w.stack.start_pollers(1);
    let (rows, fetching) = w
        .user
        .read_data("/v1/data/jquants-v2/eq-bars-daily?symbols=72030&from=2026-08-03&to=2026-08-07")
        .await
        .unwrap();
    assert_eq!(fetching.len(), 1);
    assert_eq!(
        rows.len(),
        5,
        "a week of bars fetched with the re-wrapped key"
    );
    w.stack.stop_pollers();
}
