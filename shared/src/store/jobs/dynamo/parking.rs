//! Parked jobs in the jobs table: a parked job item carries `parked_until` and the sparse
//! `gsi1` key `PARKED` / `<due>#<group id>#<index>`, so the scheduler finds what is due with
//! one `Query` of the index, earliest first, never a scan. Timestamps are fixed-width UTC
//! text, so they sort and compare as text.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{DynamoJobs, job_key};
use crate::domain::{JobGroupId, JobId};
use crate::store::StoreError;
use crate::store::dynamo::item::{ItemExt, s, ts};
use crate::store::dynamo::unavailable;
use crate::store::jobs::{Parked, ParkedJobs};

const PARKED: &str = "PARKED";

fn sort_key(p: &Parked) -> String {
    let AttributeValue::S(due) = ts(p.until) else {
        unreachable!("timestamps are strings")
    };
    format!("{due}#{}#{:08}", p.group, p.job.index())
}

#[async_trait]
impl ParkedJobs for DynamoJobs {
    async fn park(
        &self,
        group: JobGroupId,
        job: JobId,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let parked = Parked { group, job, until };
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(job_key(group, job)))
            .update_expression("SET parked_until = :until, gsi1pk = :parked, gsi1sk = :sk")
            .condition_expression("attribute_exists(pk) AND #s IN (:pending, :running)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":until", ts(until))
            .expression_attribute_values(":parked", s(PARKED))
            .expression_attribute_values(":sk", s(sort_key(&parked)))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":running", s("running"))
            .send()
            .await;
        match res {
            // Finished (or gone) meanwhile: nothing to wait for.
            Err(e) if !matches!(
                e.as_service_error(),
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(_))
            ) => Err(unavailable(e)),
            _ => Ok(()),
        }
    }

    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Parked>, StoreError> {
        let AttributeValue::S(bound) = ts(now) else {
            unreachable!("timestamps are strings")
        };
        // `$` sorts right after `#`: every key of a due time up to and including `now`.
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :parked AND gsi1sk < :bound")
            .expression_attribute_values(":parked", s(PARKED))
            .expression_attribute_values(":bound", s(format!("{bound}$")))
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(unavailable)?;
        out.items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                Ok(Parked {
                    group: item.parse("pk", |pk| {
                        JobGroupId::parse(pk.trim_start_matches("GROUP#"))
                    })?,
                    job: item.parse("sk", |sk| JobId::parse(sk.trim_start_matches("JOB#")))?,
                    until: item.time("parked_until")?,
                })
            })
            .collect()
    }

    async fn unpark(&self, parked: &Parked) -> Result<(), StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(job_key(parked.group, parked.job)))
            .update_expression("REMOVE parked_until, gsi1pk, gsi1sk")
            .condition_expression("parked_until = :until")
            .expression_attribute_values(":until", ts(parked.until))
            .send()
            .await;
        match res {
            // Parked again for another time, or finished: leave it.
            Err(e) if !matches!(
                e.as_service_error(),
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(_))
            ) => Err(unavailable(e)),
            _ => Ok(()),
        }
    }
}
