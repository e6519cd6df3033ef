//! Reading groups and jobs on DynamoDB: items by key, a user's groups through `gsi1`, a group's
//! jobs by one query of its partition.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::KeysAndAttributes;

use crate::domain::{Job, JobGroup, JobGroupId, JobId, JobStatus, UserId};
use crate::store::StoreError;
use crate::store::dynamo::item::{Item, ItemExt, s};
use crate::store::dynamo::unavailable;
use crate::store::jobs::{GroupCursor, JOBS_EXAMINED, JobQueries};

use super::*;

#[async_trait]
impl JobQueries for DynamoJobs {
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
}
