//! Contract suites: one behaviour per port, run against the in-memory fake (unit tests) and the
//! AWS adapter on the emulator (`tests/`), so the fakes other tests rely on cannot drift. The
//! suites of the accounts and jobs ports, the fan-out, the limiter's store and the key service
//! live beside their port (re-exported here, so `tests/` finds every suite in one place); the
//! rows and schedules suites are still here.

pub use crate::crypto::contract::key_service;
pub use crate::fanout::contract::fan_out;
pub use crate::limiter::store::contract::{limiter_store, limiter_under_contention};
pub use crate::store::accounts::contract::{
    api_keys, credential_listing, credential_store, data_source_store, user_store,
};
pub use crate::store::jobs::contract::{
    group_job_listing, group_listing, job_batches, job_cancel_and_retry, job_store, parked_jobs,
};

use std::collections::BTreeMap;

use chrono::Duration;

use crate::clock::test_epoch as t0;
use crate::dataset::{FieldValue, Record};
use crate::domain::{DataSourceId, UserId};
use crate::store::{RowScope, RowStore, ScheduleStore};

fn bar(code: &str, date: &str, close: Option<f64>) -> Record {
    Record {
        partition: code.into(),
        sort: date.into(),
        fields: vec![
            ("Code".into(), FieldValue::Text(code.into())),
            ("Date".into(), FieldValue::Text(date.into())),
            (
                "C".into(),
                close.map_or(FieldValue::Null, FieldValue::Number),
            ),
            ("UL".into(), FieldValue::Text("0".into())),
        ],
    }
}

/// Rows are keyed by owner, dataset and natural key; storing again overwrites.
pub async fn row_store(store: &dyn RowStore) {
    let scope = RowScope {
        user_id: UserId::new(),
        dataset: crate::dataset::DatasetKind::EqBarsDaily,
    };
    let other = RowScope {
        user_id: UserId::new(),
        ..scope
    };
    let rows: Vec<Record> = (1..=30)
        .map(|d| {
            bar(
                "72030",
                &format!("2024-01-{d:02}"),
                if d == 5 {
                    None
                } else {
                    Some(2000.5 + d as f64)
                },
            )
        })
        .collect();
    store.put_rows(scope, &rows).await.unwrap();
    store
        .put_rows(
            scope,
            &[
                bar("72030", "2024-01-02", Some(1.25)),
                bar("86970", "2024-01-02", Some(3.0)),
            ],
        )
        .await
        .unwrap();
    let got = store
        .query_rows(scope, "72030", Some("2024-01-02"), Some("2024-01-05"))
        .await
        .unwrap();
    let json: Vec<_> = got.iter().map(Record::to_json).collect();
    let want: Vec<_> = [
        bar("72030", "2024-01-02", Some(1.25)),
        bar("72030", "2024-01-03", Some(2003.5)),
        bar("72030", "2024-01-04", Some(2004.5)),
        bar("72030", "2024-01-05", None),
    ]
    .iter()
    .map(Record::to_json)
    .collect();
    assert_eq!(json, want);
    assert_eq!(
        store
            .query_rows(scope, "72030", None, None)
            .await
            .unwrap()
            .len(),
        30,
        "no duplicates"
    );
    assert!(
        store
            .query_rows(other, "72030", None, None)
            .await
            .unwrap()
            .is_empty(),
        "rows are per user"
    );
    assert_eq!(
        store
            .query_rows(scope, "86970", None, None)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Schedules are written over the version read, found when due (and only then), listed and
/// deleted per user; the calendar merges; watermarks only move forward.
pub async fn schedule_store(store: &dyn ScheduleStore) {
    use crate::schedule::{CronSpec, Schedule, Template, TradingCalendar, Window};

    let user = UserId::new();
    // 18:00 Tokyo is 09:00 UTC; t0 is 09:00 UTC, so the first fire after t0 is tomorrow's.
    let mut s = Schedule::new(
        user,
        "daily bars".into(),
        CronSpec::parse("0 18 * * *", None).unwrap(),
        Template {
            data_source: DataSourceId::parse("jquants-v2").unwrap(),
            endpoint: "eq-bars-daily".into(),
            symbols: Vec::new(),
            all_listed_issues: false,
            params: BTreeMap::new(),
            window: Window::PreviousTradingDay,
        },
        t0(),
    );
    assert!(store.save_schedule(&s).await.unwrap());
    assert!(
        !store.save_schedule(&s).await.unwrap(),
        "a new id is created once"
    );
    let stored = store.get_schedule(user, s.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(
        Schedule {
            version: 0,
            ..stored.clone()
        },
        s
    );
    assert!(
        store
            .get_schedule(UserId::new(), s.id)
            .await
            .unwrap()
            .is_none(),
        "owner's only"
    );

    let fire = t0() + Duration::days(1);
    assert!(
        store
            .due_schedules(fire - Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.due_schedules(fire, 10).await.unwrap();
    assert_eq!(due.iter().map(|d| d.id).collect::<Vec<_>>(), vec![s.id]);

    // Two writers over version 1: one wins.
    let mut a = stored.clone();
    a.handled_until = fire;
    let mut b = stored.clone();
    b.name = "renamed".into();
    assert!(store.save_schedule(&a).await.unwrap());
    assert!(
        !store.save_schedule(&b).await.unwrap(),
        "written over a stale version"
    );
    assert!(
        store.due_schedules(fire, 10).await.unwrap().is_empty(),
        "handled: not due"
    );
    let stored = store.get_schedule(user, s.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.handled_until), (2, fire));

    // Disabled: never due.
    s = stored;
    s.enabled = false;
    assert!(store.save_schedule(&s).await.unwrap());
    assert!(
        store
            .due_schedules(fire + Duration::days(30), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let other = Schedule {
        id: crate::domain::ScheduleId::new(),
        version: 0,
        ..s.clone()
    };
    assert!(store.save_schedule(&other).await.unwrap());
    assert_eq!(store.list_schedules(user).await.unwrap().len(), 2);
    assert!(
        store
            .list_schedules(UserId::new())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.delete_schedule(user, other.id).await.unwrap());
    assert!(!store.delete_schedule(user, other.id).await.unwrap());
    assert_eq!(store.list_schedules(user).await.unwrap().len(), 1);

    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let cal = |first: &str, last: &str, open: &[&str]| TradingCalendar {
        first: d(first),
        last: d(last),
        trading: open.iter().map(|s| d(s)).collect(),
        fetched_at: t0(),
    };
    store
        .merge_calendar(&cal(
            "2026-01-01",
            "2026-01-10",
            &["2026-01-05", "2026-01-06"],
        ))
        .await
        .unwrap();
    store
        .merge_calendar(&cal("2026-01-06", "2026-01-20", &["2026-01-07"]))
        .await
        .unwrap();
    let merged = store.calendar().await.unwrap().unwrap();
    assert_eq!(
        (merged.first, merged.last),
        (d("2026-01-01"), d("2026-01-20"))
    );
    assert_eq!(merged.is_trading_day(d("2026-01-05")), Some(true));
    assert_eq!(
        merged.is_trading_day(d("2026-01-06")),
        Some(false),
        "the newer read wins"
    );

    let key = "jquants-v2#eq-bars-daily#all";
    assert_eq!(store.watermark(user, key).await.unwrap(), None);
    store
        .advance_watermark(user, key, d("2026-01-07"))
        .await
        .unwrap();
    store
        .advance_watermark(user, key, d("2026-01-05"))
        .await
        .unwrap();
    assert_eq!(
        store.watermark(user, key).await.unwrap(),
        Some(d("2026-01-07"))
    );
    assert_eq!(store.watermark(UserId::new(), key).await.unwrap(), None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::{MemoryRows, MemorySchedules};

    #[tokio::test]
    async fn memory_fakes_keep_the_contracts() {
        row_store(&MemoryRows::default()).await;
        schedule_store(&MemorySchedules::default()).await;
    }
}
