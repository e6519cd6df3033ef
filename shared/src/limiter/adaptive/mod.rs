//! Learning the limit the provider really applies, which may be less than the configured one:
//! the user declared the wrong plan, the key is shared with the user's own scripts, or the
//! provider changed its limits. The configured limit is only an upper bound.
//!
//! AIMD, not CUBIC (the AWS SDKs' adaptive mode): CUBIC regrows towards the last maximum within
//! seconds, fine for a service that sheds load with cheap throttles, but J-Quants locks a key
//! out for about five minutes when its attempts reach twice its limit in a minute, so every
//! overshoot must be small and rare. The rules, on stored state shared by every fetcher:
//! - **Slow start.** A scope with no recent history opens at [`START_PER_MINUTE`] (the smallest
//!   plan any J-Quants key has) and may only run [`SLOW_START_STEP`] requests ahead of what the
//!   provider has confirmed in the window, so a wrong declaration costs at most that many 429s.
//!   Once the confirmed count reaches the configured limit the scope is open: no more reports.
//! - **Multiplicative decrease.** A 429 in slow start sets the limit to what the provider just
//!   confirmed in the window; a 429 at any other time halves the limit (the provider changed,
//!   or something else shares the key).
//! - **Additive increase.** After [`PLATEAU`] without a 429 the limit rises by one a minute
//!   back to the configured bound: a limit learned once is trusted for a while, since every
//!   probe beyond it costs a 429.
//! - **One probe.** After a 429 the scope pauses; when the pause ends, exactly one request is
//!   granted (to one fetcher), and nothing else until its answer is reported or
//!   [`PROBE_TIMEOUT`] passes. 429s counted while paused are the same episode's stragglers.
//! - **Lockout.** A second 429 with no success in between pauses for a full window; a third
//!   for the provider's lockout plus a margin. The provider's `Retry-After` is a minimum, never
//!   a reason to come back sooner.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::budget::{COOL_DOWN, MINUTE_WINDOW, WaitReason};

/// The slow start's opening limit: the Free plan's 5 a minute, the least any J-Quants key has.
pub const START_PER_MINUTE: u32 = 5;
/// Requests slow start may run ahead of the provider's confirmations (or a
/// [`SLOW_START_SHARE`]th of them, if more).
pub const SLOW_START_STEP: u32 = 4;
/// Past `SLOW_START_STEP * SLOW_START_SHARE` confirmations, the ramp grows by this share a
/// round trip: a quarter, so a 500-a-minute plan opens in about a dozen round trips (every
/// refused job is a deferral, a call or three), while an overshoot stays a quarter of what the
/// provider confirmed, far below the lockout at twice its limit.
pub const SLOW_START_SHARE: u32 = 2;
/// How long a limit learned from a 429 holds before it is raised again.
pub const PLATEAU: TimeDelta = TimeDelta::minutes(10);
/// After the plateau, the limit rises by one request a minute per this much time.
pub const INCREASE_EVERY: TimeDelta = TimeDelta::minutes(1);
/// Without a grant for this long, a scope has no recent history and slow-starts again.
pub const HISTORY: TimeDelta = TimeDelta::minutes(15);
/// A probe whose answer was never reported (its fetcher died) frees the scope after this.
pub const PROBE_TIMEOUT: TimeDelta = TimeDelta::seconds(20);
/// How soon to ask again while waiting for confirmations or a probe's answer.
pub const RECHECK: TimeDelta = TimeDelta::seconds(1);
/// The pause once a lockout is likely: J-Quants' "about 5 minutes", plus a margin.
pub const LOCKOUT: TimeDelta = TimeDelta::seconds(5 * 60 + 15);
/// A slow start refused below [`START_PER_MINUTE`] learns nothing unless another 429 came
/// within this span.
pub const BLIP_SPAN: TimeDelta = TimeDelta::minutes(2);
/// A learned limit at or below this share of the configured one is worth telling the user.
pub const WARN_BELOW: f64 = 0.8;

/// How fast the scope may go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Pace {
    /// At the configured limits; nothing to learn.
    #[default]
    Open,
    /// Ramping up from [`START_PER_MINUTE`] on the provider's confirmations.
    SlowStart,
    /// Below the configured limit since a 429 at `since` (ms).
    Learned {
        /// Requests a minute, at least 1.
        limit: u32,
        /// When it was learned.
        since: i64,
    },
}

/// The probe after a 429.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// When it was granted (ms); `None`: due once the pause ends.
    pub sent_at: Option<i64>,
}

/// What the scope has learned about its provider, stored with its usage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adaptive {
    /// The current pace.
    #[serde(default)]
    pub pace: Pace,
    /// The last grant (ms); `None`: never.
    #[serde(default)]
    pub active_at: Option<i64>,
    /// Successes reported inside the minute window (slow start's confirmations), oldest first.
    #[serde(default)]
    pub confirmed: VecDeque<i64>,
    /// 429s inside the minute window: requests no longer in flight, never to be confirmed.
    #[serde(default)]
    pub refused: VecDeque<i64>,
    /// The probe owed since the last 429, if any.
    #[serde(default)]
    pub probe: Option<Probe>,
    /// 429 episodes since the last success.
    #[serde(default)]
    pub strikes: u32,
    /// Every 429 the scope has had.
    #[serde(default)]
    pub throttled_total: u64,
    /// The last 429 (ms).
    #[serde(default)]
    pub last_throttled: Option<i64>,
}

/// What the adaptive rules allow before the configured limits are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// At most this many a minute (`None`: the configured limits alone).
    Cap(Option<u32>),
    /// Slow start: at most this many in the minute window, at the configured rate.
    Ahead(u32),
    /// One request only, the probe, within the cap.
    Probe(Option<u32>),
    /// Nothing until then (ms).
    Wait(i64, WaitReason),
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Adaptive {
    fn prune(&mut self, now: i64) {
        let horizon = now - MINUTE_WINDOW.num_milliseconds();
        for q in [&mut self.confirmed, &mut self.refused] {
            while q.front().is_some_and(|&t| t <= horizon) {
                q.pop_front();
            }
        }
    }

    /// The learned limit at `now`, raised after the plateau, or `None` once back at `bound`.
    fn learned_limit(limit: u32, since: i64, now: i64, bound: u32) -> Option<u32> {
        let held = now - since - PLATEAU.num_milliseconds();
        let raised = if held > 0 {
            limit.saturating_add(
                u32::try_from(held / INCREASE_EVERY.num_milliseconds()).unwrap_or(u32::MAX),
            )
        } else {
            limit
        };
        (raised < bound).then_some(raised.max(1))
    }

    /// The gate for a request whose tightest configured minute limit is `bound`, while
    /// `used` requests lie in the minute window.
    pub(crate) fn gate(&mut self, bound: u32, used: u32, now: i64) -> Gate {
        self.prune(now);
        let fresh = self
            .active_at
            .is_none_or(|t| now - t > HISTORY.num_milliseconds());
        if fresh && self.pace == Pace::Open {
            self.pace = Pace::SlowStart;
            self.confirmed.clear();
        }
        if let Some(probe) = self.probe {
            if let Some(sent) = probe.sent_at
                && now < sent + PROBE_TIMEOUT.num_milliseconds()
            {
                return Gate::Wait(
                    (now + RECHECK.num_milliseconds()).min(sent + PROBE_TIMEOUT.num_milliseconds()),
                    WaitReason::Probing,
                );
            }
            // The probe too waits for room at a learned limit.
            return Gate::Probe(match self.pace {
                Pace::Learned { limit, since } => Self::learned_limit(limit, since, now, bound),
                Pace::Open | Pace::SlowStart => None,
            });
        }
        match self.pace {
            Pace::Open => Gate::Cap(None),
            Pace::SlowStart => {
                let confirmed = self.confirmed.len() as u32;
                let allowed = START_PER_MINUTE
                    .max(confirmed + SLOW_START_STEP.max(confirmed / SLOW_START_SHARE));
                if allowed >= bound {
                    self.pace = Pace::Open;
                    self.confirmed.clear();
                    Gate::Cap(None)
                } else if used.saturating_sub(self.refused.len() as u32) >= allowed {
                    // Confirmations arrive within a round trip, long before the window frees.
                    Gate::Wait(now + RECHECK.num_milliseconds(), WaitReason::SlowStart)
                } else {
                    Gate::Ahead(allowed)
                }
            }
            Pace::Learned { limit, since } => match Self::learned_limit(limit, since, now, bound) {
                Some(limit) => Gate::Cap(Some(limit)),
                None => {
                    self.pace = Pace::Open;
                    Gate::Cap(None)
                }
            },
        }
    }

    /// `n` permits were granted at `now` after `gate` said `gate`.
    pub(crate) fn granted(&mut self, gate: Gate, now: i64) {
        self.active_at = Some(now);
        if matches!(gate, Gate::Probe(_)) {
            self.probe = Some(Probe { sent_at: Some(now) });
        }
    }

    /// Whether fetchers should report their successes: while ramping up, or a probe is out.
    pub fn wants_reports(&self) -> bool {
        self.pace == Pace::SlowStart || self.probe.is_some_and(|p| p.sent_at.is_some())
    }

    /// `n` requests granted earlier got an answer other than 429.
    pub fn answered(&mut self, n: u32, now: i64) {
        if n == 0 {
            return;
        }
        // Answers to requests sent before the pause tell nothing about now: only once the
        // probe is out does a success end the episode.
        if self.probe.is_none_or(|p| p.sent_at.is_some()) {
            self.strikes = 0;
            self.probe = None;
        }
        if self.pace == Pace::SlowStart {
            self.prune(now);
            self.confirmed.extend(std::iter::repeat_n(now, n as usize));
        }
    }

    /// The provider answered 429 at `now` to a request whose tightest configured minute limit
    /// is `bound`, with `used` requests in the window, saying `retry_after` (if it did).
    /// `paused_until`: the pause already in place. Returns the end of the pause.
    pub(crate) fn throttled(
        &mut self,
        now: i64,
        bound: u32,
        used: u32,
        retry_after: Option<TimeDelta>,
        paused_until: Option<i64>,
    ) -> i64 {
        self.throttled_total += 1;
        let previous = self.last_throttled.replace(now);
        self.prune(now);
        self.refused.push_back(now);
        let retry_after = retry_after.map_or(0, |d| d.num_milliseconds().max(0));
        let straggler = paused_until.is_some_and(|u| u > now)
            || self.probe.is_some_and(|p| p.sent_at.is_none());
        if straggler {
            // Sent before the pause began: the same episode, already answered.
            return paused_until
                .unwrap_or(now)
                .max(now.saturating_add(retry_after));
        }
        self.strikes += 1;
        self.prune(now);
        let limit = match self.pace {
            // What the provider confirmed; reports may lag, but slow start never ran more
            // than its step ahead of them, so `used - step` is confirmed too.
            Pace::SlowStart => {
                let confirmed = self.confirmed.len() as u32;
                confirmed
                    .max(used.saturating_sub(SLOW_START_STEP.max(used / (SLOW_START_SHARE + 1))))
            }
            Pace::Open => bound / 2,
            Pace::Learned { limit, since } => {
                Self::learned_limit(limit, since, now, bound).unwrap_or(bound) / 2
            }
        };
        self.probe = Some(Probe::default());
        let lone = previous.is_none_or(|t| now - t > BLIP_SPAN.num_milliseconds());
        if self.pace == Pace::SlowStart && limit < START_PER_MINUTE.min(bound) && lone {
            // Refused below any real key's limit, and the first 429 in a while: the provider
            // blipped, or the key was busy elsewhere for a moment. Nothing learned from one;
            // the scope pauses, probes and ramps again (a second soon after is believed).
            return self.pause(now, retry_after);
        }
        self.pace = Pace::Learned {
            limit: limit.max(1),
            since: now,
        };
        self.confirmed.clear();
        self.pause(now, retry_after)
    }

    /// The end of the pause after this episode's 429 (`retry_after` in ms).
    fn pause(&self, now: i64, retry_after: i64) -> i64 {
        let pause = match self.strikes {
            // The probe waits for the window to make room at the new limit anyway.
            0 | 1 => RECHECK,
            2 => COOL_DOWN,
            _ => LOCKOUT,
        };
        now.saturating_add(pause.num_milliseconds().max(retry_after))
    }

    /// What to tell the user about this scope at `now`, `bound` being the configured limit.
    pub fn status(&self, bound: u32, paused_until: Option<i64>, now: i64) -> RateStatus {
        let effective = match self.pace {
            Pace::Learned { limit, since } => {
                Self::learned_limit(limit, since, now, bound).unwrap_or(bound)
            }
            _ => bound,
        };
        let warning = (f64::from(effective) <= f64::from(bound) * WARN_BELOW).then(|| {
            format!(
                "the provider allowed about {effective} requests a minute where {bound} were expected: the declared plan may be wrong, or the key is also used elsewhere"
            )
        });
        RateStatus {
            configured_per_minute: bound,
            effective_per_minute: effective,
            mode: match self.pace {
                Pace::Open => "open",
                Pace::SlowStart => "slow_start",
                Pace::Learned { .. } => "learned",
            },
            throttled_total: self.throttled_total,
            last_throttled_at: self.last_throttled.map(at),
            paused_until: paused_until.filter(|&u| u > now).map(at),
            warning,
        }
    }
}

/// A scope's rate as users see it (credential and job group views).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateStatus {
    /// The limit the declared plan (and the data source) allow.
    pub configured_per_minute: u32,
    /// The limit in force: the configured one, or less when the provider said so.
    pub effective_per_minute: u32,
    /// `open`, `slow_start` (ramping up) or `learned` (below the configured limit).
    #[cfg_attr(feature = "openapi", schema(schema_with = mode_schema))]
    pub mode: &'static str,
    /// 429s the provider has answered for this scope.
    pub throttled_total: u64,
    /// The last 429.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub last_throttled_at: Option<DateTime<Utc>>,
    /// Nothing is sent before this (a pause after a 429).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub paused_until: Option<DateTime<Utc>>,
    /// Set when the provider allows clearly less than the declared plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub warning: Option<String>,
}

/// The modes [`Adaptive::status`] reports, as the OpenAPI document lists them.
#[cfg(feature = "openapi")]
fn mode_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["open", "slow_start", "learned"]))
        .description(Some(
            "`open` (at the configured limit), `slow_start` (ramping up on the provider's answers) or `learned` (below the configured limit since a 429)",
        ))
        .build()
}

#[cfg(test)]
mod tests;
