//! DynamoDB adapters of the store ports. Four tables (see `infra/TABLES.md`): accounts (users,
//! API keys, credentials, data sources), jobs (groups and their jobs, kept small and apart so
//! the per-job transactions stay cheap), market data (fetched rows) and rate limits (one small
//! item per scope).

mod accounts;
mod item;
mod jobs;
mod limits;
mod parking;
mod rows;
mod schedules;

pub use accounts::DynamoAccounts;
pub use jobs::DynamoJobs;
pub use limits::DynamoLimits;
pub use rows::DynamoRows;

use aws_sdk_dynamodb::error::SdkError;

use super::StoreError;

fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Unavailable(anyhow::Error::new(e))
}

/// Writes up to 25 requests with `BatchWriteItem`, resending what DynamoDB leaves unprocessed
/// (it does under throttling) with exponential backoff.
async fn batch_write(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    mut pending: Vec<aws_sdk_dynamodb::types::WriteRequest>,
) -> Result<(), StoreError> {
    for attempt in 0..=8 {
        let out = client
            .batch_write_item()
            .request_items(table, pending)
            .send()
            .await
            .map_err(unavailable)?;
        pending = out
            .unprocessed_items
            .and_then(|mut m| m.remove(table))
            .unwrap_or_default();
        if pending.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
    }
    Err(StoreError::Unavailable(anyhow::anyhow!(
        "items left unprocessed after retries"
    )))
}
