//! SQS adapter: `SendMessageBatch` in tens, resending entries SQS reports as failed once.

use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use super::{FanOutMessage, JobMessage, JobQueue, QueueError};
use crate::domain::JobGroupId;

/// The job queue on SQS.
#[derive(Debug, Clone)]
pub struct SqsJobQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    dead_letter_url: String,
}

impl SqsJobQueue {
    /// The queue at `queue_url` whose dead letters go to `dead_letter_url`.
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

    async fn send_batch(&self, batch: &[JobMessage]) -> Result<Vec<JobMessage>, anyhow::Error> {
        let entries = batch
            .iter()
            .enumerate()
            .map(|(i, m)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(serde_json::to_string(m).expect("ids serialize"))
                    .build()
                    .expect("id and body are set")
            })
            .collect::<Vec<_>>();
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await?;
        Ok(out
            .failed
            .iter()
            .filter_map(|f| f.id.parse::<usize>().ok())
            .map(|i| batch[i])
            .collect())
    }
}

#[async_trait]
impl JobQueue for SqsJobQueue {
    async fn enqueue(&self, messages: &[JobMessage]) -> Result<(), QueueError> {
        let mut failed = 0;
        let mut last_error = None;
        for chunk in messages.chunks(10) {
            let retry = match self.send_batch(chunk).await {
                Ok(rejected) if rejected.is_empty() => continue,
                Ok(rejected) => rejected,
                Err(e) => {
                    last_error = Some(e);
                    chunk.to_vec()
                }
            };
            match self.send_batch(&retry).await {
                Ok(rejected) => failed += rejected.len(),
                Err(e) => {
                    failed += retry.len();
                    last_error = Some(e);
                }
            }
        }
        if failed == 0 {
            return Ok(());
        }
        Err(QueueError {
            failed,
            total: messages.len(),
            source: last_error.unwrap_or_else(|| anyhow::anyhow!("SQS rejected batch entries")),
        })
    }

    async fn start_fan_out(&self, group: JobGroupId) -> Result<(), QueueError> {
        let body = serde_json::to_string(&FanOutMessage {
            job_group_id: group,
            fan_out: true,
        })
        .expect("ids serialize");
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| QueueError {
                failed: 1,
                total: 1,
                source: e.into(),
            })?;
        Ok(())
    }

    async fn enqueue_delayed(
        &self,
        message: &JobMessage,
        delay: std::time::Duration,
    ) -> Result<(), QueueError> {
        let body = serde_json::to_string(message).expect("ids serialize");
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay.min(super::MAX_DELAY).as_secs() as i32)
            .send()
            .await
            .map_err(|e| QueueError {
                failed: 1,
                total: 1,
                source: e.into(),
            })?;
        Ok(())
    }

    async fn redrive(&self, max: usize) -> Result<usize, QueueError> {
        super::redrive(&self.client, &self.dead_letter_url, &self.queue_url, max)
            .await
            .map_err(|source| QueueError {
                failed: 0,
                total: max,
                source,
            })
    }
}
