//! Lambda's SQS event-source mapping, emulated against the emulator's real queue: receive up to
//! ten messages, hand them to the handler as an `SqsEvent`'s records, delete the ones not
//! reported as failures, and leave the failures to reappear after the visibility timeout (and
//! reach the DLQ through the queue's redrive policy), exactly as the mapping would.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsMessage};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};

/// What one poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollStats {
    /// Messages received.
    pub received: usize,
    /// Messages deleted after the handler succeeded with them.
    pub deleted: usize,
    /// Messages reported as failures (left for redelivery).
    pub failed: usize,
}

/// One receive → invoke → delete round. An `Err` from the handler leaves every message of the
/// batch to the visibility timeout, as Lambda does.
pub async fn poll_once<F, Fut>(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    wait: Duration,
    handler: F,
) -> anyhow::Result<PollStats>
where
    F: FnOnce(Vec<SqsMessage>) -> Fut,
    Fut: Future<Output = Result<SqsBatchResponse, lambda_runtime::Error>>,
{
    let out = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait.as_secs() as i32)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await?;
    let messages = out.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(PollStats::default());
    }
    let mut receipts = HashMap::new();
    let records: Vec<SqsMessage> = messages
        .into_iter()
        .map(|m| {
            let mut r = SqsMessage::default();
            r.message_id = m.message_id.clone();
            r.receipt_handle = m.receipt_handle.clone();
            r.body = m.body;
            r.attributes = m
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect();
            r.event_source = Some("aws:sqs".into());
            if let (Some(id), Some(h)) = (m.message_id, m.receipt_handle) {
                receipts.insert(id, h);
            }
            r
        })
        .collect();
    let received = records.len();
    let response = match handler(records).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "handler failed the whole batch");
            return Ok(PollStats {
                received,
                deleted: 0,
                failed: received,
            });
        }
    };
    for f in &response.batch_item_failures {
        receipts.remove(&f.item_identifier);
    }
    let failed = received - receipts.len();
    let entries: Vec<_> = receipts
        .iter()
        .enumerate()
        .map(|(i, (_, handle))| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(handle)
                .build()
                .expect("id and handle")
        })
        .collect();
    let deleted = entries.len();
    if !entries.is_empty() {
        sqs.delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await?;
    }
    Ok(PollStats {
        received,
        deleted,
        failed,
    })
}
