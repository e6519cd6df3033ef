//! The jobs table: a group and its jobs share a partition.
//!
//! | item | pk | sk | gsi1pk / gsi1sk |
//! |---|---|---|---|
//! | group | `GROUP#<group id>` | `GROUP` | `USER#<user id>` / `<created_at>#<group id>`; while not ended also `active_pk` / `active_sk` (index `active`): `ACTIVE#<shard>` / `<last progress>#<group id>` |
//! | job | `GROUP#<group id>` | `JOB#<index, 8 digits>` | while parked: `PARKED` / `<due>#<group id>#<index>` |
//!
//! A job's terminal transition and its group's counter change are one `TransactWriteItems`
//! whose job condition (`status = running`) makes a duplicate delivery a no-op.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, PutRequest, ReturnValue,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::item::{Item, ItemExt, n, s, ts, ts_text};
use super::{batch_write, unavailable};
use crate::domain::{
    Checkpoint, DataSourceId, IssueCode, Job, JobGroup, JobGroupId, JobGroupStatus, JobId,
    JobStatus, Release, ResponseData, Split, StartRefused, UserId,
};
use crate::store::{
    FanOut, FanOutCursor, FinishOutcome, GroupCursor, JOBS_EXAMINED, JobResult, JobStore,
    StalledGroups, StartOutcome, StoreError,
};

/// The jobs table.
#[derive(Debug, Clone)]
pub struct DynamoJobs {
    pub(super) client: Client,
    pub(super) table: String,
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

pub(super) fn job_key(group: JobGroupId, job: JobId) -> Item {
    Item::from([("pk".into(), group_pk(group)), ("sk".into(), job_sk(job))])
}

fn group_item(g: &JobGroup) -> Item {
    let mut item = group_key(g.id);
    let params = g.params.iter().map(|(k, v)| (k.clone(), s(v))).collect();
    item.extend([
        ("user_id".into(), s(g.user_id.to_string())),
        ("data_source_id".into(), s(g.data_source_id.as_str())),
        ("endpoint_id".into(), s(&g.endpoint_id)),
        ("params".into(), AttributeValue::M(params)),
        ("status".into(), s(g.status.as_str())),
        ("created_at".into(), ts(g.created_at)),
        ("total_jobs".into(), n(g.total_jobs)),
        ("completed_jobs".into(), n(g.completed_jobs)),
        ("failed_jobs".into(), n(g.failed_jobs)),
        ("split".into(), s(g.split.as_str())),
        ("gsi1pk".into(), s(format!("USER#{}", g.user_id))),
        ("gsi1sk".into(), s(GroupCursor::after(g).sort_key())),
    ]);
    if !g.status.is_terminal() {
        item.insert("active_pk".into(), active_pk(g.id));
        item.insert("active_sk".into(), active_sk(g.id, g.created_at));
    }
    item
}

fn group_from(item: &Item) -> Result<JobGroup, StoreError> {
    let params = match item.get("params") {
        Some(AttributeValue::M(m)) => m
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.clone(),
                    v.as_s()
                        .map_err(|_| StoreError::Corrupt("params".into()))?
                        .clone(),
                ))
            })
            .collect::<Result<BTreeMap<_, _>, StoreError>>()?,
        _ => BTreeMap::new(),
    };
    Ok(JobGroup {
        id: item.parse("pk", |pk| {
            JobGroupId::parse(pk.trim_start_matches("GROUP#"))
        })?,
        user_id: item.parse("user_id", UserId::parse)?,
        data_source_id: item.parse("data_source_id", DataSourceId::parse)?,
        endpoint_id: item.str("endpoint_id")?.to_owned(),
        params,
        status: item.parse("status", |v| {
            JobGroupStatus::parse(v).ok_or("unknown status")
        })?,
        created_at: item.time("created_at")?,
        started_at: item.opt_time("started_at")?,
        completed_at: item.opt_time("completed_at")?,
        error_message: item.opt_str("error_message").map(str::to_owned),
        total_jobs: item.num("total_jobs")?,
        completed_jobs: item.num("completed_jobs")?,
        failed_jobs: item.num("failed_jobs")?,
        cancel_requested_at: item.opt_time("cancel_requested_at")?,
        split: item
            .opt_str("split")
            .map_or(Some(Split::PerSymbol), Split::parse)
            .ok_or_else(|| StoreError::Corrupt("unknown split".into()))?,
    })
}

fn job_item(j: &Job) -> Item {
    let mut item = job_key(j.job_group_id, j.id);
    item.insert("status".into(), s(j.status.as_str()));
    item.insert("retry_count".into(), n(j.retry_count));
    if let Some(sym) = &j.symbol {
        item.insert("symbol".into(), s(sym.as_str()));
    }
    if let Some(date) = j.date {
        item.insert("date".into(), s(date.to_string()));
    }
    item
}

fn job_from(item: &Item) -> Result<Job, StoreError> {
    let response_data = match item.get("response_data") {
        Some(AttributeValue::M(m)) => {
            let m: Item = m.clone();
            Some(ResponseData {
                rows: m.num("rows")?,
                pages: m.num("pages")?,
                archive: m.opt_str("archive").map(str::to_owned),
            })
        }
        _ => None,
    };
    Ok(Job {
        job_group_id: item.parse("pk", |pk| {
            JobGroupId::parse(pk.trim_start_matches("GROUP#"))
        })?,
        id: item.parse("sk", |sk| JobId::parse(sk.trim_start_matches("JOB#")))?,
        symbol: item
            .opt_str("symbol")
            .map(IssueCode::parse)
            .transpose()
            .map_err(StoreError::Corrupt)?,
        date: item
            .opt_str("date")
            .map(|d| {
                d.parse::<NaiveDate>()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .transpose()?,
        status: item.parse("status", |v| JobStatus::parse(v).ok_or("unknown status"))?,
        started_at: item.opt_time("started_at")?,
        completed_at: item.opt_time("completed_at")?,
        error_message: item.opt_str("error_message").map(str::to_owned),
        response_data,
        retry_count: item.num("retry_count")?,
        last_retry_at: item.opt_time("last_retry_at")?,
        lease_until: item.opt_time("lease_until")?,
        checkpoint: match item.get("checkpoint") {
            Some(AttributeValue::M(m)) => {
                let m: Item = m.clone();
                Some(Checkpoint {
                    next_page: m.str("next_page")?.to_owned(),
                    pages: m.num("pages")?,
                    rows: m.num("rows")?,
                })
            }
            _ => None,
        },
        paused: matches!(item.get("paused"), Some(AttributeValue::Bool(true))),
        parked_until: item.opt_time("parked_until")?,
    })
}

fn checkpoint_item(c: &Checkpoint) -> AttributeValue {
    AttributeValue::M(
        [
            ("next_page".to_owned(), s(c.next_page.clone())),
            ("pages".to_owned(), n(c.pages)),
            ("rows".to_owned(), n(c.rows)),
        ]
        .into(),
    )
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
        let tx = tx.transact_items(
            TransactWriteItem::builder()
                .update(
                    counters
                        .update_expression(expression)
                        .build()
                        .expect("key and expression set"),
                )
                .build(),
        );
        match super::send_transaction(tx).await {
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

#[async_trait]
impl JobStore for DynamoJobs {
    async fn create_group(
        &self,
        group: &JobGroup,
        symbols: &[Option<IssueCode>],
    ) -> Result<(), StoreError> {
        let list = symbols
            .iter()
            .map(|s| s.as_ref().map_or("", IssueCode::as_str))
            .collect::<Vec<_>>()
            .join(",");
        let mut fan_out = fan_out_key(group.id);
        fan_out.extend([
            ("symbols".to_owned(), s(list)),
            ("total".to_owned(), n(symbols.len())),
            (
                "per_day".to_owned(),
                AttributeValue::Bool(group.split == Split::PerTradingDay),
            ),
            (
                "per_issue".to_owned(),
                AttributeValue::Bool(group.split == Split::PerListedIssue),
            ),
            ("written".to_owned(), n(0)),
            ("enqueued".to_owned(), n(0)),
        ]);
        let put = |item: Item| {
            let p = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .expect("table and item are set");
            TransactWriteItem::builder().put(p).build()
        };
        let res = self
            .client
            .transact_write_items()
            .transact_items(put(group_item(group)))
            .transact_items(put(fan_out))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_transaction_canceled_exception()) =>
            {
                Err(StoreError::AlreadyExists)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn fan_out(&self, group: JobGroupId) -> Result<Option<FanOut>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(fan_out_key(group)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let total: usize = item.num("total")?;
        let per_day = matches!(item.get("per_day"), Some(AttributeValue::Bool(true)));
        let symbols = if total == 0 || per_day {
            Vec::new()
        } else {
            item.str("symbols")?
                .split(',')
                .map(|s| {
                    if s.is_empty() {
                        Ok(None)
                    } else {
                        IssueCode::parse(s).map(Some)
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(StoreError::Corrupt)?
        };
        if !per_day && symbols.len() != total {
            return Err(StoreError::Corrupt(
                "fan-out symbols do not match its total".into(),
            ));
        }
        let days = match item.opt_str("days") {
            None => None,
            Some("") => Some(Vec::new()),
            Some(list) => Some(
                list.split(',')
                    .map(|d| d.parse::<NaiveDate>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| StoreError::Corrupt(format!("fan-out days: {e}")))?,
            ),
        };
        Ok(Some(FanOut {
            symbols,
            days,
            per_day,
            per_issue: matches!(item.get("per_issue"), Some(AttributeValue::Bool(true))),
            issues_planned: matches!(item.get("issues_planned"), Some(AttributeValue::Bool(true))),
            written: item.num("written")?,
            enqueued: item.num("enqueued")?,
        }))
    }

    async fn write_jobs(&self, jobs: &[Job]) -> Result<(), StoreError> {
        for chunk in jobs.chunks(25) {
            let pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|j| {
                    let put = PutRequest::builder().set_item(Some(job_item(j))).build();
                    WriteRequest::builder()
                        .put_request(put.expect("item is set"))
                        .build()
                })
                .collect();
            // BatchWriteItem may leave items unprocessed under throttling: resend those.
            batch_write(&self.client, &self.table, pending).await?;
        }
        Ok(())
    }

    async fn claim_fan_out(
        &self,
        group: JobGroupId,
        written: u32,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(fan_out_key(group)))
            .update_expression("SET claim_until = :until")
            .condition_expression(
                "written = :from AND (attribute_not_exists(claim_until) OR claim_until < :now)",
            )
            .expression_attribute_values(":from", n(written))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":until", ts(until))
            .send()
            .await;
        applied(res)
    }

    async fn plan_days(&self, group: JobGroupId, days: &[NaiveDate]) -> Result<bool, StoreError> {
        let list = days
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let fan_out = update(&self.table, fan_out_key(group))
            .update_expression("SET days = :list, #t = :total")
            .condition_expression("per_day = :yes AND attribute_not_exists(days)");
        self.plan(group, fan_out, list, days.len()).await
    }

    async fn plan_issues(
        &self,
        group: JobGroupId,
        issues: &[IssueCode],
    ) -> Result<bool, StoreError> {
        let list = issues
            .iter()
            .map(IssueCode::as_str)
            .collect::<Vec<_>>()
            .join(",");
        let fan_out = update(&self.table, fan_out_key(group))
            .update_expression("SET symbols = :list, #t = :total, issues_planned = :yes")
            .condition_expression("per_issue = :yes AND attribute_not_exists(issues_planned)");
        self.plan(group, fan_out, list, issues.len()).await
    }

    async fn advance_fan_out(
        &self,
        group: JobGroupId,
        cursor: FanOutCursor,
        from: u32,
        to: u32,
    ) -> Result<bool, StoreError> {
        let attr = match cursor {
            FanOutCursor::Written => "written",
            FanOutCursor::Enqueued => "enqueued",
        };
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(fan_out_key(group)))
            // Moving the written cursor ends the claim its step held.
            .update_expression(match cursor {
                FanOutCursor::Written => "SET #c = :to REMOVE claim_until",
                FanOutCursor::Enqueued => "SET #c = :to",
            })
            .condition_expression("#c = :from")
            .expression_attribute_names("#c", attr)
            .expression_attribute_values(":from", n(from))
            .expression_attribute_values(":to", n(to))
            .send()
            .await;
        applied(res)
    }

    async fn get_group(&self, id: JobGroupId) -> Result<Option<JobGroup>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(group_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item.as_ref().map(group_from).transpose()
    }

    async fn list_groups(
        &self,
        user: UserId,
        after: Option<GroupCursor>,
        limit: u32,
    ) -> Result<(Vec<JobGroup>, Option<GroupCursor>), StoreError> {
        let owner = s(format!("USER#{user}"));
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :u")
            .expression_attribute_values(":u", owner.clone())
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        if let Some(c) = after {
            let mut start = group_key(c.id());
            start.extend([("gsi1pk".into(), owner), ("gsi1sk".into(), s(c.sort_key()))]);
            q = q.set_exclusive_start_key(Some(start));
        }
        let out = q.send().await.map_err(unavailable)?;
        let page = out
            .items
            .unwrap_or_default()
            .iter()
            .map(group_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key
            .and(page.last().map(GroupCursor::after));
        Ok((page, next))
    }

    async fn get_job(
        &self,
        group: JobGroupId,
        job: JobId,
    ) -> Result<Option<(JobGroup, Job)>, StoreError> {
        Ok(self.get_jobs(&[(group, job)]).await?.into_iter().next())
    }

    async fn get_jobs(
        &self,
        keys: &[(JobGroupId, JobId)],
    ) -> Result<Vec<(JobGroup, Job)>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        // BatchGetItem reads at most 100 keys: a group key and its job keys per chunk.
        for chunk in keys.chunks(50) {
            let mut groups: Vec<JobGroupId> = chunk.iter().map(|(g, _)| *g).collect();
            groups.sort_by_key(ToString::to_string);
            groups.dedup();
            let mut request_keys: Vec<Item> = groups.iter().map(|g| group_key(*g)).collect();
            let mut jobs: Vec<(JobGroupId, JobId)> = chunk.to_vec();
            jobs.sort_by_key(|(g, j)| (g.to_string(), *j));
            jobs.dedup();
            request_keys.extend(jobs.iter().map(|(g, j)| job_key(*g, *j)));
            let keys = KeysAndAttributes::builder()
                .set_keys(Some(request_keys))
                .consistent_read(true)
                .build()
                .expect("keys are set");
            let mut request = HashMap::from([(self.table.clone(), keys)]);
            let mut items = Vec::new();
            while !request.is_empty() {
                let out = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(request))
                    .send()
                    .await
                    .map_err(unavailable)?;
                items.extend(
                    out.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                request = out.unprocessed_keys.unwrap_or_default();
            }
            let mut group_items = HashMap::new();
            let mut job_items = Vec::new();
            for item in &items {
                if item.str("sk")? == "GROUP" {
                    let g = group_from(item)?;
                    group_items.insert(g.id, g);
                } else {
                    job_items.push(job_from(item)?);
                }
            }
            for (g, j) in chunk {
                if let (Some(group), Some(job)) = (
                    group_items.get(g),
                    job_items
                        .iter()
                        .find(|job| job.job_group_id == *g && job.id == *j),
                ) {
                    found.push((group.clone(), job.clone()));
                }
            }
        }
        Ok(found)
    }

    async fn list_jobs(&self, group: JobGroupId) -> Result<Vec<Job>, StoreError> {
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :job)")
            .expression_attribute_values(":pk", group_pk(group))
            .expression_attribute_values(":job", s("JOB#"))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(unavailable)?;
        items.iter().map(job_from).collect()
    }

    async fn list_group_jobs(
        &self,
        group: JobGroupId,
        status: Option<JobStatus>,
        after: Option<JobId>,
        limit: u32,
    ) -> Result<(Vec<Job>, Option<JobId>), StoreError> {
        let first = match after {
            None => 0,
            Some(j) => match j.index().checked_add(1) {
                Some(i) if i <= 99_999_999 => i,
                _ => return Ok((Vec::new(), None)),
            },
        };
        // A key range rather than an ExclusiveStartKey: the cursor names a position, whether
        // or not a job is stored there.
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :first AND :last")
            .expression_attribute_values(":pk", group_pk(group))
            .expression_attribute_values(":first", job_sk(JobId::new(first)))
            .expression_attribute_values(":last", s("JOB#99999999"))
            .consistent_read(true);
        q = match status {
            // DynamoDB applies `Limit` before the filter: look at a window, keep what matches.
            Some(st) => q
                .filter_expression("#s = :status")
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":status", s(st.as_str()))
                .limit(i32::try_from(JOBS_EXAMINED).unwrap_or(i32::MAX)),
            None => q.limit(i32::try_from(limit).unwrap_or(i32::MAX)),
        };
        let out = q.send().await.map_err(unavailable)?;
        let mut page = out
            .items
            .unwrap_or_default()
            .iter()
            .map(job_from)
            .collect::<Result<Vec<_>, _>>()?;
        if page.len() > limit as usize {
            page.truncate(limit as usize);
            let last = page.last().map(|j| j.id);
            return Ok((page, last));
        }
        let next = out
            .last_evaluated_key
            .map(|k| k.parse("sk", |sk| JobId::parse(sk.trim_start_matches("JOB#"))))
            .transpose()?;
        Ok((page, next))
    }

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
        // A transaction holds 100 items: 99 jobs and their group's counters.
        for chunk in results.chunks(99) {
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
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(group_key(group)))
            .condition_expression(
                "#s IN (:pending, :running) AND completed_jobs = :c AND failed_jobs = :f",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":c", n(completed))
            .expression_attribute_values(":f", n(failed))
            .expression_attribute_values(":st", s(g.status.as_str()))
            .expression_attribute_values(":now", ts(now));
        req = match &g.error_message {
            Some(m) => req
                .update_expression("SET #s = :st, completed_at = :now, started_at = if_not_exists(started_at, :now), error_message = :m REMOVE active_pk, active_sk")
                .expression_attribute_values(":m", s(m)),
            None => req.update_expression("SET #s = :st, completed_at = :now, started_at = if_not_exists(started_at, :now) REMOVE active_pk, active_sk"),
        };
        match req.send().await {
            Ok(_) => Ok(Some(g.status)),
            Err(e) if is_condition_failure(&e).is_some() => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[async_trait]
impl StalledGroups for DynamoJobs {
    async fn stalled(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<JobGroup>, StoreError> {
        let mut found = Vec::new();
        for shard in 0..ACTIVE_SHARDS {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("active")
                .key_condition_expression("active_pk = :p AND active_sk < :before")
                .expression_attribute_values(":p", s(format!("ACTIVE#{shard}")))
                .expression_attribute_values(":before", ts(before))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items.unwrap_or_default() {
                let at = item.str("active_sk")?.to_owned();
                found.push((at, group_from(&item)?));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found.into_iter().take(limit).map(|(_, g)| g).collect())
    }

    async fn swept(
        &self,
        group: JobGroupId,
        seen: (u32, u32),
        actual: (u32, u32),
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(group_key(group)))
            .update_expression("SET completed_jobs = :ac, failed_jobs = :af, active_sk = :progress")
            .condition_expression(
                "#s IN (:pending, :running) AND completed_jobs = :c AND failed_jobs = :f",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":c", n(seen.0))
            .expression_attribute_values(":f", n(seen.1))
            .expression_attribute_values(":ac", n(actual.0))
            .expression_attribute_values(":af", n(actual.1))
            .expression_attribute_values(":progress", active_sk(group, now))
            .send()
            .await;
        applied(res)
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
