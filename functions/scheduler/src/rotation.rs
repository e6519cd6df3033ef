//! The credentials' re-wrap after a key rotation, on its own: each tick checks which key the
//! alias names (one `DescribeKey`) and, while some credential may still be wrapped by another,
//! re-wraps the next page of them ([`shared::vault::Vault::rotation_sweep`]: KMS `ReEncrypt`,
//! no plaintext here), recording where it stands so the next tick resumes there and
//! `GET /v1/admin/key-rotation` shows it. A sweep that reached the end for the current key does
//! nothing more until the alias moves.

use shared::store::schedules::RotationProgress;

use crate::{Deps, TickReport};

/// Credentials re-wrapped a tick, at most: well inside the tick's time.
pub const PER_TICK: u32 = 200;

/// One step of the sweep, when the scheduler has the vault.
pub(crate) async fn run(deps: &Deps, report: &mut TickReport) -> anyhow::Result<()> {
    let Some(vault) = &deps.vault else {
        return Ok(());
    };
    let current = vault.current_key_arn().await?;
    let (stored, version) = deps.schedules.rotation().await?.unwrap_or_default();
    if stored.key_arn == current && stored.finished_at.is_some() {
        return Ok(());
    }
    let now = deps.clock.now();
    let mut progress = if stored.key_arn == current {
        stored
    } else {
        RotationProgress {
            key_arn: current.clone(),
            started_at: Some(now),
            ..RotationProgress::default()
        }
    };
    let swept = vault
        .rotation_sweep(progress.cursor.clone(), PER_TICK)
        .await?;
    if swept.current_key_arn != progress.key_arn {
        // The alias moved during the tick: the next one starts over for the new key.
        return Ok(());
    }
    progress.scanned += swept.scanned;
    progress.rewrapped += swept.rewrapped;
    progress.already_current += swept.already_current;
    progress.changed_concurrently += swept.changed_concurrently;
    progress.failed += swept.failed;
    progress.cursor = swept.next_cursor;
    if progress.cursor.is_none() {
        progress.finished_at = Some(now);
    }
    report.rewrapped += swept.rewrapped as usize;
    if !deps.schedules.save_rotation(&progress, version).await? {
        // Another tick recorded it first: its record stands, this page is re-read next time
        // (re-wrapping is idempotent).
        tracing::info!("key-rotation progress written by another tick");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;
    use secrecy::SecretString;
    use shared::clock::ManualClock;
    use shared::crypto::LocalKeys;
    use shared::domain::{DataSourceId, Plan, UserId};
    use shared::queue::MemoryJobQueue;
    use shared::store::ScheduleStore;
    use shared::store::memory::{MemoryAccounts, MemoryJobs, MemorySchedules};
    use shared::vault::Vault;

    use super::*;

    #[tokio::test]
    async fn a_rotation_is_swept_page_by_page_and_then_left_alone() {
        let clock = Arc::new(ManualClock::new(
            chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
        ));
        let accounts = Arc::new(MemoryAccounts::default());
        let keys = Arc::new(LocalKeys::default());
        let vault = Arc::new(Vault::new(accounts.clone(), keys.clone(), clock.clone()));
        let ds = DataSourceId::parse("jquants-v2").unwrap();
        let stored = PER_TICK as usize + 50;
        for _ in 0..stored {
            vault
                .store_api_key(UserId::new(), &ds, Plan::Light, SecretString::from("k"))
                .await
                .unwrap();
        }
        let schedules = Arc::new(MemorySchedules::default());
        let jobs = Arc::new(MemoryJobs::default());
        let deps = Deps {
            schedules: schedules.clone(),
            jobs: jobs.clone(),
            credentials: accounts.clone(),
            sources: accounts.clone(),
            users: accounts.clone(),
            parked: jobs.clone(),
            stalled: jobs,
            stalled_after: crate::STALLED_AFTER,
            queue: Arc::new(MemoryJobQueue::default()),
            clock: clock.clone(),
            vault: Some(vault),
            renewal: None,
        };
        let tick = || async {
            let mut report = TickReport::default();
            run(&deps, &mut report).await.unwrap();
            report.rewrapped
        };
        // The first sweep for the key finds everything current.
        assert_eq!(tick().await, 0);
        assert_eq!(tick().await, 0);
        let done = schedules.rotation().await.unwrap().unwrap().0;
        assert_eq!(
            (done.scanned, done.already_current),
            (stored as u64, stored as u64)
        );
        assert!(done.finished_at.is_some());
        let before = keys.calls();
        assert_eq!(tick().await, 0);
        assert!(
            keys.calls() - before <= 1,
            "a finished sweep only asks which key is current"
        );

        // The alias moves: a new sweep, a page a tick, resumed where the last one stopped.
        let new_key = keys.rotate_to_new_key();
        assert_eq!(tick().await, PER_TICK as usize);
        let halfway = schedules.rotation().await.unwrap().unwrap().0;
        assert_eq!(halfway.key_arn, new_key);
        assert!(halfway.cursor.is_some() && halfway.finished_at.is_none());
        assert_eq!(tick().await, stored - PER_TICK as usize);
        let done = schedules.rotation().await.unwrap().unwrap().0;
        assert_eq!((done.rewrapped, done.failed), (stored as u64, 0));
        assert!(done.finished_at.is_some());
        assert_eq!(tick().await, 0, "nothing left");
    }
}
