//! The standing duty that nothing stays stranded. A job whose message is gone (lost by a fault
//! in the queue or the store, deleted by hand) can never finish, and its group would stay
//! `running` for ever, with an incremental schedule on it busy for ever too. Each tick looks
//! at the groups that have not moved (no job finished, no sweep) for the configured bound and:
//! - sends a message again for every job that is pending and not parked, or running with its
//!   lease lapsed (a duplicate of a live message is harmless: the fetcher runs a job once);
//! - resumes the group's fan-out if it stopped short;
//! - sets the group's counters to what its jobs say, if they differ;
//! - ends the group if all its jobs have.
//!
//! The bound (`STALLED_AFTER_SECS`, 30 minutes by default) is longer than anything that
//! legitimately keeps a group still without a parked job: a message delayed by SQS (15 minutes
//! at most), a retry's backoff (15 minutes at most), the visibility timeout (6 minutes), a
//! provider lockout (5 minutes). What a sweep repairs is logged and counted in an EMF line.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use shared::domain::JobStatus;
use shared::queue::JobMessage;

use crate::{Deps, TickReport};

/// The default bound after which a group that has not moved is swept.
pub const STALLED_AFTER: TimeDelta = TimeDelta::minutes(30);

/// Groups swept per tick at most; the rest waits for the next minute.
const MAX_GROUPS: usize = 100;

/// Sweeps the groups that stopped moving before `now - deps.stalled_after`.
pub(crate) async fn run(deps: &Deps, report: &mut TickReport) -> anyhow::Result<()> {
    let now = deps.clock.now();
    let groups = deps
        .stalled
        .stalled(now - deps.stalled_after, MAX_GROUPS)
        .await?;
    for g in groups {
        report.stalled_groups += 1;
        let jobs = deps.jobs.list_jobs(g.id).await?;
        let stranded: Vec<JobMessage> = jobs
            .iter()
            .filter(|j| match j.status {
                JobStatus::Pending => j.parked_until.is_none(),
                JobStatus::Running => j.lease_until.is_none_or(|l| l <= now),
                JobStatus::Completed | JobStatus::Failed => false,
            })
            .map(|j| JobMessage {
                job_group_id: g.id,
                job_id: j.id,
            })
            .collect();
        if !stranded.is_empty() {
            deps.queue.enqueue(&stranded).await?;
            tracing::warn!(job_group_id = %g.id, jobs = stranded.len(), "stranded jobs sent again");
            report.stranded_requeued += stranded.len();
        }
        let fanned_out = match deps.jobs.fan_out(g.id).await? {
            Some(f) => f.is_done(),
            None => true,
        };
        if !fanned_out {
            deps.queue.start_fan_out(g.id).await?;
            tracing::warn!(job_group_id = %g.id, "stalled fan-out started again");
            report.stranded_requeued += 1;
        }
        let count = |s: JobStatus| jobs.iter().filter(|j| j.status == s).count() as u32;
        let actual = (count(JobStatus::Completed), count(JobStatus::Failed));
        let seen = (g.completed_jobs, g.failed_jobs);
        if deps.stalled.swept(g.id, seen, actual, now).await? && seen != actual {
            tracing::warn!(job_group_id = %g.id, ?seen, ?actual, "group counters set to what its jobs say");
            report.counters_reconciled += 1;
        }
        if fanned_out && stranded.is_empty() && !jobs.is_empty() {
            deps.jobs.finalize_group(g.id, now).await?;
        }
    }
    Ok(())
}

/// The sweep's repairs as a CloudWatch Embedded Metric Format line.
pub(crate) fn emf(report: &TickReport, at: DateTime<Utc>) -> String {
    json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": shared::metrics::NAMESPACE,
                "Dimensions": [["Function"]],
                "Metrics": [
                    {"Name": "StrandedRequeued", "Unit": "Count"},
                    {"Name": "CountersReconciled", "Unit": "Count"},
                ],
            }],
        },
        "Function": "scheduler",
        "StrandedRequeued": report.stranded_requeued,
        "CountersReconciled": report.counters_reconciled,
    })
    .to_string()
}
