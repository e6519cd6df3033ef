//! Lambda's SQS event-source mapping over the emulator's real queue, as the template configures
//! it: batches of up to `BatchSize` records gathered for up to
//! `MaximumBatchingWindowInSeconds`, at most `ScalingConfig.MaximumConcurrency` invocations at
//! once, each a synchronous invocation with an `SqsEvent`. With `ReportBatchItemFailures` the
//! records the response names stay on the queue and the rest are deleted (a response naming
//! an unknown or empty id fails the whole batch, as AWS does); without it any success deletes
//! the batch. A failed invocation (error, timeout, response too large) deletes nothing: the
//! messages come back after the queue's visibility timeout and reach the dead-letter queue
//! through its redrive policy, both the queue's own (moto's) behaviour.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use serde_json::{Value, json};

use super::{InvocationType, Target};
use crate::template::Template;

/// The mapping's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappingConfig {
    /// `BatchSize`.
    pub batch_size: usize,
    /// `MaximumBatchingWindowInSeconds`.
    pub window: Duration,
    /// `ScalingConfig.MaximumConcurrency` (2 to 1,000; unset: up to the function's).
    pub max_concurrency: usize,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    pub report_failures: bool,
}

impl MappingConfig {
    /// The SQS event of `function` in `template`.
    pub fn from_template(template: &Template, function: &str) -> anyhow::Result<Self> {
        let events = template.function_events(function, "SQS");
        let p = events
            .first()
            .with_context(|| format!("{function} has no SQS event"))?;
        let num = |v: &serde_norway::Value, default: u64| v.as_u64().unwrap_or(default);
        Ok(Self {
            batch_size: num(&p["BatchSize"], 10) as usize,
            window: Duration::from_secs(num(&p["MaximumBatchingWindowInSeconds"], 0)),
            max_concurrency: num(&p["ScalingConfig"]["MaximumConcurrency"], 1000) as usize,
            report_failures: p["FunctionResponseTypes"].as_sequence().is_some_and(|s| {
                s.iter()
                    .any(|t| t.as_str() == Some("ReportBatchItemFailures"))
            }),
        })
    }
}

/// Counts of what the mapping did.
#[derive(Debug, Default)]
pub struct MappingStats {
    /// Invocations made.
    pub batches: AtomicU64,
    /// Records delivered.
    pub records: AtomicU64,
    /// Records deleted after success.
    pub deleted: AtomicU64,
    /// Records left for redelivery (reported, or their invocation failed).
    pub left: AtomicU64,
    /// Invocations that failed as a whole.
    pub failed_invocations: AtomicU64,
}

/// A running mapping; stopped when dropped.
#[derive(Debug)]
pub struct Mapping {
    /// What it did so far.
    pub stats: Arc<MappingStats>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Mapping {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Mapping {
    /// Starts polling `queue_url` for `function`.
    pub async fn start(
        sqs: aws_sdk_sqs::Client,
        queue_url: &str,
        function: Target,
        config: MappingConfig,
    ) -> anyhow::Result<Self> {
        let arn = crate::provision::queue_arn(&sqs, queue_url).await?;
        let stats = Arc::new(MappingStats::default());
        let pollers = config.max_concurrency.max(1);
        let tasks = (0..pollers)
            .map(|_| {
                let poller = Poller {
                    sqs: sqs.clone(),
                    queue_url: queue_url.to_owned(),
                    arn: arn.clone(),
                    function: function.clone(),
                    config,
                    stats: stats.clone(),
                };
                tokio::spawn(async move { poller.run().await })
            })
            .collect();
        Ok(Self { stats, tasks })
    }
}

struct Poller {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    arn: String,
    function: Target,
    config: MappingConfig,
    stats: Arc<MappingStats>,
}

impl Poller {
    async fn run(&self) {
        loop {
            match self.gather().await {
                Ok(batch) if batch.is_empty() => {}
                Ok(batch) => self.deliver(batch).await,
                Err(e) => {
                    tracing::warn!(error = %e, "SQS mapping: receive failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// Receives up to `BatchSize` messages within the batching window (from the first one).
    async fn gather(&self) -> anyhow::Result<Vec<aws_sdk_sqs::types::Message>> {
        let mut batch = Vec::new();
        let mut window_end: Option<Instant> = None;
        loop {
            let want = (self.config.batch_size - batch.len()).min(10);
            let wait = match window_end {
                None => 1,
                Some(end) => {
                    let left = end.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    left.as_secs().clamp(0, 20) as i32
                }
            };
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(want as i32)
                .wait_time_seconds(wait)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await?;
            let got = out.messages.unwrap_or_default();
            if batch.is_empty() && got.is_empty() {
                return Ok(batch);
            }
            batch.extend(got);
            if batch.len() >= self.config.batch_size || self.config.window.is_zero() {
                break;
            }
            let end = *window_end.get_or_insert_with(|| Instant::now() + self.config.window);
            if Instant::now() >= end {
                break;
            }
        }
        Ok(batch)
    }

    async fn deliver(&self, batch: Vec<aws_sdk_sqs::types::Message>) {
        let receipts: HashMap<String, String> = batch
            .iter()
            .filter_map(|m| Some((m.message_id.clone()?, m.receipt_handle.clone()?)))
            .collect();
        let records: Vec<Value> = batch.iter().map(|m| record(m, &self.arn)).collect();
        let event = json!({ "Records": records });
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        self.stats
            .records
            .fetch_add(receipts.len() as u64, Ordering::Relaxed);
        let outcome = self
            .function
            .invoke(event.to_string().into(), InvocationType::Sync)
            .await;
        let to_delete: Vec<&String> = match outcome {
            Err(e) => {
                tracing::warn!(error = %e, "SQS mapping: invocation failed; the batch returns after the visibility timeout");
                self.stats
                    .failed_invocations
                    .fetch_add(1, Ordering::Relaxed);
                Vec::new()
            }
            Ok(payload) if self.config.report_failures => match failures(&payload, &receipts) {
                Some(failed) => receipts
                    .iter()
                    .filter(|(id, _)| !failed.contains(id.as_str()))
                    .map(|(_, h)| h)
                    .collect(),
                None => {
                    tracing::warn!(
                        "SQS mapping: the batch response names an unknown or empty id; the whole batch failed"
                    );
                    self.stats
                        .failed_invocations
                        .fetch_add(1, Ordering::Relaxed);
                    Vec::new()
                }
            },
            Ok(_) => receipts.values().collect(),
        };
        self.stats
            .left
            .fetch_add((receipts.len() - to_delete.len()) as u64, Ordering::Relaxed);
        if to_delete.is_empty() {
            return;
        }
        let entries: Vec<DeleteMessageBatchRequestEntry> = to_delete
            .iter()
            .enumerate()
            .map(|(i, h)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(*h)
                    .build()
                    .expect("id and handle set")
            })
            .collect();
        let n = entries.len() as u64;
        for chunk in entries.chunks(10) {
            if let Err(e) = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(chunk.to_vec()))
                .send()
                .await
            {
                tracing::warn!(error = %e, "SQS mapping: delete failed; the messages come back");
            }
        }
        self.stats.deleted.fetch_add(n, Ordering::Relaxed);
    }
}

/// The ids a partial-batch response reports, or `None` when it is not a valid one for this
/// batch (then Lambda fails the whole batch). A null or empty response reports none.
fn failures<'a>(
    payload: &[u8],
    receipts: &'a HashMap<String, String>,
) -> Option<std::collections::HashSet<&'a str>> {
    let v: Value = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(payload).ok()?
    };
    let mut out = std::collections::HashSet::new();
    match &v["batchItemFailures"] {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                let id = item["itemIdentifier"].as_str().filter(|s| !s.is_empty())?;
                let (known, _) = receipts.get_key_value(id)?;
                out.insert(known.as_str());
            }
        }
        _ => return None,
    }
    Some(out)
}

/// One record of an `SqsEvent`, as Lambda builds it.
fn record(m: &aws_sdk_sqs::types::Message, arn: &str) -> Value {
    let attributes: serde_json::Map<String, Value> = m
        .attributes
        .iter()
        .flatten()
        .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
        .collect();
    let message_attributes: serde_json::Map<String, Value> = m
        .message_attributes
        .iter()
        .flatten()
        .map(|(k, v)| {
            (
                k.clone(),
                json!({
                    "stringValue": v.string_value,
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": v.data_type,
                }),
            )
        })
        .collect();
    let region = arn.split(':').nth(3).unwrap_or("us-east-1");
    json!({
        "messageId": m.message_id,
        "receiptHandle": m.receipt_handle,
        "body": m.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": m.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    })
}
