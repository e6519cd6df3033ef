//! The fetcher Lambda's handler: takes a batch of job messages from SQS, runs each job against
//! its provider, stores the rows and records the result, and reports the messages that should
//! be delivered again as partial batch failures.
//!
//! # Layout
//! - [`handle`]: the batch: parse each record on its own, run jobs with bounded concurrency.
//! - [`job`]: one job, as a step that returns an [`job::Outcome`].
//! - [`deps`]: the ports and caches a warm container keeps between invocations.

pub mod deps;
pub mod job;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;
use lambda_runtime::{Error, LambdaEvent};
use shared::queue::JobMessage;

pub use deps::Deps;
use job::Outcome;

/// Jobs of one batch run at once. The provider's rate limit, not this, bounds request rates.
const CONCURRENCY: usize = 4;

/// Handles one SQS batch.
pub async fn handle(event: LambdaEvent<SqsEvent>, deps: &Deps) -> Result<SqsBatchResponse, Error> {
    handle_records(event.payload.records, deps).await
}

/// The batch logic, callable without a Lambda context.
pub async fn handle_records(
    records: Vec<SqsMessage>,
    deps: &Deps,
) -> Result<SqsBatchResponse, Error> {
    // A record without an id cannot be reported on its own: retry the whole batch instead of
    // sending an empty identifier, which Lambda treats as a failure of everything.
    if records
        .iter()
        .any(|r| r.message_id.as_deref().is_none_or(str::is_empty))
    {
        return Err("SQS record without a messageId".into());
    }
    let outcomes: Vec<(String, Outcome)> = futures::stream::iter(records)
        .map(|record| async move {
            let id = record.message_id.clone().unwrap_or_default();
            (id, process_record(&record, deps).await)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    for (id, outcome) in outcomes {
        if outcome == Outcome::Redeliver {
            response.add_failure(id);
        }
    }
    Ok(response)
}

async fn process_record(record: &SqsMessage, deps: &Deps) -> Outcome {
    let Some(message) = record
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<JobMessage>(b).ok())
    else {
        tracing::warn!(message_id = ?record.message_id, "unparseable job message");
        return Outcome::Redeliver;
    };
    let attempt = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse::<u32>().ok())
        .unwrap_or(1);
    job::run(message, attempt, deps).await
}
