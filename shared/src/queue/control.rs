//! What a consumer does with a message besides acknowledging it: defer it (a longer
//! visibility timeout, so a retry waits without sleeping in the Lambda and without the
//! message counting toward the DLQ early), dead-letter it at once (a poison message that no
//! retry can fix), and move dead letters back after a fix (redrive).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};

/// Message operations of the job queue.
#[async_trait]
pub trait MessageControl: Send + Sync + std::fmt::Debug {
    /// Makes a received message visible again only after `delay` (at most 12 hours).
    async fn defer(&self, receipt_handle: &str, delay: Duration) -> anyhow::Result<()>;
    /// Sends a copy of `body` to the dead-letter queue with the reason attached; the caller
    /// then acknowledges the original.
    async fn dead_letter(&self, body: &str, reason: &str) -> anyhow::Result<()>;
}

/// The SQS adapter.
#[derive(Debug, Clone)]
pub struct SqsMessageControl {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    dead_letter_url: String,
}

impl SqsMessageControl {
    /// Control of `queue_url`, whose dead letters go to `dead_letter_url`.
    pub fn new(
        client: aws_sdk_sqs::Client,
        queue_url: impl Into<String>,
        dead_letter_url: impl Into<String>,
    ) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            dead_letter_url: dead_letter_url.into(),
        }
    }
}

/// SQS's ceiling for a visibility timeout.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);

#[async_trait]
impl MessageControl for SqsMessageControl {
    async fn defer(&self, receipt_handle: &str, delay: Duration) -> anyhow::Result<()> {
        let secs = delay.min(MAX_VISIBILITY).as_secs() as i32;
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs)
            .send()
            .await?;
        Ok(())
    }

    async fn dead_letter(&self, body: &str, reason: &str) -> anyhow::Result<()> {
        let reason = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()?;
        self.client
            .send_message()
            .queue_url(&self.dead_letter_url)
            .message_body(body)
            .message_attributes("reason", reason)
            .send()
            .await?;
        Ok(())
    }
}

/// Moves up to `max` messages from the dead-letter queue back to the job queue (sent, then
/// deleted: a crash in between leaves a duplicate, which consumers tolerate, never a loss).
/// Returns how many moved.
pub async fn redrive(
    client: &aws_sdk_sqs::Client,
    dead_letter_url: &str,
    queue_url: &str,
    max: usize,
) -> anyhow::Result<usize> {
    let mut moved = 0;
    while moved < max {
        let out = client
            .receive_message()
            .queue_url(dead_letter_url)
            .max_number_of_messages((max - moved).min(10) as i32)
            .wait_time_seconds(0)
            .send()
            .await?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(m.body().unwrap_or_default())
                    .build()
                    .expect("id and body are set")
            })
            .collect::<Vec<_>>();
        let sent = client
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await?;
        let failed: std::collections::HashSet<usize> = sent
            .failed
            .iter()
            .filter_map(|f| f.id.parse().ok())
            .collect();
        for (i, m) in messages.iter().enumerate() {
            if failed.contains(&i) {
                continue;
            }
            if let Some(handle) = m.receipt_handle() {
                client
                    .delete_message()
                    .queue_url(dead_letter_url)
                    .receipt_handle(handle)
                    .send()
                    .await?;
                moved += 1;
            }
        }
        if !failed.is_empty() {
            anyhow::bail!(
                "SQS refused {} redriven messages; they stay in the dead-letter queue",
                failed.len()
            );
        }
    }
    Ok(moved)
}

/// Records what a consumer asked for, for tests.
#[cfg(feature = "test-util")]
#[derive(Debug, Default)]
pub struct RecordingControl {
    /// `(receipt handle, delay)` of every deferral.
    pub deferred: std::sync::Mutex<Vec<(String, Duration)>>,
    /// `(body, reason)` of every dead letter.
    pub dead_letters: std::sync::Mutex<Vec<(String, String)>>,
}

#[cfg(feature = "test-util")]
#[async_trait]
impl MessageControl for RecordingControl {
    async fn defer(&self, receipt_handle: &str, delay: Duration) -> anyhow::Result<()> {
        self.deferred
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((receipt_handle.into(), delay));
        Ok(())
    }

    async fn dead_letter(&self, body: &str, reason: &str) -> anyhow::Result<()> {
        self.dead_letters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((body.into(), reason.into()));
        Ok(())
    }
}
