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
pub mod retry;

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
    let outcomes: Vec<(String, bool)> = futures::stream::iter(records)
        .map(|record| async move {
            let id = record.message_id.clone().unwrap_or_default();
            let outcome = process_record(&record, deps).await;
            (id, settle(&record, outcome, deps).await)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    for (id, redeliver) in outcomes {
        if redeliver {
            response.add_failure(id);
        }
    }
    Ok(response)
}

/// Carries out an outcome on the message; returns whether it must be reported as a failure.
async fn settle(record: &SqsMessage, outcome: Outcome, deps: &Deps) -> bool {
    match outcome {
        Outcome::Done => false,
        Outcome::Redeliver { after } => {
            if let (Some(delay), Some(handle)) = (after, record.receipt_handle.as_deref()) {
                // Without it the queue's visibility timeout applies: later, never lost.
                if let Err(e) = deps.control.defer(handle, delay).await {
                    tracing::warn!(error = %e, "could not defer the message");
                }
            }
            true
        }
        Outcome::DeadLetter(reason) => {
            let body = record.body.as_deref().unwrap_or_default();
            match deps.control.dead_letter(body, reason).await {
                Ok(()) => {
                    tracing::warn!(message_id = ?record.message_id, reason, "message sent to the dead-letter queue");
                    false
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not dead-letter the message; it will be redelivered");
                    true
                }
            }
        }
    }
}

async fn process_record(record: &SqsMessage, deps: &Deps) -> Outcome {
    let Some(message) = record
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<JobMessage>(b).ok())
    else {
        return Outcome::DeadLetter("unparseable job message");
    };
    let attempt = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse::<u32>().ok())
        .unwrap_or(1);
    job::run(message, attempt, deps).await
}
