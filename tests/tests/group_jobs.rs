//! `GET /v1/job-groups/{id}/jobs` on the local stack: a group's jobs in a mix of states, walked
//! page by page with and without a status filter (every job exactly once, in order), and the
//! query's edges (unknown status, bad limit, a tampered or foreign cursor) answered 400 with
//! problem+json.

use std::collections::BTreeMap;

use chrono::{Days, Duration, Utc};
use integration_tests::World;
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::{JobGroupId, JobId, ResponseData};
use shared::store::dynamo::DynamoJobs;
use shared::store::{JobLifecycle, JobQueries, JobResult, StartOutcome};

/// Job `i`'s state in the test group.
fn planned(i: u32) -> &'static str {
    match i {
        7 | 19 => "failed",
        _ if i % 4 == 1 => "completed",
        _ if i % 4 == 2 => "running",
        _ => "pending",
    }
}

async fn create_group(w: &World, symbols: &[String]) -> String {
    let today = Utc::now().date_naive();
    let body = json!({
        "data_source": "jquants-v2", "endpoint": "eq-bars-daily", "symbols": symbols,
        "params": {"from": (today - Days::new(60)).to_string(),
                   "to": (today - Days::new(45)).to_string()},
    });
    let g = w
        .user
        .expect(Method::POST, "/v1/job-groups", Some(&body), 202)
        .await
        .unwrap();
    g["id"].as_str().unwrap().to_owned()
}

/// Walks the listing with `query` (`limit=…&status=…`); every page's jobs, and the pages.
async fn walk(w: &World, group: &str, query: &str) -> (Vec<Value>, usize) {
    let (mut jobs, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let mut path = format!("/v1/job-groups/{group}/jobs?{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = w.user.expect(Method::GET, &path, None, 200).await.unwrap();
        jobs.extend(page["jobs"].as_array().unwrap().iter().cloned());
        pages += 1;
        assert!(pages < 50, "the walk ends");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (jobs, pages),
        }
    }
}

#[tokio::test]
async fn a_groups_jobs_are_listed_once_each_filtered_and_paged() {
    let w = World::new(100, Default::default()).await;
    let symbols: Vec<String> = sandbox::issue_codes().iter().take(26).cloned().collect();
    let group = create_group(&w, &symbols).await;
    let other = create_group(&w, &symbols[..2]).await;
    w.run_fan_outs(2).await;

    // The fetcher's store calls, by hand: each job taken to its planned state.
    let store = DynamoJobs::new(w.stack.aws.dynamodb.clone(), &w.stack.api_config.jobs_table);
    let id = JobGroupId::parse(&group).unwrap();
    let now = Utc::now();
    for i in 0..26 {
        if planned(i) == "pending" {
            continue;
        }
        let g = store.get_group(id).await.unwrap().unwrap();
        let started = store
            .start_job(&g, JobId::new(i), now, Duration::minutes(10))
            .await
            .unwrap();
        assert!(matches!(started, StartOutcome::Started(_)), "{started:?}");
        let result = match planned(i) {
            "completed" => JobResult::Completed(ResponseData::summary(u64::from(i), 1)),
            "failed" => JobResult::Failed("provider said no".into()),
            _ => continue,
        };
        store
            .finish_job(id, JobId::new(i), &result, now)
            .await
            .unwrap();
    }

    let (all, pages) = walk(&w, &group, "limit=4").await;
    assert!(pages >= 7, "{pages} pages");
    let seen: Vec<(u64, &str, &str)> = all
        .iter()
        .map(|j| {
            (
                j["id"].as_u64().unwrap(),
                j["status"].as_str().unwrap(),
                j["symbol"].as_str().unwrap(),
            )
        })
        .collect();
    let want: Vec<(u64, &str, &str)> = (0..26u32)
        .map(|i| (u64::from(i), planned(i), symbols[i as usize].as_str()))
        .collect();
    assert_eq!(seen, want, "every job once, in order, as stored");
    let done = &all[5];
    assert_eq!((&done["rows"], &done["pages"]), (&json!(5), &json!(1)));
    assert_eq!(all[7]["error_message"], "provider said no");

    let mut by_status: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for status in ["pending", "running", "completed", "failed"] {
        let (jobs, _) = walk(&w, &group, &format!("status={status}&limit=3")).await;
        assert!(jobs.iter().all(|j| j["status"] == status), "{status}");
        by_status.insert(
            status,
            jobs.iter().map(|j| j["id"].as_u64().unwrap()).collect(),
        );
        let want: Vec<u64> = (0..26u32)
            .filter(|i| planned(*i) == status)
            .map(u64::from)
            .collect();
        assert_eq!(by_status[status], want, "{status}: each once, in order");
    }
    assert_eq!(by_status["failed"], [7, 19]);
    let (theirs, _) = walk(&w, &other, "limit=100").await;
    assert_eq!(theirs.len(), 2, "another group's jobs are its own");

    // The query's edges: 400 with problem+json, saying what to change.
    let first = w
        .user
        .expect(
            Method::GET,
            &format!("/v1/job-groups/{group}/jobs?limit=2"),
            None,
            200,
        )
        .await
        .unwrap();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (cursor_group, _) = cursor.split_once('.').unwrap();
    let foreign = cursor.replace(cursor_group, &other);
    for (query, says) in [
        ("status=done", "unknown `status`"),
        ("status=", "unknown `status`"),
        ("limit=0", "`limit` must be between 1 and 100"),
        ("limit=101", "`limit` must be between 1 and 100"),
        ("limit=x", "limit"),
        ("cursor=garbage", "`cursor` is not one this listing gave"),
        (&format!("cursor={cursor}x"), "`cursor` is not one"),
        (&format!("cursor={foreign}"), "`cursor` is not one"),
        ("page=2", "unknown field"),
    ] {
        let (status, kind, body) = w
            .user
            .text(&format!("/v1/job-groups/{group}/jobs?{query}"))
            .await
            .unwrap();
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(kind, "application/problem+json", "{query}");
        assert!(body.contains(says), "{query}: {body}");
    }
    let (status, _, _) = w
        .user
        .text(&format!("/v1/job-groups/{}/jobs", JobGroupId::new()))
        .await
        .unwrap();
    assert_eq!(status, 404);
}
