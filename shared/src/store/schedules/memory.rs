//! Schedules, the calendar and watermarks in memory; held to the contract suite of the
//! DynamoDB adapter.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::RotationProgress;
use crate::domain::ScheduleId;
use crate::domain::UserId;
use crate::schedule::{Schedule, TradingCalendar};
use crate::store::{ScheduleStore, StoreError};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Schedules, the calendar and watermarks in memory.
#[derive(Debug, Default)]
pub struct MemorySchedules {
    schedules: Mutex<BTreeMap<(UserId, ScheduleId), Schedule>>,
    calendar: Mutex<Option<TradingCalendar>>,
    watermarks: Mutex<HashMap<(UserId, String), NaiveDate>>,
    rotation: Mutex<Option<(RotationProgress, u64)>>,
}

#[async_trait]
impl ScheduleStore for MemorySchedules {
    async fn save_schedule(&self, schedule: &Schedule) -> Result<bool, StoreError> {
        let mut all = lock(&self.schedules);
        let key = (schedule.user_id, schedule.id);
        let stored = all.get(&key).map(|s| s.version);
        let fits = match stored {
            None => schedule.version == 0,
            Some(v) => v == schedule.version,
        };
        if fits {
            let mut s = schedule.clone();
            s.version += 1;
            all.insert(key, s);
        }
        Ok(fits)
    }

    async fn get_schedule(
        &self,
        user: UserId,
        id: ScheduleId,
    ) -> Result<Option<Schedule>, StoreError> {
        Ok(lock(&self.schedules).get(&(user, id)).cloned())
    }

    async fn list_schedules(&self, user: UserId) -> Result<Vec<Schedule>, StoreError> {
        Ok(lock(&self.schedules)
            .values()
            .filter(|s| s.user_id == user)
            .cloned()
            .collect())
    }

    async fn delete_schedule(&self, user: UserId, id: ScheduleId) -> Result<bool, StoreError> {
        Ok(lock(&self.schedules).remove(&(user, id)).is_some())
    }

    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Schedule>, StoreError> {
        let mut due: Vec<(DateTime<Utc>, Schedule)> = lock(&self.schedules)
            .values()
            .filter_map(|s| s.next_fire().filter(|t| *t <= now).map(|t| (t, s.clone())))
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        Ok(due.into_iter().take(limit).map(|(_, s)| s).collect())
    }

    async fn calendar(&self) -> Result<Option<TradingCalendar>, StoreError> {
        Ok(lock(&self.calendar).clone())
    }

    async fn merge_calendar(&self, newer: &TradingCalendar) -> Result<(), StoreError> {
        let mut cal = lock(&self.calendar);
        *cal = Some(
            cal.as_ref()
                .map_or_else(|| newer.clone(), |c| c.merged(newer)),
        );
        Ok(())
    }

    async fn rotation(&self) -> Result<Option<(RotationProgress, u64)>, StoreError> {
        Ok(lock(&self.rotation).clone())
    }

    async fn save_rotation(
        &self,
        progress: &RotationProgress,
        version: u64,
    ) -> Result<bool, StoreError> {
        let mut stored = lock(&self.rotation);
        if stored.as_ref().map_or(0, |(_, v)| *v) != version {
            return Ok(false);
        }
        *stored = Some((progress.clone(), version + 1));
        Ok(true)
    }

    async fn watermark(&self, user: UserId, key: &str) -> Result<Option<NaiveDate>, StoreError> {
        Ok(lock(&self.watermarks).get(&(user, key.to_owned())).copied())
    }

    async fn advance_watermark(
        &self,
        user: UserId,
        key: &str,
        to: NaiveDate,
    ) -> Result<(), StoreError> {
        let mut w = lock(&self.watermarks);
        let e = w.entry((user, key.to_owned())).or_insert(to);
        *e = (*e).max(to);
        Ok(())
    }
}
