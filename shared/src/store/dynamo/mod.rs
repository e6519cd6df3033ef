//! DynamoDB adapters of the store ports. Three tables (see `infra/TABLES.md`): accounts (users,
//! API keys, credentials, data sources), jobs (groups and their jobs, kept small and apart so
//! the per-job transactions stay cheap) and market data (fetched rows).

mod accounts;
mod item;
mod jobs;
mod rows;

pub use accounts::DynamoAccounts;
pub use jobs::DynamoJobs;
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
