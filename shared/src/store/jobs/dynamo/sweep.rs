//! The sweep's view of the jobs table: groups that stopped moving, found through the sparse
//! `active` index, and their counters reconciled from their jobs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{JobGroup, JobGroupId};
use crate::store::StoreError;
use crate::store::dynamo::item::{ItemExt, n, s, ts};
use crate::store::dynamo::unavailable;
use crate::store::jobs::StalledGroups;

use super::*;

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
