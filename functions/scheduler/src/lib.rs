//! The scheduler Lambda's handler. EventBridge invokes it every minute (template.yaml); each
//! tick does the maintenance that must happen on time rather than on a message:
//!
//! - re-enqueue parked jobs whose time has come (jobs that had to wait longer than SQS can
//!   delay a message, such as for a used-up day quota).
//!
//! A tick is safe to run twice at once: a job sent twice is a duplicate delivery, which the
//! fetcher already counts once.

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use shared::aws::Clients;
use shared::clock::{Clock, SystemClock};
use shared::config::Config;
use shared::queue::{JobMessage, JobQueue, SqsJobQueue};
use shared::store::ParkedJobs;
use shared::store::dynamo::DynamoJobs;

/// Parked jobs taken per round; a tick runs rounds until none are due.
const ROUND: usize = 500;
/// Rounds per tick at most: the rest waits for the next minute.
const MAX_ROUNDS: usize = 40;

/// What the scheduler works through.
#[derive(Debug, Clone)]
pub struct Deps {
    /// Parked jobs.
    pub parked: Arc<dyn ParkedJobs>,
    /// The job queue.
    pub queue: Arc<dyn JobQueue>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl Deps {
    /// The production wiring.
    pub fn from_aws(config: &Config, clients: &Clients) -> Self {
        Self {
            parked: Arc::new(DynamoJobs::new(
                clients.dynamodb.clone(),
                &config.jobs_table,
            )),
            queue: Arc::new(SqsJobQueue::new(
                clients.sqs.clone(),
                &config.jobs_queue_url,
                &config.dead_letter_queue_url,
            )),
            clock: Arc::new(SystemClock),
        }
    }
}

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// Parked jobs sent to the queue again.
    pub requeued: usize,
}

/// Handles one scheduled event.
pub async fn handle(
    _event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
    deps: &Deps,
) -> Result<TickReport, Error> {
    Ok(tick(deps).await?)
}

/// One tick of maintenance.
pub async fn tick(deps: &Deps) -> anyhow::Result<TickReport> {
    let mut report = TickReport::default();
    for _ in 0..MAX_ROUNDS {
        let due = deps.parked.due(deps.clock.now(), ROUND).await?;
        if due.is_empty() {
            break;
        }
        let messages: Vec<JobMessage> = due
            .iter()
            .map(|p| JobMessage {
                job_group_id: p.group,
                job_id: p.job,
            })
            .collect();
        // Sent before taken off the list: a crash in between sends them twice, never not at all.
        deps.queue.enqueue(&messages).await?;
        for p in &due {
            deps.parked.unpark(p).await?;
        }
        report.requeued += due.len();
    }
    if report.requeued > 0 {
        tracing::info!(requeued = report.requeued, "parked jobs re-enqueued");
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};
    use shared::clock::ManualClock;
    use shared::domain::{DataSourceId, Job, JobGroup, JobGroupId, JobGroupStatus, JobId, UserId};
    use shared::queue::MemoryJobQueue;
    use shared::store::JobStore;
    use shared::store::memory::MemoryJobs;

    #[tokio::test]
    async fn due_parked_jobs_are_sent_once_and_taken_off_the_list() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap();
        let jobs = Arc::new(MemoryJobs::default());
        let queue = Arc::new(MemoryJobQueue::default());
        let clock = Arc::new(ManualClock::new(t0));
        let group = JobGroup {
            id: JobGroupId::new(),
            user_id: UserId::new(),
            data_source_id: DataSourceId::parse("jquants-v2").unwrap(),
            endpoint_id: "eq-bars-daily".into(),
            params: Default::default(),
            status: JobGroupStatus::Pending,
            created_at: t0,
            started_at: None,
            completed_at: None,
            error_message: None,
            total_jobs: 3,
            completed_jobs: 0,
            failed_jobs: 0,
            cancel_requested_at: None,
            split: Default::default(),
        };
        jobs.create_group(&group, &[None, None, None])
            .await
            .unwrap();
        let pending: Vec<_> = (0..3)
            .map(|i| Job::new(group.id, JobId::new(i), None))
            .collect();
        jobs.write_jobs(&pending).await.unwrap();
        jobs.park(group.id, JobId::new(0), t0 + TimeDelta::hours(2))
            .await
            .unwrap();
        jobs.park(group.id, JobId::new(2), t0 + TimeDelta::hours(9))
            .await
            .unwrap();
        let deps = Deps {
            parked: jobs.clone(),
            queue: queue.clone(),
            clock: clock.clone(),
        };
        assert_eq!(tick(&deps).await.unwrap().requeued, 0, "nothing due yet");
        clock.advance(TimeDelta::hours(2));
        assert_eq!(tick(&deps).await.unwrap().requeued, 1);
        assert_eq!(tick(&deps).await.unwrap().requeued, 0, "sent once");
        clock.advance(TimeDelta::hours(8));
        assert_eq!(tick(&deps).await.unwrap().requeued, 1);
        let sent: Vec<_> = queue.drain().iter().map(|m| m.job_id.index()).collect();
        assert_eq!(sent, vec![0, 2]);
    }
}
