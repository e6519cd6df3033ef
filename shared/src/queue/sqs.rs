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

    /// One `SendMessageBatch` of at most ten; returns the entries SQS rejected.
    async fn send_batch(
        &self,
        batch: &[(JobMessage, i32)],
    ) -> Result<Vec<(JobMessage, i32)>, anyhow::Error> {
        let entries = batch
            .iter()
            .enumerate()
            .map(|(i, (m, delay))| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(serde_json::to_string(m).expect("ids serialize"))
                    .set_delay_seconds((*delay > 0).then_some(*delay))
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

    /// Sends every message (with its delay, seconds) in batches of ten, resending what SQS
    /// rejected once.
    async fn send_all(&self, messages: &[(JobMessage, i32)]) -> Result<(), QueueError> {
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
}

#[async_trait]
impl JobQueue for SqsJobQueue {
    async fn enqueue(&self, messages: &[JobMessage]) -> Result<(), QueueError> {
        let entries: Vec<_> = messages.iter().map(|m| (*m, 0)).collect();
        self.send_all(&entries).await
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
        messages: &[(JobMessage, std::time::Duration)],
    ) -> Result<(), QueueError> {
        let entries: Vec<_> = messages
            .iter()
            .map(|(m, d)| {
                // Rounded up: SQS counts whole seconds, and early is a wasted delivery.
                let secs = d.min(&super::MAX_DELAY).as_secs_f64().ceil() as i32;
                (*m, secs)
            })
            .collect();
        self.send_all(&entries).await
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
