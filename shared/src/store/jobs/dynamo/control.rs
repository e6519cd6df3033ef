//! Group control on DynamoDB: cancel, retry of failed jobs (reset chunk by chunk), finalize.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem};
use chrono::{DateTime, Utc};

use crate::domain::{JobGroup, JobGroupId, JobGroupStatus, JobId, JobStatus};
use crate::store::StoreError;
use crate::store::dynamo::item::{Item, ItemExt, n, s, ts};
use crate::store::dynamo::{send_transaction, unavailable};
use crate::store::jobs::{GroupControl, JobQueries};

use super::*;

#[async_trait]
impl GroupControl for DynamoJobs {
    async fn request_cancel(
        &self,
        group: JobGroupId,
        now: DateTime<Utc>,
    ) -> Result<Option<JobGroup>, StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(group_key(group)))
            .update_expression("SET cancel_requested_at = if_not_exists(cancel_requested_at, :now)")
            .condition_expression("#s IN (:pending, :running)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":now", ts(now))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match res {
            Ok(out) => Ok(Some(group_from(&out.attributes.unwrap_or_default())?)),
            Err(e) if is_condition_failure(&e).is_some() => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }
    async fn retry_failed(
        &self,
        group: JobGroupId,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<JobId>>, StoreError> {
        let Some(g) = self.get_group(group).await? else {
            return Ok(None);
        };
        if !matches!(g.status, JobGroupStatus::Failed | JobGroupStatus::Running) {
            return Ok(None);
        }
        let jobs = self.list_jobs(group).await?;
        let failed: Vec<JobId> = jobs
            .iter()
            .filter(|j| j.status == JobStatus::Failed)
            .map(|j| j.id)
            .collect();
        let mut pending: Vec<JobId> = jobs
            .iter()
            .filter(|j| j.status == JobStatus::Pending)
            .map(|j| j.id)
            .collect();
        // Up to 99 jobs and their group per transaction (the limit is 100 items).
        for chunk in failed.chunks(99) {
            match self.reset_jobs(group, chunk, now).await? {
                Reset::Done => pending.extend_from_slice(chunk),
                Reset::GroupNotRetryable => return Ok(None),
                // A job changed under us (a concurrent retry): one at a time, skipping it.
                Reset::JobChanged => {
                    for id in chunk {
                        match self
                            .reset_jobs(group, std::slice::from_ref(id), now)
                            .await?
                        {
                            Reset::Done => pending.push(*id),
                            Reset::GroupNotRetryable => return Ok(None),
                            Reset::JobChanged => {}
                        }
                    }
                }
            }
        }
        if failed.is_empty() && g.status == JobGroupStatus::Failed {
            return Ok(None);
        }
        pending.sort();
        Ok(Some(pending))
    }
    async fn finalize_group(
        &self,
        group: JobGroupId,
        now: DateTime<Utc>,
    ) -> Result<Option<JobGroupStatus>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(group_key(group)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let mut g = group_from(&item)?;
        let (completed, failed) = (g.completed_jobs, g.failed_jobs);
        if !g.finish(now, item.opt_str("first_error")) {
            return Ok(None);
        }
        let names = std::collections::HashMap::from([("#s".to_owned(), "status".to_owned())]);
        let mut values = Item::from([
            (":pending".into(), s("pending")),
            (":running".into(), s("running")),
            (":c".into(), n(completed)),
            (":f".into(), n(failed)),
            (":st".into(), s(g.status.as_str())),
            (":now".into(), ts(now)),
        ]);
        // The charge goes with the group's end (released once: a retried group is not
        // charged again).
        let set = match &g.error_message {
            Some(m) => {
                values.insert(":m".into(), s(m));
                "SET #s = :st, completed_at = :now, started_at = if_not_exists(started_at, :now), error_message = :m REMOVE active_pk, active_sk, quota_charge"
            }
            None => {
                "SET #s = :st, completed_at = :now, started_at = if_not_exists(started_at, :now) REMOVE active_pk, active_sk, quota_charge"
            }
        };
        let condition = "#s IN (:pending, :running) AND completed_jobs = :c AND failed_jobs = :f";
        let Some(release) = super::quota::release(&self.table, &item)? else {
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(group_key(group)))
                .update_expression(set)
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .send()
                .await;
            return match res {
                Ok(_) => Ok(Some(g.status)),
                Err(e) if is_condition_failure(&e).is_some() => Ok(None),
                Err(e) => Err(unavailable(e)),
            };
        };
        let end = update(&self.table, group_key(group))
            .update_expression(set)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .expect("key and expression are set");
        let tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(end).build())
            .transact_items(release);
        match send_transaction(tx).await {
            Ok(_) => Ok(Some(g.status)),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c))
                    if c.cancellation_reasons().first().and_then(|r| r.code())
                        == Some("ConditionalCheckFailed") =>
                {
                    Ok(None)
                }
                _ => Err(unavailable(e)),
            },
        }
    }
}

enum Reset {
    Done,
    GroupNotRetryable,
    JobChanged,
}

impl DynamoJobs {
    async fn reset_jobs(
        &self,
        group: JobGroupId,
        jobs: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<Reset, StoreError> {
        let mut tx = self.client.transact_write_items();
        for id in jobs {
            let u = update(&self.table, job_key(group, *id))
                .update_expression("SET #s = :pending, last_retry_at = :now ADD retry_count :one REMOVE error_message, completed_at, response_data")
                .condition_expression("#s = :failed")
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":pending", s("pending"))
                .expression_attribute_values(":failed", s("failed"))
                .expression_attribute_values(":now", ts(now))
                .expression_attribute_values(":one", n(1));
            tx = tx.transact_items(
                TransactWriteItem::builder()
                    .update(u.build().expect("key and expression set"))
                    .build(),
            );
        }
        let g = update(&self.table, group_key(group))
            .update_expression("SET #s = :running, active_pk = :apk, active_sk = :progress ADD failed_jobs :minus REMOVE completed_at, error_message, first_error, cancel_requested_at")
            .expression_attribute_values(":apk", active_pk(group))
            .expression_attribute_values(":progress", active_sk(group, now))
            .condition_expression("#s IN (:failed, :running)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":minus", n(-(jobs.len() as i64)));
        tx = tx.transact_items(
            TransactWriteItem::builder()
                .update(g.build().expect("key and expression set"))
                .build(),
        );
        match tx.send().await {
            Ok(_) => Ok(Reset::Done),
            Err(e) => {
                let reasons: Vec<Option<String>> = match e.as_service_error() {
                    Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                        c.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect()
                    }
                    _ => return Err(unavailable(e)),
                };
                let failed = |r: &Option<String>| r.as_deref() == Some("ConditionalCheckFailed");
                if reasons.last().is_some_and(failed) {
                    Ok(Reset::GroupNotRetryable)
                } else if reasons.iter().any(failed) {
                    Ok(Reset::JobChanged)
                } else {
                    Err(unavailable(e))
                }
            }
        }
    }
}
