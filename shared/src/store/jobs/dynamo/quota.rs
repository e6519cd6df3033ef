//! Per-user quotas on DynamoDB, in the jobs table beside the groups:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | jobs charged to the user's groups not ended (`active_jobs`) | `USER#<user id>` | `QUOTA` |
//! | a fixed-window counter (`count`, `expires_at` for TTL) | `USER#<user id>` | `WINDOW#<name>#<window start, epoch s>` |
//!
//! A group's creation writes the group, its fan-out item, `ADD active_jobs` and `ADD count`
//! in one transaction whose conditions are the limits: still one AWS call.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};

use crate::domain::{IssueCode, JobGroup, UserId};
use crate::store::StoreError;
use crate::store::dynamo::item::{Item, ItemExt, n, s};
use crate::store::dynamo::unavailable;
use crate::store::jobs::{GroupQuota, QuotaExceeded, UserQuotas, WindowLimit, charge};

use super::fan_out::fan_out_item;
use super::item::group_item;
use super::*;

/// How long a window's counter item outlives its window (TTL deletes it after).
const WINDOW_KEPT_SECS: i64 = 3600;

pub(super) fn quota_key(user: UserId) -> Item {
    Item::from([
        ("pk".into(), s(format!("USER#{user}"))),
        ("sk".into(), s("QUOTA")),
    ])
}

fn window_key(user: UserId, limit: &WindowLimit, now: DateTime<Utc>) -> Item {
    Item::from([
        ("pk".into(), s(format!("USER#{user}"))),
        (
            "sk".into(),
            s(format!("WINDOW#{}#{}", limit.name, limit.window_start(now))),
        ),
    ])
}

/// `ADD count 1` on the window's item unless it holds `max` already: the expression, its
/// condition, names and values.
const WINDOW_ADD: &str = "ADD #c :one SET expires_at = :exp";
const WINDOW_ROOM: &str = "attribute_not_exists(#c) OR #c < :max";

fn window_names() -> std::collections::HashMap<String, String> {
    std::collections::HashMap::from([("#c".to_owned(), "count".to_owned())])
}

fn window_values(limit: &WindowLimit, now: DateTime<Utc>) -> Item {
    let expires = limit.window_start(now) + i64::from(limit.window_secs) + WINDOW_KEPT_SECS;
    Item::from([
        (":one".into(), n(1)),
        (":max".into(), n(limit.max)),
        (":exp".into(), n(expires)),
    ])
}

#[async_trait]
impl UserQuotas for DynamoJobs {
    async fn create_group_within(
        &self,
        group: &JobGroup,
        symbols: &[Option<IssueCode>],
        quota: &GroupQuota,
        now: DateTime<Utc>,
    ) -> Result<Result<(), QuotaExceeded>, StoreError> {
        let charge = charge(group);
        if u64::from(charge) > quota.max_active_jobs {
            return Ok(Err(QuotaExceeded::ActiveJobs {
                limit: quota.max_active_jobs,
                charge,
            }));
        }
        let mut stored = group_item(group);
        stored.insert("quota_charge".into(), n(charge));
        let put = |item: Item| {
            let p = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .expect("table and item are set");
            TransactWriteItem::builder().put(p).build()
        };
        let active = update(&self.table, quota_key(group.user_id))
            .update_expression("ADD active_jobs :charge")
            .condition_expression("attribute_not_exists(active_jobs) OR active_jobs <= :room")
            .expression_attribute_values(":charge", n(charge))
            .expression_attribute_values(":room", n(quota.max_active_jobs - u64::from(charge)))
            .build()
            .expect("key and expression are set");
        let window = update(&self.table, window_key(group.user_id, &quota.groups, now))
            .update_expression(WINDOW_ADD)
            .condition_expression(WINDOW_ROOM)
            .set_expression_attribute_names(Some(window_names()))
            .set_expression_attribute_values(Some(window_values(&quota.groups, now)))
            .build()
            .expect("key and expression are set");
        let res = self
            .client
            .transact_write_items()
            .transact_items(put(stored))
            .transact_items(put(fan_out_item(group, symbols)))
            .transact_items(TransactWriteItem::builder().update(active).build())
            .transact_items(TransactWriteItem::builder().update(window).build())
            .send()
            .await;
        let Err(e) = res else {
            return Ok(Ok(()));
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error()
        else {
            return Err(unavailable(e));
        };
        let failed = |i: usize| {
            c.cancellation_reasons().get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
        };
        if failed(0) || failed(1) {
            Err(StoreError::AlreadyExists)
        } else if failed(2) {
            Ok(Err(QuotaExceeded::ActiveJobs {
                limit: quota.max_active_jobs,
                charge,
            }))
        } else if failed(3) {
            Ok(Err(QuotaExceeded::Window(quota.groups)))
        } else {
            Err(unavailable(e))
        }
    }

    async fn take(
        &self,
        user: UserId,
        limit: &WindowLimit,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(window_key(user, limit, now)))
            .update_expression(WINDOW_ADD)
            .condition_expression(WINDOW_ROOM)
            .set_expression_attribute_names(Some(window_names()))
            .set_expression_attribute_values(Some(window_values(limit, now)))
            .send()
            .await;
        applied(res)
    }

    async fn active_jobs(&self, user: UserId) -> Result<u64, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(quota_key(user)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        match out.item {
            Some(item) if item.contains_key("active_jobs") => {
                Ok(item.num::<i64>("active_jobs")?.max(0).unsigned_abs())
            }
            _ => Ok(0),
        }
    }
}

/// The release of a group's charge, for the transaction that ends it: `None` for a group
/// charged nothing (its stored item has no `quota_charge`).
pub(super) fn release(table: &str, group: &Item) -> Result<Option<TransactWriteItem>, StoreError> {
    if !group.contains_key("quota_charge") {
        return Ok(None);
    }
    let charge: i64 = group.num("quota_charge")?;
    let user = group.parse("user_id", UserId::parse)?;
    let u = update(table, quota_key(user))
        .update_expression("ADD active_jobs :minus")
        .expression_attribute_values(":minus", n(-charge))
        .build()
        .expect("key and expression are set");
    Ok(Some(TransactWriteItem::builder().update(u).build()))
}
