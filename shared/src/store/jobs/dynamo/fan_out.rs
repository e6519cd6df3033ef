//! The fan-out on DynamoDB: the group and its fan-out item created together, chunks claimed,
//! jobs written in batches, the cursors moved by conditional updates.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, PutRequest, TransactWriteItem, WriteRequest};
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{IssueCode, Job, JobGroup, JobGroupId, Split};
use crate::store::StoreError;
use crate::store::dynamo::item::{Item, ItemExt, n, s, ts};
use crate::store::dynamo::{batch_write, unavailable};
use crate::store::jobs::{FanOut, FanOutCursor, FanOutPlan, FanOutStore};

use super::*;

#[async_trait]
impl FanOutStore for DynamoJobs {
    async fn create_group(
        &self,
        group: &JobGroup,
        symbols: &[Option<IssueCode>],
    ) -> Result<(), StoreError> {
        let fan_out = fan_out_item(group, symbols);
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
        let flag = |k: &str| matches!(item.get(k), Some(AttributeValue::Bool(true)));
        let plan = if per_day {
            FanOutPlan::PerTradingDay(days)
        } else if flag("per_issue") {
            FanOutPlan::PerListedIssue(
                flag("issues_planned").then(|| symbols.into_iter().flatten().collect()),
            )
        } else {
            FanOutPlan::Symbols(symbols)
        };
        Ok(Some(FanOut {
            plan,
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
}

/// The fan-out item of a new group: its symbols, its kind, both cursors at 0.
pub(super) fn fan_out_item(group: &JobGroup, symbols: &[Option<IssueCode>]) -> Item {
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
    fan_out
}
