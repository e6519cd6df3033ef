//! Schedules, the trading calendar and incremental watermarks in the jobs table. A schedule
//! item is `USER#<user id>` / `SCHEDULE#<id>` with its fields as JSON in `body` and a
//! `version` every write is conditioned on; while it waits for a fire it carries the sparse
//! `gsi1` key `SCHEDULES` / `<next fire>#<id>`, so the scheduler finds what is due with one
//! `Query`, earliest first. The calendar is one item (`CALENDAR` / `TSE`); a watermark is
//! `USER#<user id>` / `WATERMARK#<key>`, moved only forward by a conditional update.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};

use super::RotationProgress;
use crate::domain::{ScheduleId, UserId};
use crate::schedule::{Schedule, TradingCalendar};
use crate::store::dynamo::DynamoJobs;
use crate::store::dynamo::item::{Item, ItemExt, n, s, ts};
use crate::store::dynamo::unavailable;
use crate::store::{ScheduleStore, StoreError};

const DUE: &str = "SCHEDULES";

fn key(pk: String, sk: String) -> Item {
    Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn schedule_key(user: UserId, id: ScheduleId) -> Item {
    key(format!("USER#{user}"), format!("SCHEDULE#{id}"))
}

fn calendar_key() -> Item {
    key("CALENDAR".into(), "TSE".into())
}

fn text(t: DateTime<Utc>) -> String {
    let AttributeValue::S(v) = ts(t) else {
        unreachable!("timestamps are strings")
    };
    v
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn read(item: &Item) -> Result<Schedule, StoreError> {
    let mut schedule: Schedule = serde_json::from_str(item.str("body")?).map_err(corrupt)?;
    schedule.version = item.num("version")?;
    Ok(schedule)
}

/// Errors of the conditional writes used here.
trait Conditional {
    fn condition_failed(&self) -> bool;
}

impl Conditional for PutItemError {
    fn condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl Conditional for UpdateItemError {
    fn condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

/// A conditional write that lost: not an error, an answer.
fn lost<E: Conditional, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool {
    e.as_service_error()
        .is_some_and(Conditional::condition_failed)
}

impl DynamoJobs {
    async fn put_versioned(&self, mut item: Item, version: u64) -> Result<bool, StoreError> {
        item.insert("version".into(), n(version + 1));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let put = if version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :v")
                .expression_attribute_values(":v", n(version))
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if lost(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[async_trait]
impl ScheduleStore for DynamoJobs {
    async fn save_schedule(&self, schedule: &Schedule) -> Result<bool, StoreError> {
        let mut item = schedule_key(schedule.user_id, schedule.id);
        item.insert(
            "body".into(),
            s(serde_json::to_string(schedule).map_err(corrupt)?),
        );
        if let Some(next) = schedule.next_fire() {
            item.insert("gsi1pk".into(), s(DUE));
            item.insert(
                "gsi1sk".into(),
                s(format!("{}#{}", text(next), schedule.id)),
            );
        }
        self.put_versioned(item, schedule.version).await
    }

    async fn get_schedule(
        &self,
        user: UserId,
        id: ScheduleId,
    ) -> Result<Option<Schedule>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(schedule_key(user, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item.as_ref().map(read).transpose()
    }

    async fn list_schedules(&self, user: UserId) -> Result<Vec<Schedule>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :sk)")
                .expression_attribute_values(":pk", s(format!("USER#{user}")))
                .expression_attribute_values(":sk", s("SCHEDULE#"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                out.push(read(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    async fn delete_schedule(&self, user: UserId, id: ScheduleId) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(schedule_key(user, id)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.attributes.is_some())
    }

    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Schedule>, StoreError> {
        // `$` sorts right after `#`: every key of a fire time up to and including `now`.
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :due AND gsi1sk < :bound")
            .expression_attribute_values(":due", s(DUE))
            .expression_attribute_values(":bound", s(format!("{}$", text(now))))
            .limit(i32::try_from(limit.clamp(1, 1000)).unwrap_or(1000))
            .send()
            .await
            .map_err(unavailable)?;
        out.items().iter().map(read).collect()
    }

    async fn calendar(&self) -> Result<Option<TradingCalendar>, StoreError> {
        Ok(self.calendar_item().await?.map(|(c, _)| c))
    }

    async fn merge_calendar(&self, newer: &TradingCalendar) -> Result<(), StoreError> {
        // Read, merge, write over the version read; a concurrent merge makes us merge again.
        for _ in 0..5 {
            let (merged, version) = match self.calendar_item().await? {
                Some((old, v)) => (old.merged(newer), v),
                None => (newer.clone(), 0),
            };
            let mut item = calendar_key();
            item.insert(
                "body".into(),
                s(serde_json::to_string(&merged).map_err(corrupt)?),
            );
            if self.put_versioned(item, version).await? {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable(anyhow::anyhow!(
            "the calendar kept changing under the merge"
        )))
    }

    async fn watermark(&self, user: UserId, key: &str) -> Result<Option<NaiveDate>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(watermark_key(user, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item
            .map(|i| i.parse("date", str::parse::<NaiveDate>))
            .transpose()
    }

    async fn rotation(&self) -> Result<Option<(RotationProgress, u64)>, StoreError> {
        self.versioned_body(rotation_key()).await
    }

    async fn save_rotation(
        &self,
        progress: &RotationProgress,
        version: u64,
    ) -> Result<bool, StoreError> {
        let mut item = rotation_key();
        item.insert(
            "body".into(),
            s(serde_json::to_string(progress).map_err(corrupt)?),
        );
        self.put_versioned(item, version).await
    }

    async fn advance_watermark(
        &self,
        user: UserId,
        key: &str,
        to: NaiveDate,
    ) -> Result<(), StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(watermark_key(user, key)))
            .update_expression("SET #d = :to")
            .condition_expression("attribute_not_exists(#d) OR #d < :to")
            .expression_attribute_names("#d", "date")
            .expression_attribute_values(":to", s(to.to_string()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            // Already at or past `to`.
            Err(e) if lost(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

fn rotation_key() -> Item {
    key("SWEEP".into(), "KEY_ROTATION".into())
}

fn watermark_key(user: UserId, key: &str) -> Item {
    self::key(format!("USER#{user}"), format!("WATERMARK#{key}"))
}

impl DynamoJobs {
    async fn calendar_item(&self) -> Result<Option<(TradingCalendar, u64)>, StoreError> {
        self.versioned_body(calendar_key()).await
    }

    /// A single item's JSON `body` and the `version` it was written at.
    async fn versioned_body<T: serde::de::DeserializeOwned>(
        &self,
        key: Item,
    ) -> Result<Option<(T, u64)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item
            .map(|i| {
                let body = serde_json::from_str(i.str("body")?).map_err(corrupt)?;
                Ok((body, i.num("version")?))
            })
            .transpose()
    }
}
