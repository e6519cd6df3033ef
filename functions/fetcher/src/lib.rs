//! The fetcher Lambda's handler: takes a batch of job messages from SQS, runs each job against
//! its provider, stores the rows and records the result, and reports the messages that should
//! be delivered again as partial batch failures.
//!
//! # Layout
//! - [`handle`]: the batch: parse each record on its own, fan-outs aside, jobs together.
//! - `batch`: the batch's jobs, sharing reads, permits and result transactions.
//! - [`job`]: one job's steps, ending in a [`job::Outcome`].
//! - [`deps`]: the ports and caches a warm container keeps between invocations.

mod access;
mod batch;
mod calendar;
mod deadline;
pub mod deps;
mod failure;
pub mod job;
mod plan;
mod providers;
mod request;
pub mod retry;

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;
use lambda_runtime::{Error, LambdaEvent};
use shared::domain::JobGroupId;
use shared::metrics::BatchMetrics;
use shared::queue::{JobMessage, QueueMessage};

pub use deps::{Deps, Ports};
use job::Outcome;

/// How long one invocation fans out before handing the rest to a new message (the function
/// timeout is 60 s).
const FAN_OUT_BUDGET: Duration = Duration::from_secs(20);

/// Writes and enqueues a group's jobs until done or out of time; then continues in a new
/// message. Failures redeliver this one, which resumes from the stored cursors.
async fn fan_out(group: JobGroupId, deps: &Deps) -> Outcome {
    let budget = Instant::now() + FAN_OUT_BUDGET;
    let deadline = deadline::stop_at().map_or(budget, |stop| stop.min(budget));
    let steps = || {
        shared::fanout::run(
            deps.ports.jobs.as_ref(),
            deps.ports.queue.as_ref(),
            deps.clock.as_ref(),
            group,
            deadline,
        )
    };
    let mut run = steps().await;
    if let Err(shared::fanout::FanOutError::Unplanned) = run {
        if let Err(outcome) = plan::plan(group, deps).await {
            return outcome;
        }
        run = steps().await;
    }
    match run {
        Ok(None) => Outcome::DeadLetter("fan-out of a group that does not exist"),
        Ok(Some(p)) if p.done() => {
            tracing::info!(job_group_id = %group, jobs = p.total, "fan-out done");
            Outcome::Done
        }
        Ok(Some(p)) => match deps.ports.queue.start_fan_out(group).await {
            Ok(()) => {
                tracing::info!(job_group_id = %group, written = p.written, enqueued = p.enqueued, "fan-out continues");
                Outcome::Done
            }
            Err(_) => Outcome::Redeliver { after: None },
        },
        Err(shared::fanout::FanOutError::Busy) => {
            tracing::info!(job_group_id = %group, "another fan-out step holds the next chunk; will resume after it");
            Outcome::Redeliver {
                after: Some(Duration::from_secs(15)),
            }
        }
        Err(e) => {
            tracing::warn!(job_group_id = %group, error = %e, "fan-out step failed; will resume");
            Outcome::Redeliver {
                after: Some(Duration::from_secs(5)),
            }
        }
    }
}

/// Handles one SQS batch.
/// Jobs stop a margin before the invocation's deadline and continue in a fresh invocation.
pub async fn handle(event: LambdaEvent<SqsEvent>, deps: &Deps) -> Result<SqsBatchResponse, Error> {
    let deadline = std::time::UNIX_EPOCH + Duration::from_millis(event.context.deadline);
    deadline::within(
        deadline,
        deps.provider_timeout,
        handle_records(event.payload.records, deps),
    )
    .await
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
    let mut outcomes: Vec<Option<Outcome>> = records.iter().map(|_| None).collect();
    let (mut jobs, mut fan_outs) = (Vec::new(), Vec::new());
    for (i, record) in records.iter().enumerate() {
        match record
            .body
            .as_deref()
            .map(serde_json::from_str::<QueueMessage>)
        {
            Some(Ok(QueueMessage::Job(m))) => jobs.push((i, m, receive_count(record))),
            Some(Ok(QueueMessage::FanOut(m))) => fan_outs.push((i, m.job_group_id)),
            _ => outcomes[i] = Some(Outcome::DeadLetter("unparseable job message")),
        }
    }
    let fanned = futures::stream::iter(fan_outs)
        .map(|(i, group)| async move { (i, fan_out(group, deps).await) })
        .buffer_unordered(batch::CONCURRENCY)
        .collect::<Vec<_>>();
    let metrics = BatchMetrics::default();
    let (fanned, ran) = tokio::join!(fanned, batch::run(jobs, &metrics, deps));
    for (i, outcome) in fanned.into_iter().chain(ran) {
        outcomes[i] = Some(outcome);
    }
    send_deferred_copies(&mut outcomes, deps).await;
    let settled: Vec<(String, bool)> = futures::stream::iter(records.into_iter().zip(outcomes))
        .map(|(record, outcome)| async move {
            let id = record.message_id.clone().unwrap_or_default();
            // Every position got an outcome above; a gap would be a bug, so redeliver.
            let outcome = outcome.unwrap_or(Outcome::Redeliver { after: None });
            (id, settle(&record, outcome, deps).await)
        })
        .buffer_unordered(batch::CONCURRENCY)
        .collect()
        .await;
    if deps.emit_metrics
        && let Some(line) = metrics.emf("fetcher", deps.clock.now())
    {
        // CloudWatch reads Embedded Metric Format lines from the function's stdout.
        println!("{line}");
    }
    let mut response = SqsBatchResponse::default();
    for (id, redeliver) in settled {
        if redeliver {
            response.add_failure(id);
        }
    }
    Ok(response)
}

/// Sends the batch's deferred copies together (one `SendMessageBatch` per ten) and marks
/// them done; if that fails they are settled one by one.
async fn send_deferred_copies(outcomes: &mut [Option<Outcome>], deps: &Deps) {
    let copies: Vec<(usize, JobMessage, Duration)> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o {
            Some(Outcome::Defer { message, after }) if *after <= shared::queue::MAX_DELAY => {
                Some((i, *message, *after))
            }
            _ => None,
        })
        .collect();
    if copies.is_empty() {
        return;
    }
    let batch: Vec<_> = copies.iter().map(|(_, m, d)| (*m, *d)).collect();
    match deps.ports.queue.enqueue_delayed(&batch).await {
        Ok(()) => {
            for (i, _, _) in copies {
                outcomes[i] = Some(Outcome::Done);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not send the deferred copies together"),
    }
}

/// Carries out an outcome on the message; returns whether it must be reported as a failure.
async fn settle(record: &SqsMessage, outcome: Outcome, deps: &Deps) -> bool {
    match outcome {
        Outcome::Done => false,
        Outcome::Redeliver { after } => {
            let delay = retry::redelivery(after, receive_count(record), retry::unit_random());
            if let Some(handle) = record.receipt_handle.as_deref() {
                // If this fails the queue's visibility timeout applies: later, never lost.
                if let Err(e) = deps.ports.control.defer(handle, delay).await {
                    tracing::warn!(error = %e, "could not defer the message");
                }
            }
            true
        }
        Outcome::Defer { message, after } => {
            let sent = if after > shared::queue::MAX_DELAY {
                // Longer than SQS can delay a message (a day quota): parked for the scheduler.
                let until = deps.clock.now()
                    + chrono::TimeDelta::from_std(after).unwrap_or(chrono::TimeDelta::MAX);
                deps.ports
                    .parked
                    .park(message.job_group_id, message.job_id, until)
                    .await
                    .map_err(anyhow::Error::from)
            } else {
                deps.ports
                    .queue
                    .enqueue_delayed(&[(message, after)])
                    .await
                    .map_err(anyhow::Error::from)
            };
            match sent {
                Ok(()) => false,
                Err(e) => {
                    // No copy: keep this delivery and hold it back by its visibility instead.
                    tracing::warn!(error = %e, "could not send the deferred copy; deferring this delivery");
                    if let Some(handle) = record.receipt_handle.as_deref()
                        && let Err(e) = deps.ports.control.defer(handle, after).await
                    {
                        tracing::warn!(error = %e, "could not defer the message");
                    }
                    true
                }
            }
        }
        Outcome::DeadLetter(reason) => {
            let body = record.body.as_deref().unwrap_or_default();
            match deps.ports.control.dead_letter(body, reason).await {
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

/// The message's receive count, which counts attempts.
fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse::<u32>().ok())
        .unwrap_or(1)
}
