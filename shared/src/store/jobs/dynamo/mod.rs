//! The jobs table: a group and its jobs share a partition.
//!
//! | item | pk | sk | gsi1pk / gsi1sk |
//! |---|---|---|---|
//! | group | `GROUP#<group id>` | `GROUP` | `USER#<user id>` / `<created_at>#<group id>`; while not ended also `active_pk` / `active_sk` (index `active`): `ACTIVE#<shard>` / `<last progress>#<group id>` |
//! | job | `GROUP#<group id>` | `JOB#<index, 8 digits>` | while parked: `PARKED` / `<due>#<group id>#<index>` |
//!
//! A job's terminal transition and its group's counter change are one `TransactWriteItems`
//! whose job condition (`status = running`) makes a duplicate delivery a no-op.

mod control;
mod fan_out;
mod item;
mod lifecycle;
mod parking;
mod queries;
mod quota;
mod sweep;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::{Job, JobGroupId, JobId, ResponseData, StartRefused};
use crate::store::StoreError;
use crate::store::dynamo::item::{Item, n, s, ts, ts_text};
use crate::store::dynamo::{send_transaction, unavailable};
use crate::store::jobs::{FinishOutcome, JobResult, StartOutcome};

use item::{checkpoint_item, group_from, group_item, job_from, job_item};

/// The jobs table.
#[derive(Debug, Clone)]
pub struct DynamoJobs {
    pub(crate) client: Client,
    pub(crate) table: String,
}

impl DynamoJobs {
    /// The adapter over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// Partitions of the `active` index, so every fetcher finishing jobs does not write one key.
const ACTIVE_SHARDS: u32 = 4;

/// A group's partition in the `active` index.
fn active_pk(id: JobGroupId) -> AttributeValue {
    let shard = id.to_string().bytes().map(u32::from).sum::<u32>() % ACTIVE_SHARDS;
    s(format!("ACTIVE#{shard}"))
}

/// A group's sort key in the `active` index: when it last moved.
fn active_sk(id: JobGroupId, at: DateTime<Utc>) -> AttributeValue {
    s(format!("{}#{id}", ts_text(at)))
}

fn group_pk(id: JobGroupId) -> AttributeValue {
    s(format!("GROUP#{id}"))
}

fn job_sk(id: JobId) -> AttributeValue {
    s(format!("JOB#{:08}", id.index()))
}

fn group_key(id: JobGroupId) -> Item {
    Item::from([("pk".into(), group_pk(id)), ("sk".into(), s("GROUP"))])
}

fn fan_out_key(id: JobGroupId) -> Item {
    Item::from([("pk".into(), group_pk(id)), ("sk".into(), s("FANOUT"))])
}

pub(crate) fn job_key(group: JobGroupId, job: JobId) -> Item {
    Item::from([("pk".into(), group_pk(group)), ("sk".into(), job_sk(job))])
}

/// Why a stored job cannot be started now, if it cannot.
fn refusal(job: &Job, now: DateTime<Utc>) -> Option<StartOutcome> {
    let mut probe = job.clone();
    match probe.start(now, TimeDelta::zero()) {
        Ok(()) => None,
        Err(StartRefused::Terminal) => Some(StartOutcome::AlreadyTerminal(job.clone())),
        Err(StartRefused::Leased(until)) => Some(StartOutcome::Leased(until)),
    }
}

fn is_condition_failure(
    e: &SdkError<UpdateItemError, impl std::fmt::Debug>,
) -> Option<Option<Item>> {
    match e.as_service_error() {
        Some(UpdateItemError::ConditionalCheckFailedException(c)) => Some(c.item.clone()),
        _ => None,
    }
}

/// Whether a conditional update was applied: `false` when its condition failed, an error
/// for anything else.
fn applied<O>(
    res: Result<O, SdkError<UpdateItemError, impl std::fmt::Debug + Send + Sync + 'static>>,
) -> Result<bool, StoreError> {
    match res {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failure(&e).is_some() => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}

fn update(table: &str, key: Item) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
    Update::builder().table_name(table).set_key(Some(key))
}

impl DynamoJobs {
    /// Writes a group's planned jobs: `fan_out` (an update of the fan-out item whose condition
    /// says it was not planned yet, using `:list`, `:total`, `:yes` and `#t`) and the group's
    /// `total_jobs`, in one transaction. `false` when it was planned already (or is not that
    /// kind of group, or is gone): then nothing changed.
    async fn plan(
        &self,
        group: JobGroupId,
        fan_out: aws_sdk_dynamodb::types::builders::UpdateBuilder,
        list: String,
        total: usize,
    ) -> Result<bool, StoreError> {
        let fan_out = fan_out
            .expression_attribute_names("#t", "total")
            .expression_attribute_values(":list", s(list))
            .expression_attribute_values(":total", n(total))
            .expression_attribute_values(":yes", AttributeValue::Bool(true));
        let group_total = update(&self.table, group_key(group))
            .update_expression("SET total_jobs = :total")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":total", n(total));
        let res = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .update(fan_out.build().expect("key and expression set"))
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .update(group_total.build().expect("key and expression set"))
                    .build(),
            )
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(_)) => Ok(false),
                _ => Err(unavailable(e)),
            },
        }
    }

    /// Finishes `results` and counts them in their group in one transaction. `None` when a
    /// job's condition failed (it was finished already): then nothing changed.
    async fn finish_together(
        &self,
        group: JobGroupId,
        results: &[(JobId, JobResult)],
        now: DateTime<Utc>,
    ) -> Result<Option<FinishOutcome>, StoreError> {
        let mut tx = self.client.transact_write_items();
        let (mut completed, mut failed, mut first_error) = (0u32, 0u32, None);
        for (job, result) in results {
            tx = tx.transact_items(
                TransactWriteItem::builder()
                    .update(
                        finish_update(&self.table, group, *job, result, now)
                            .build()
                            .expect("key and expression set"),
                    )
                    .build(),
            );
            match result {
                JobResult::Completed(_) => completed += 1,
                JobResult::Failed(msg) => {
                    failed += 1;
                    first_error.get_or_insert(msg);
                }
            }
        }
        let mut adds = Vec::new();
        let mut counters =
            update(&self.table, group_key(group)).condition_expression("attribute_exists(pk)");
        if completed > 0 {
            adds.push("completed_jobs :c");
            counters = counters.expression_attribute_values(":c", n(completed));
        }
        if failed > 0 {
            adds.push("failed_jobs :f");
            counters = counters.expression_attribute_values(":f", n(failed));
        }
        // The group moved: a sweep for stranded jobs leaves it alone for a while.
        let mut expression = format!("ADD {} SET active_sk = :progress", adds.join(", "));
        counters = counters.expression_attribute_values(":progress", active_sk(group, now));
        if let Some(msg) = first_error {
            expression.push_str(", first_error = if_not_exists(first_error, :msg)");
            counters = counters.expression_attribute_values(":msg", s(msg));
        }
        let mut tx = tx.transact_items(
            TransactWriteItem::builder()
                .update(
                    counters
                        .update_expression(expression)
                        .build()
                        .expect("key and expression set"),
                )
                .build(),
        );
        // After the jobs, whose conditions the cancellation reasons are read for.
        for (_, result) in results {
            if let JobResult::Completed(ResponseData {
                held: Some(held), ..
            }) = result
            {
                tx = tx.transact_items(
                    TransactWriteItem::builder()
                        .update(crate::store::holdings::held_update(&self.table, held))
                        .build(),
                );
            }
        }
        match send_transaction(tx).await {
            Ok(_) => Ok(Some(FinishOutcome::Recorded)),
            Err(e) => {
                let job_condition_failed = e
                    .as_service_error()
                    .and_then(|se| match se {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(
                            c.cancellation_reasons()
                                .iter()
                                .take(results.len())
                                .any(|r| r.code() == Some("ConditionalCheckFailed")),
                        ),
                        _ => None,
                    })
                    .unwrap_or(false);
                if job_condition_failed {
                    Ok(None)
                } else {
                    Err(unavailable(e))
                }
            }
        }
    }
}

/// A job's terminal transition: `running → completed`, or `pending | running → failed`.
fn finish_update(
    table: &str,
    group: JobGroupId,
    job: JobId,
    result: &JobResult,
    now: DateTime<Utc>,
) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
    let job_update = update(table, job_key(group, job))
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":now", ts(now))
        .expression_attribute_values(":running", s("running"));
    match result {
        JobResult::Completed(data) => job_update
            .update_expression("SET #s = :done, completed_at = :now, response_data = :rd REMOVE error_message, lease_until, checkpoint, paused, parked_until, gsi1pk, gsi1sk")
            .condition_expression("#s = :running")
            .expression_attribute_values(":done", s("completed"))
            .expression_attribute_values(
                ":rd",
                AttributeValue::M(
                    [
                        Some(("rows".to_owned(), n(data.rows))),
                        Some(("pages".to_owned(), n(data.pages))),
                        data.archive.as_ref().map(|a| ("archive".to_owned(), s(a))),
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                ),
            ),
        JobResult::Failed(msg) => job_update
            .update_expression("SET #s = :failed, completed_at = :now, error_message = :msg REMOVE lease_until, checkpoint, paused, parked_until, gsi1pk, gsi1sk")
            .condition_expression("#s IN (:pending, :running)")
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":msg", s(msg)),
    }
}
