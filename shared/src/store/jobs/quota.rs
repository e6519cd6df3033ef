//! Per-user quotas on the jobs table: jobs charged to a user's groups that have not ended
//! (active jobs), and small fixed-window counters (groups a minute, credential checks a
//! minute). A group's creation takes its charges in the transaction that stores it, so a
//! refused creation stores nothing and an admitted one costs no extra AWS call; the charge is
//! released when the group ends ([`super::GroupControl::finalize_group`]).

use chrono::{DateTime, Utc};

use crate::domain::{JobGroup, Split};

/// Jobs a group split per listed issue is charged before the listing has planned them (about
/// the number of issues listed on the Tokyo exchanges).
pub const LISTED_ISSUES_CHARGE: u32 = 4_500;

/// A fixed-window counter of a user's: what it counts and how many a window allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimit {
    /// The counter's name (part of its key), e.g. `groups`.
    pub name: &'static str,
    /// Events a window allows.
    pub max: u32,
    /// The window's length in seconds; windows start at multiples of it since the epoch.
    pub window_secs: u32,
}

impl WindowLimit {
    /// The start of the window `now` falls in, in seconds since the epoch.
    pub fn window_start(&self, now: DateTime<Utc>) -> i64 {
        let len = i64::from(self.window_secs.max(1));
        now.timestamp().div_euclid(len) * len
    }

    /// Seconds from `now` until the next window starts (at least 1).
    pub fn retry_after_secs(&self, now: DateTime<Utc>) -> u64 {
        let end = self.window_start(now) + i64::from(self.window_secs.max(1));
        u64::try_from(end - now.timestamp()).unwrap_or(1).max(1)
    }
}

/// What a group's creation must fit in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupQuota {
    /// Jobs the owner's groups not ended may hold together, this group's charge included.
    pub max_active_jobs: u64,
    /// Groups the owner may create a window.
    pub groups: WindowLimit,
}

/// Why a group's creation was refused; nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaExceeded {
    /// The owner's groups not ended hold too many jobs (`active` of `limit`, this group
    /// would add `charge`).
    ActiveJobs {
        /// The limit.
        limit: u64,
        /// This group's charge.
        charge: u32,
    },
    /// The owner created [`WindowLimit::max`] groups this window already.
    Window(WindowLimit),
}

/// The jobs a group is charged against its owner's active-jobs limit: its jobs when known,
/// else an upper estimate (the calendar days of its range, the listed issues).
pub fn charge(group: &JobGroup) -> u32 {
    match group.split {
        Split::PerSymbol => group.total_jobs.max(1),
        Split::PerTradingDay => group.range().map_or(1, |r| {
            u32::try_from((r.to() - r.from()).num_days() + 1).unwrap_or(u32::MAX)
        }),
        Split::PerListedIssue => LISTED_ISSUES_CHARGE,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn windows_start_on_multiples_of_their_length() {
        let limit = WindowLimit {
            name: "groups",
            max: 3,
            window_secs: 60,
        };
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 45).unwrap();
        assert_eq!(limit.window_start(at) % 60, 0);
        assert_eq!(limit.retry_after_secs(at), 15);
        let edge = Utc.with_ymd_and_hms(2026, 11, 26, 9, 1, 0).unwrap();
        assert_eq!(limit.retry_after_secs(edge), 60);
    }
}
