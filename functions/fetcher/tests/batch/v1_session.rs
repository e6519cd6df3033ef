//! A J-Quants V1 account: one sign-in, its tokens sealed back into the credential.

use super::*;

/// A J-Quants V1 account stored as a login: the first job signs in and takes an id token (two
/// renewal requests, each under a permit), seals both tokens back into the credential, and the
/// next batch reuses the warm session: no second sign-in.
#[tokio::test]
async fn a_v1_account_signs_in_once_and_seals_its_tokens_back() {
    const MAIL: &str = "quant@example.com";
    let r = rig(sandbox::Plan::Light).await;
    r.sandbox
        .add_v1_user(MAIL, "correct horse", sandbox::Plan::Light);
    let v1 = DataSource {
        id: DataSourceId::parse("jquants-v1").unwrap(),
        name: "J-Quants V1".into(),
        description: "the legacy token flow".into(),
        base_url: r.sandbox.v1_base_url(),
        api_version: shared::domain::ApiVersion::V1,
        ..DataSource::jquants_v2("")
    };
    r.deps.ports.sources.put_data_source(&v1).await.unwrap();
    let login = shared::domain::CredentialSecret::V1Login {
        mail_address: MAIL.to_owned().into(),
        password: "correct horse".to_owned().into(),
    };
    r.deps
        .ports
        .vault
        .store(r.user, &v1.id, Plan::Light, &login, None)
        .await
        .unwrap();
    let stored = r
        .deps
        .ports
        .vault
        .record(r.user, &v1.id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.refresh_token.is_none() && stored.id_token.is_none());
    for batch in 0..2 {
        let g = group_on(&r, r.user, v1.id.clone(), "prices-daily-quotes", &codes(1)).await;
        let resp =
            fetcher::handle_records(vec![record(&format!("v1-{batch}"), g.id, 0, 1)], &r.deps)
                .await
                .unwrap();
        assert!(resp.batch_item_failures.is_empty());
        assert_eq!(
            job_0(&r, g.id).await.status,
            JobStatus::Completed,
            "batch {batch}"
        );
    }
    let by_path = r.sandbox.stats().keys[MAIL].by_path.clone();
    assert_eq!(by_path.get("/token/auth_user"), Some(&1), "{by_path:?}");
    assert_eq!(by_path.get("/token/auth_refresh"), Some(&1), "{by_path:?}");
    assert_eq!(by_path.get("/prices/daily_quotes"), Some(&2), "{by_path:?}");
    let stored = r
        .deps
        .ports
        .vault
        .record(r.user, &v1.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.refresh_token.is_some() && stored.id_token.is_some(),
        "renewed tokens sealed into the credential"
    );
}
