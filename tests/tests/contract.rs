//! The store, cipher and queue contracts against the real adapters on the emulator: the same
//! suites the in-memory fakes pass (`shared::contract`).

use integration_tests::{require_emulator, unique};
use shared::contract;
use shared::crypto::KmsKeys;
use shared::limiter::store::DynamoLimits;
use shared::store::dynamo::{DynamoAccounts, DynamoJobs};

async fn stack() -> devstack::stack::LocalStack {
    require_emulator();
    devstack::stack::LocalStack::start(&unique("c"), Default::default())
        .await
        .expect("stack")
}

#[tokio::test]
async fn dynamodb_accounts_keep_the_contracts() {
    let s = stack().await;
    let a = DynamoAccounts::new(s.aws.dynamodb.clone(), &s.api_config.accounts_table);
    contract::user_store(&a).await;
    contract::api_keys(&a).await;
    contract::kill_switches(&a).await;
    contract::user_listing(&a).await;
    contract::data_source_store(&a).await;
    contract::credential_store(&a).await;
    // On a second stack: the listing contract needs a store holding no other credentials.
    let s2 = stack().await;
    contract::credential_listing(&DynamoAccounts::new(
        s2.aws.dynamodb.clone(),
        &s2.api_config.accounts_table,
    ))
    .await;
}

#[tokio::test]
async fn dynamodb_jobs_keep_the_contract() {
    let s = stack().await;
    contract::fan_out(&DynamoJobs::new(
        s.aws.dynamodb.clone(),
        &s.api_config.jobs_table,
    ))
    .await;
    contract::job_cancel_and_retry(&DynamoJobs::new(
        s.aws.dynamodb.clone(),
        &s.api_config.jobs_table,
    ))
    .await;
    contract::job_store(&DynamoJobs::new(
        s.aws.dynamodb.clone(),
        &s.api_config.jobs_table,
    ))
    .await;
    contract::job_batches(&DynamoJobs::new(
        s.aws.dynamodb.clone(),
        &s.api_config.jobs_table,
    ))
    .await;
    contract::holding_store(&DynamoJobs::new(
        s.aws.dynamodb.clone(),
        &s.api_config.jobs_table,
    ))
    .await;
    contract::parked_jobs(&DynamoJobs::new(
        s.aws.dynamodb.clone(),
        &s.api_config.jobs_table,
    ))
    .await;
    contract::schedule_store(&DynamoJobs::new(
        s.aws.dynamodb.clone(),
        &s.api_config.jobs_table,
    ))
    .await;
    contract::group_listing(&DynamoJobs::new(
        s.aws.dynamodb.clone(),
        &s.api_config.jobs_table,
    ))
    .await;
    contract::user_quotas(&DynamoJobs::new(
        s.aws.dynamodb.clone(),
        &s.api_config.jobs_table,
    ))
    .await;
    contract::group_job_listing(&DynamoJobs::new(
        s.aws.dynamodb.clone(),
        &s.api_config.jobs_table,
    ))
    .await;
}

#[tokio::test]
async fn kms_keeps_the_key_service_contract() {
    let s = stack().await;
    contract::key_service(&KmsKeys::new(
        s.aws.kms.clone(),
        &s.api_config.credentials_key_id,
    ))
    .await;
}

#[tokio::test]
async fn dynamodb_limits_keep_the_contract() {
    let s = stack().await;
    let limits = DynamoLimits::new(s.aws.dynamodb.clone(), &s.fetcher_config.rate_limits_table);
    contract::limiter_store(&limits).await;
    contract::limiter_under_contention(std::sync::Arc::new(limits)).await;
}
