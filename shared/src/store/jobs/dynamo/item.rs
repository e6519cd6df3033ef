//! The jobs table's items: a group and a job to DynamoDB attributes and back.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;

use crate::domain::{
    Checkpoint, DataSourceId, EndpointRef, IssueCode, Job, JobGroup, JobGroupId, JobGroupStatus,
    JobId, JobStatus, ResponseData, Split, UserId,
};
use crate::store::StoreError;
use crate::store::dynamo::item::{Item, ItemExt, n, s, ts};
use crate::store::jobs::GroupCursor;

use super::*;

pub(super) fn group_item(g: &JobGroup) -> Item {
    let mut item = group_key(g.id);
    let params = g.params.iter().map(|(k, v)| (k.clone(), s(v))).collect();
    item.extend([
        ("user_id".into(), s(g.user_id.to_string())),
        ("data_source_id".into(), s(g.data_source_id.as_str())),
        ("endpoint_id".into(), s(g.endpoint.as_str())),
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

pub(super) fn group_from(item: &Item) -> Result<JobGroup, StoreError> {
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
    let data_source_id = item.parse("data_source_id", DataSourceId::parse)?;
    // An endpoint the catalog no longer has leaves the group unreadable, as any other field
    // that does not parse: endpoints stay in the catalog once shipped (catalog/endpoint_ref.rs).
    let endpoint = item.parse("endpoint_id", |id| EndpointRef::parse(&data_source_id, id))?;
    Ok(JobGroup {
        id: item.parse("pk", |pk| {
            JobGroupId::parse(pk.trim_start_matches("GROUP#"))
        })?,
        user_id: item.parse("user_id", UserId::parse)?,
        data_source_id,
        endpoint,
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

pub(super) fn job_item(j: &Job) -> Item {
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

pub(super) fn job_from(item: &Item) -> Result<Job, StoreError> {
    let response_data = match item.get("response_data") {
        Some(AttributeValue::M(m)) => {
            let m: Item = m.clone();
            Some(ResponseData {
                rows: m.num("rows")?,
                pages: m.num("pages")?,
                archive: m.opt_str("archive").map(str::to_owned),
                held: None,
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

pub(super) fn checkpoint_item(c: &Checkpoint) -> AttributeValue {
    AttributeValue::M(
        [
            ("next_page".to_owned(), s(c.next_page.clone())),
            ("pages".to_owned(), n(c.pages)),
            ("rows".to_owned(), n(c.rows)),
        ]
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn group() -> JobGroup {
        JobGroup {
            id: JobGroupId::new(),
            user_id: UserId::new(),
            data_source_id: DataSourceId::parse("jquants-v2").unwrap(),
            endpoint: "eq-bars-daily".parse().unwrap(),
            params: BTreeMap::from([
                ("from".into(), "2026-01-05".into()),
                ("to".into(), "2026-01-30".into()),
            ]),
            status: JobGroupStatus::Running,
            created_at: Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap(),
            started_at: Some(Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 1).unwrap()),
            completed_at: None,
            error_message: None,
            total_jobs: 3,
            completed_jobs: 1,
            failed_jobs: 1,
            cancel_requested_at: None,
            split: Split::PerTradingDay,
        }
    }

    #[test]
    fn a_group_reads_back_as_written_and_a_running_one_is_in_the_active_index() {
        let g = group();
        let item = group_item(&g);
        let back = group_from(&item).unwrap();
        assert_eq!(back.id, g.id);
        assert_eq!(
            (
                back.user_id,
                &back.params,
                back.status,
                back.created_at,
                back.split,
                (back.total_jobs, back.completed_jobs, back.failed_jobs)
            ),
            (
                g.user_id,
                &g.params,
                g.status,
                g.created_at,
                g.split,
                (3, 1, 1)
            )
        );
        assert!(item.contains_key("active_pk") && item.contains_key("active_sk"));
        let done = group_item(&JobGroup {
            status: JobGroupStatus::Completed,
            ..g
        });
        assert!(
            !done.contains_key("active_pk"),
            "an ended group leaves the index"
        );
    }

    #[test]
    fn jobs_read_back_with_their_symbol_or_day_and_checkpoint() {
        let g = JobGroupId::new();
        let by_symbol = Job::new(g, JobId::new(7), Some(IssueCode::parse("72030").unwrap()));
        assert_eq!(job_from(&job_item(&by_symbol)).unwrap(), by_symbol);
        let day = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let by_day = Job::for_day(g, JobId::new(8), day);
        assert_eq!(job_from(&job_item(&by_day)).unwrap(), by_day);
        let mut item = job_item(&by_symbol);
        let at = Checkpoint {
            next_page: "key-2".into(),
            pages: 2,
            rows: 2000,
        };
        item.insert("checkpoint".into(), checkpoint_item(&at));
        assert_eq!(job_from(&item).unwrap().checkpoint, Some(at));
    }

    #[test]
    fn an_item_missing_a_field_is_corrupt_not_a_default() {
        let mut item = group_item(&group());
        item.remove("status");
        assert!(matches!(group_from(&item), Err(StoreError::Corrupt(_))));
        let mut job = job_item(&Job::new(JobGroupId::new(), JobId::new(0), None));
        job.remove("status");
        assert!(matches!(job_from(&job), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn the_endpoint_is_stored_as_its_id_and_one_the_catalog_lacks_does_not_read() {
        let g = group();
        let mut item = group_item(&g);
        assert_eq!(item.str("endpoint_id").unwrap(), "eq-bars-daily");
        let back = group_from(&item).unwrap();
        assert_eq!(back.endpoint, g.endpoint);
        assert_eq!(back.endpoint.path, "/equities/bars/daily");
        // Removed from the catalog, or another data source's endpoint: the item names no
        // endpoint the group could run or be read back with.
        for (source, id) in [("jquants-v2", "eq-bars-weekly"), ("yahoo", "eq-bars-daily")] {
            item.insert("data_source_id".into(), s(source));
            item.insert("endpoint_id".into(), s(id));
            let Err(StoreError::Corrupt(why)) = group_from(&item) else {
                panic!("{source}/{id} read");
            };
            assert_eq!(
                why,
                format!("attribute `endpoint_id`: data source `{source}` has no endpoint `{id}`")
            );
        }
    }
}
