//! The credential vault on the emulator's KMS: context binding, key rotation under load, and
//! the credential routes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use integration_tests::{World, require_emulator, unique};
use reqwest::Method;
use serde_json::json;
use shared::clock::SystemClock;
use shared::crypto::{self, EncryptionContext, KmsKeys};
use shared::domain::{DataSourceId, Plan, UserId};
use shared::store::CredentialStore;
use shared::store::dynamo::DynamoAccounts;
use shared::vault::{Vault, VaultError};

fn ds() -> DataSourceId {
    DataSourceId::parse("jquants-v2").unwrap()
}

async fn vault() -> (devstack::stack::LocalStack, Arc<DynamoAccounts>, Vault) {
    require_emulator();
    let s = devstack::stack::LocalStack::start(&unique("v"), Default::default())
        .await
        .unwrap();
    let store = Arc::new(DynamoAccounts::new(
        s.aws.dynamodb.clone(),
        &s.api_config.accounts_table,
    ));
    let keys = Arc::new(KmsKeys::new(
        s.aws.kms.clone(),
        &s.api_config.credentials_key_id,
    ));
    let v = Vault::new(store.clone(), keys, Arc::new(SystemClock));
    (s, store, v)
}

/// A ciphertext copied from user A's record into user B's record fails to decrypt (KMS
/// refuses the data key under B's encryption context).
#[tokio::test]
async fn a_ciphertext_copied_to_another_user_fails_to_decrypt() {
    let (_s, store, v) = vault().await;
    let (a, b) = (UserId::new(), UserId::new());
    let rec_a = v
        .store_api_key(a, &ds(), Plan::Light, "secret-of-a".into())
        .await
        .unwrap();
    let mut rec_b = v
        .store_api_key(b, &ds(), Plan::Light, "secret-of-b".into())
        .await
        .unwrap();
    rec_b.encrypted_credentials = rec_a.encrypted_credentials.clone();
    rec_b.updated_at += chrono::Duration::seconds(1);
    store.put_credential(&rec_b).await.unwrap();
    let err = v.open(b, &ds()).await.unwrap_err();
    assert!(
        matches!(
            err,
            VaultError::Crypto(shared::crypto::CryptoError::Invalid)
        ),
        "{err:?}"
    );
    assert!(
        v.open(a, &ds()).await.unwrap().is_some(),
        "A's own record still opens"
    );
}

/// Key K1, 200 credentials, alias moved to K2, the sweep runs while a reader decrypts
/// continuously: no decrypt failure, every record on K2, a second sweep changes nothing.
#[tokio::test]
async fn rotation_rewraps_every_record_while_readers_decrypt() {
    let (s, store, v) = vault().await;
    let kms = s.aws.kms.clone();
    // The sweep is the API's (POST /v1/admin/key-rotation), the reader a fetcher's: their
    // requests count as those functions' for the least-privilege check.
    let api = s.clients_for("ApiFunction");
    let sweeper = Vault::new(
        Arc::new(DynamoAccounts::new(
            api.dynamodb.clone(),
            &s.api_config.accounts_table,
        )),
        Arc::new(KmsKeys::new(
            api.kms.clone(),
            &s.api_config.credentials_key_id,
        )),
        Arc::new(SystemClock),
    );
    let fetcher = s.clients_for("FetcherFunction");
    let alias = s.api_config.credentials_key_id.clone();
    let mut users = Vec::new();
    for i in 0..200 {
        let u = UserId::new();
        v.store_api_key(u, &ds(), Plan::Light, format!("key-{i}").into())
            .await
            .unwrap();
        users.push(u);
    }
    let k1 = kms
        .describe_key()
        .key_id(&alias)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap();
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
    // K2 stands for the template's key after a replacement (the old one is retained, the
    // alias moves): the least-privilege check reads it as CredentialsKey.
    shared::aws::actions::record_resource("CredentialsKey", &k2);
    kms.update_alias()
        .alias_name(&alias)
        .target_key_id(&k2)
        .send()
        .await
        .unwrap();

    // The reader bypasses the vault's cache: every read is a real KMS decrypt.
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, failures) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let reader = {
        let store = DynamoAccounts::new(fetcher.dynamodb.clone(), &s.api_config.accounts_table);
        let keys = KmsKeys::new(fetcher.kms.clone(), &alias);
        let (stop, reads, failures, users) =
            (stop.clone(), reads.clone(), failures.clone(), users.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let u = users[i % users.len()];
                i += 7;
                let rec = store.get_credential(u, &ds()).await.unwrap().unwrap();
                let ctx = EncryptionContext {
                    user_id: u,
                    data_source_id: ds(),
                    purpose: "credentials",
                };
                match crypto::open(&keys, &rec.encrypted_credentials, &ctx).await {
                    Ok(_) => reads.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failures.fetch_add(1, Ordering::Relaxed),
                };
            }
        })
    };
    let (mut cursor, mut rewrapped, mut calls) = (None, 0, 0);
    loop {
        let r = sweeper.rotation_sweep(cursor, 37).await.unwrap();
        assert_eq!(r.current_key_arn, k2);
        assert_eq!(r.failed, 0);
        rewrapped += r.rewrapped;
        calls += 1;
        cursor = r.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    reader.await.unwrap();
    println!(
        "sweep: {calls} calls, {rewrapped} re-wrapped; reader: {} decrypts, {} failures",
        reads.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed)
    );
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "no decrypt failure during the sweep"
    );
    assert!(reads.load(Ordering::Relaxed) > 0, "the reader ran");
    assert_eq!(rewrapped, 200);
    assert!(calls >= 6, "resumed across pages");
    for u in &users {
        let rec = store.get_credential(*u, &ds()).await.unwrap().unwrap();
        assert_eq!(rec.encrypted_credentials.key_arn, k2, "every record on K2");
    }
    assert_ne!(k1, k2);
    let again = sweeper.rotation_sweep(None, 1000).await.unwrap();
    assert_eq!(
        (again.scanned, again.rewrapped, again.already_current),
        (200, 0, 200),
        "a second sweep changes nothing"
    );
}

/// PUT stores sealed metadata only; GET shows metadata, never the secret; DELETE removes it;
/// `?verify=true` refuses a key the provider rejects and stores nothing.
#[tokio::test]
async fn credential_routes_never_return_the_secret() {
    let w = World::new(1000, Default::default()).await;
    let got = w
        .user
        .expect(Method::GET, "/v1/credentials/jquants-v2", None, 200)
        .await
        .unwrap();
    assert_eq!(got["plan"], "light");
    assert!(
        got.get("key_arn").is_none(),
        "the KMS key is for administrators: {got}"
    );
    assert_eq!(got["id_token"], "absent");
    assert!(
        !got.to_string().contains(integration_tests::KEY),
        "no secret in the answer"
    );

    let bad = json!({"api_key": "not-a-sandbox-key", "plan": "light"});
    let r = w
        .user
        .call(
            Method::PUT,
            "/v1/credentials/jquants-v2?verify=true",
            Some(&bad),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("did not accept these credentials")
    );
    let still = w
        .user
        .expect(Method::GET, "/v1/credentials/jquants-v2", None, 200)
        .await
        .unwrap();
    assert_eq!(
        still["updated_at"], got["updated_at"],
        "a refused key stores nothing"
    );

    let good = json!({"api_key": integration_tests::KEY, "plan": "free"});
    let r = w
        .user
        .expect(
            Method::PUT,
            "/v1/credentials/jquants-v2?verify=true",
            Some(&good),
            200,
        )
        .await
        .unwrap();
    assert_eq!(r["plan"], "free");
    assert!(!r.to_string().contains(integration_tests::KEY));

    w.user
        .expect(Method::DELETE, "/v1/credentials/jquants-v2", None, 204)
        .await
        .unwrap();
    w.user
        .expect(Method::GET, "/v1/credentials/jquants-v2", None, 404)
        .await
        .unwrap();
    w.user
        .expect(Method::DELETE, "/v1/credentials/jquants-v2", None, 404)
        .await
        .unwrap();
    w.user
        .expect(Method::GET, "/v1/credentials/no-such-source", None, 404)
        .await
        .unwrap();
}
