//! The contract suite of the schedule store: versioned schedule writes, due fires, the
//! calendar merged, watermarks moved only forward.

use std::collections::BTreeMap;

use chrono::Duration;

use crate::clock::test_epoch as t0;
use crate::domain::{DataSourceId, UserId};
use crate::store::ScheduleStore;

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
    let cal = |first: &str, last: &str, open: &[&str]| {
        TradingCalendar::new(d(first), d(last), open.iter().map(|s| d(s)), t0())
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
    assert!(merged.covers_all(d("2026-01-01"), d("2026-01-20")));
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

    // The key-rotation sweep's progress: versioned like a schedule.
    assert_eq!(store.rotation().await.unwrap(), None);
    let mut p = super::RotationProgress {
        key_arn: "arn:aws:kms:ap-northeast-1:000000000000:key/one".into(),
        cursor: Some("a#b".into()),
        scanned: 3,
        ..Default::default()
    };
    assert!(store.save_rotation(&p, 0).await.unwrap());
    assert!(
        !store.save_rotation(&p, 0).await.unwrap(),
        "a second first write loses"
    );
    let (read, version) = store.rotation().await.unwrap().unwrap();
    assert_eq!((read, version), (p.clone(), 1));
    p.scanned = 7;
    assert!(store.save_rotation(&p, 1).await.unwrap());
    assert!(
        !store.save_rotation(&p, 1).await.unwrap(),
        "a stale version loses"
    );
    assert_eq!(store.rotation().await.unwrap().unwrap().0.scanned, 7);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schedules::MemorySchedules;

    #[tokio::test]
    async fn the_memory_fake_keeps_the_contract() {
        schedule_store(&MemorySchedules::default()).await;
    }
}
