//! A job's run on DynamoDB: the conditional start under a lease, checkpoints, releases, and the
//! terminal transition written with its group's counters in one transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::{
    Checkpoint, Job, JobGroup, JobGroupId, JobGroupStatus, JobId, JobStatus, Release,
};
use crate::store::StoreError;
use crate::store::dynamo::item::{n, s, ts};
use crate::store::dynamo::unavailable;
use crate::store::jobs::{FinishOutcome, JobLifecycle, JobResult, StartOutcome};

use super::*;

#[async_trait]
impl JobLifecycle for DynamoJobs {
    async fn start_job(
        &self,
        group: &JobGroup,
        job: JobId,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<StartOutcome, StoreError> {
        let first = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(job_key(group.id, job)))
            .update_expression("SET #s = :running, started_at = :now, lease_until = :until")
            .condition_expression("#s = :pending")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":until", ts(now + lease))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let started = match first {
            Ok(out) => job_from(&out.attributes.unwrap_or_default())?,
            Err(e) => {
                let old = match is_condition_failure(&e) {
                    Some(Some(old)) => job_from(&old)?,
                    Some(None) => return Ok(StartOutcome::NotFound),
                    None => return Err(unavailable(e)),
                };
                if let Some(refused) = refusal(&old, now) {
                    return Ok(refused);
                }
                // Running, lease released or lapsed: the previous attempt failed transiently or
                // its fetcher died. Timestamps are fixed-width UTC text, so they compare as text.
                let retry = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(job_key(group.id, job)))
                    // A paused job goes on without counting a retry; the condition pins which
                    // of the two was read.
                    .update_expression(if old.paused {
                        "SET paused = :no, lease_until = :until"
                    } else {
                        "ADD retry_count :one SET last_retry_at = :now, lease_until = :until"
                    })
                    .condition_expression(if old.paused {
                        "#s = :running AND paused = :yes AND (attribute_not_exists(lease_until) OR lease_until <= :now)"
                    } else {
                        "#s = :running AND (attribute_not_exists(paused) OR paused = :no) AND (attribute_not_exists(lease_until) OR lease_until <= :now)"
                    })
                    .expression_attribute_names("#s", "status")
                    .expression_attribute_values(":running", s("running"))
                    .expression_attribute_values(":no", AttributeValue::Bool(false))
                    .expression_attribute_values(":now", ts(now))
                    .expression_attribute_values(":until", ts(now + lease))
                    .expression_attribute_values(
                        if old.paused { ":yes" } else { ":one" },
                        if old.paused {
                            AttributeValue::Bool(true)
                        } else {
                            n(1)
                        },
                    )
                    .return_values(ReturnValue::AllNew)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .send()
                    .await;
                match retry {
                    Ok(out) => job_from(&out.attributes.unwrap_or_default())?,
                    Err(e) => match is_condition_failure(&e) {
                        Some(Some(old)) => {
                            // Another fetcher took it in between; a pending job here means a
                            // concurrent group retry: deliver again later.
                            return refusal(&job_from(&old)?, now).map_or_else(
                                || {
                                    Err(StoreError::Unavailable(anyhow::anyhow!(
                                        "job changed while starting"
                                    )))
                                },
                                Ok,
                            );
                        }
                        Some(None) => return Ok(StartOutcome::NotFound),
                        None => return Err(unavailable(e)),
                    },
                }
            }
        };
        if group.status == JobGroupStatus::Pending {
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(group_key(group.id)))
                .update_expression("SET #s = :running, started_at = :now")
                .condition_expression("#s = :pending")
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":running", s("running"))
                .expression_attribute_values(":pending", s("pending"))
                .expression_attribute_values(":now", ts(now))
                .send()
                .await;
            // Another fetcher started the group first: nothing to do.
            if let Err(e) = res
                && is_condition_failure(&e).is_none()
            {
                return Err(unavailable(e));
            }
        }
        Ok(StartOutcome::Started(started))
    }
    async fn start_jobs(
        &self,
        group: &JobGroup,
        jobs: &[Job],
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Vec<StartOutcome>, StoreError> {
        // The common case, every job pending: one transaction. Anything else (a duplicate, a
        // retry, the group started by another fetcher meanwhile) goes one by one.
        let distinct = jobs
            .iter()
            .map(|j| j.id)
            .collect::<std::collections::HashSet<_>>()
            .len()
            == jobs.len();
        if distinct
            && jobs.len() > 1
            && jobs.len() < 100
            && jobs.iter().all(|j| j.status == JobStatus::Pending)
        {
            let mut tx = self.client.transact_write_items();
            for job in jobs {
                let start = update(&self.table, job_key(group.id, job.id))
                    .update_expression("SET #s = :running, started_at = :now, lease_until = :until")
                    .condition_expression("#s = :pending")
                    .expression_attribute_names("#s", "status")
                    .expression_attribute_values(":running", s("running"))
                    .expression_attribute_values(":pending", s("pending"))
                    .expression_attribute_values(":now", ts(now))
                    .expression_attribute_values(":until", ts(now + lease));
                tx = tx.transact_items(
                    TransactWriteItem::builder()
                        .update(start.build().expect("key and expression set"))
                        .build(),
                );
            }
            if group.status == JobGroupStatus::Pending {
                let start = update(&self.table, group_key(group.id))
                    .update_expression("SET #s = :running, started_at = :now")
                    .condition_expression("#s = :pending")
                    .expression_attribute_names("#s", "status")
                    .expression_attribute_values(":running", s("running"))
                    .expression_attribute_values(":pending", s("pending"))
                    .expression_attribute_values(":now", ts(now));
                tx = tx.transact_items(
                    TransactWriteItem::builder()
                        .update(start.build().expect("key and expression set"))
                        .build(),
                );
            }
            match tx.send().await {
                Ok(_) => {
                    return Ok(jobs
                        .iter()
                        .map(|j| {
                            let mut started = j.clone();
                            started
                                .start(now, lease)
                                .expect("a pending job starts");
                            StartOutcome::Started(started)
                        })
                        .collect());
                }
                Err(e) if !matches!(
                    e.as_service_error(),
                    Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(_))
                ) => return Err(unavailable(e)),
                Err(_) => {}
            }
        }
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            outcomes.push(self.start_job(group, job.id, now, lease).await?);
        }
        Ok(outcomes)
    }
    async fn save_checkpoint(
        &self,
        group: JobGroupId,
        job: JobId,
        at: &Checkpoint,
    ) -> Result<(), StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(job_key(group, job)))
            .condition_expression("#s = :running")
            .update_expression("SET checkpoint = :cp")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":cp", checkpoint_item(at))
            .send()
            .await;
        applied(res).map(|_| ())
    }
    async fn release_job(
        &self,
        group: JobGroupId,
        job: JobId,
        why: &Release,
    ) -> Result<(), StoreError> {
        let (checkpoint, paused) = match why {
            Release::Failed(c) => (c.as_ref(), false),
            Release::Paused(c) => (c.as_ref(), true),
        };
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(job_key(group, job)))
            .condition_expression("#s = :running")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":paused", AttributeValue::Bool(paused));
        let update = match checkpoint {
            Some(c) => update
                .update_expression("SET paused = :paused, checkpoint = :cp REMOVE lease_until")
                .expression_attribute_values(":cp", checkpoint_item(c)),
            None => update.update_expression("SET paused = :paused REMOVE lease_until, checkpoint"),
        };
        // Not running (any more): there is no lease to give up.
        applied(update.send().await).map(|_| ())
    }
    async fn finish_job(
        &self,
        group: JobGroupId,
        job: JobId,
        result: &JobResult,
        now: DateTime<Utc>,
    ) -> Result<FinishOutcome, StoreError> {
        let outcome = self
            .finish_together(group, &[(job, result.clone())], now)
            .await?;
        Ok(outcome.unwrap_or(FinishOutcome::AlreadyTerminal))
    }
    async fn finish_jobs(
        &self,
        group: JobGroupId,
        results: &[(JobId, JobResult)],
        now: DateTime<Utc>,
    ) -> Result<Vec<FinishOutcome>, StoreError> {
        let mut outcomes = Vec::with_capacity(results.len());
        for chunk in transactions(results) {
            match self.finish_together(group, chunk, now).await? {
                Some(o) => outcomes.extend(std::iter::repeat_n(o, chunk.len())),
                // One of them was finished already (a duplicate): one at a time, each counted
                // exactly once.
                None if chunk.len() > 1 => {
                    for (job, result) in chunk {
                        outcomes.push(self.finish_job(group, *job, result, now).await?);
                    }
                }
                None => outcomes.push(FinishOutcome::AlreadyTerminal),
            }
        }
        Ok(outcomes)
    }
}

/// `results` cut into transactions: at most 100 items (the jobs, their group's counters and
/// the holdings completed jobs add to), no holding twice in one (a transaction may touch an
/// item once).
fn transactions(results: &[(JobId, JobResult)]) -> Vec<&[(JobId, JobResult)]> {
    let mut out = Vec::new();
    let (mut start, mut items) = (0, 1);
    let mut keys = std::collections::HashSet::new();
    for (i, (_, result)) in results.iter().enumerate() {
        let held = match result {
            JobResult::Completed(d) => d.held.as_ref().map(|h| &h.key),
            JobResult::Failed(_) => None,
        };
        let cost = 1 + usize::from(held.is_some());
        if items + cost > 100 || held.is_some_and(|k| keys.contains(k)) {
            out.push(&results[start..i]);
            (start, items) = (i, 1);
            keys.clear();
        }
        items += cost;
        keys.extend(held);
    }
    if start < results.len() {
        out.push(&results[start..]);
    }
    out
}
