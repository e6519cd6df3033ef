//! What every DynamoDB adapter shares: item helpers ([`item`]), error mapping, transactions
//! retried on conflicts, batched writes; and the adapters, each beside its port, gathered here.
//! Three tables (see `infra/TABLES.md`): accounts (users, API keys, credentials, data sources),
//! jobs (groups and their jobs, kept small and apart so the per-job transactions stay cheap;
//! schedules and holdings too) and rate limits (one small item per scope, the
//! limiter's own adapter).

pub(crate) mod item;

pub use super::accounts::DynamoAccounts;
pub use super::jobs::DynamoJobs;

use aws_sdk_dynamodb::error::SdkError;

use super::StoreError;

pub(crate) fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Unavailable(anyhow::Error::new(e))
}

/// How many times a transaction cancelled only by a conflict is sent again.
const CONFLICT_RETRIES: u32 = 4;

/// Sends `tx`, and again (after about 25, 50, 100, 200 ms, jittered) when DynamoDB cancelled it
/// only because another transaction was writing the same items (`TransactionConflict`):
/// nothing of it was applied, and the other is done a moment later. Fetchers finishing jobs of
/// one group at once all write its counters; without this, one of them would send its jobs
/// back through the queue's visibility timeout.
pub(crate) async fn send_transaction(
    tx: aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder,
) -> Result<
    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput,
    SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let mut attempt = 0;
    loop {
        match tx.clone().send().await {
            Err(e)
                if attempt < CONFLICT_RETRIES
                    && matches!(
                        e.as_service_error(),
                        Some(TransactWriteItemsError::TransactionCanceledException(c))
                            if only_conflicts(c.cancellation_reasons())
                    ) =>
            {
                let jitter = u64::from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default()
                        .subsec_nanos()
                        % 25,
                );
                tokio::time::sleep(std::time::Duration::from_millis((25 << attempt) + jitter))
                    .await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Whether a cancellation was for conflicts alone: no condition failed, so sending the same
/// transaction again can succeed.
fn only_conflicts(reasons: &[aws_sdk_dynamodb::types::CancellationReason]) -> bool {
    let code = |c: &str| reasons.iter().any(|r| r.code() == Some(c));
    code("TransactionConflict") && !code("ConditionalCheckFailed")
}

/// Writes up to 25 requests with `BatchWriteItem`, resending what DynamoDB leaves unprocessed
/// (it does under throttling) with exponential backoff.
pub(crate) async fn batch_write(
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

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::CancellationReason;

    use super::only_conflicts;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|c| CancellationReason::builder().code(*c).build())
            .collect()
    }

    #[test]
    fn only_a_conflict_without_a_failed_condition_is_sent_again() {
        assert!(only_conflicts(&reasons(&["None", "TransactionConflict"])));
        assert!(!only_conflicts(&reasons(&[
            "ConditionalCheckFailed",
            "TransactionConflict"
        ])));
        assert!(!only_conflicts(&reasons(&[
            "ConditionalCheckFailed",
            "None"
        ])));
        assert!(!only_conflicts(&reasons(&["None", "None"])));
    }
}
