//! One bucket's usage: the sliding minute log and the hour and day counters, and the permits
//! they leave free now.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{Limits, MINUTE_WINDOW, QUARTER_MS, SLICE_MS, WaitReason};

/// A fixed window's count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// The window's number (hours or days since the epoch).
    pub window: i64,
    /// Requests in it.
    pub count: u32,
}

/// One bucket's usage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketState {
    /// Grant instants (ms since the epoch) inside the minute window, oldest first.
    pub recent: VecDeque<i64>,
    /// This hour's count.
    pub hour: Counter,
    /// Today's count.
    pub day: Counter,
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

impl BucketState {
    pub(super) fn prune(&mut self, now: i64) {
        let horizon = now - MINUTE_WINDOW.num_milliseconds();
        while self.recent.front().is_some_and(|&t| t <= horizon) {
            self.recent.pop_front();
        }
        for (counter, size) in [(&mut self.hour, HOUR_MS), (&mut self.day, DAY_MS)] {
            let window = now.div_euclid(size);
            if counter.window != window {
                *counter = Counter { window, count: 0 };
            }
        }
    }

    /// Permits available now, and if none, when the first frees and which limit holds it.
    pub(super) fn available(
        &self,
        limits: &Limits,
        shared: bool,
        now: i64,
    ) -> (u32, Option<(i64, WaitReason)>) {
        let minute = limits.per_minute.max(1);
        let used = self.recent.len() as u32;
        let mut free = minute.saturating_sub(used);
        let mut wait = None;
        if free == 0 {
            // The permit that must leave the window before another fits.
            let oldest = self.recent[(used - minute) as usize];
            wait = Some((
                oldest + MINUTE_WINDOW.num_milliseconds(),
                WaitReason::Minute,
            ));
        } else {
            let per_slice = minute.div_ceil(30);
            let slice = now - SLICE_MS;
            let in_slice = self.recent.iter().rev().take_while(|&&t| t > slice).count() as u32;
            free = free.min(per_slice.saturating_sub(in_slice));
            if free == 0 {
                let oldest = self.recent[self.recent.len() - per_slice as usize];
                wait = Some((oldest + SLICE_MS, WaitReason::Spread));
            }
            if shared {
                let per_quarter = minute.div_ceil(4);
                let quarter = now - QUARTER_MS;
                let in_quarter = self
                    .recent
                    .iter()
                    .rev()
                    .take_while(|&&t| t > quarter)
                    .count() as u32;
                let left = per_quarter.saturating_sub(in_quarter);
                if left == 0 {
                    let oldest = self.recent[self.recent.len() - per_quarter as usize];
                    wait = Some((oldest + QUARTER_MS, WaitReason::Quarter));
                }
                free = free.min(left);
            }
        }
        for (counter, limit, size, reason) in [
            (self.hour, limits.per_hour, HOUR_MS, WaitReason::Hour),
            (self.day, limits.per_day, DAY_MS, WaitReason::Day),
        ] {
            let Some(limit) = limit else { continue };
            let left = limit.max(1).saturating_sub(counter.count);
            if left == 0 {
                let next = (now.div_euclid(size) + 1) * size;
                if wait.is_none_or(|(w, _)| next > w) {
                    wait = Some((next, reason));
                }
            }
            free = free.min(left);
        }
        (free, wait)
    }
}
