//! Sharing one scope's budget between the tenants that want it: the deployment-wide Yahoo
//! budget between users, a J-Quants account between the groups (schedules) of its owner.
//! Without it the budget goes to whoever asks first, and the queue delivers one user's
//! backlog of thousands of jobs before another user's ten.
//!
//! Max-min fairness over the minute window, decided on the same stored state as the budget:
//! each tenant that wanted permits in the last [`CONTENDING`] is entitled to an equal share of
//! the minute's limit. A tenant under its share takes what the buckets allow; one at or over
//! it takes only what no other tenant waiting under its share is owed, so the budget is never
//! left idle while someone waits (work conserving) and a tenant that asks for little gets it
//! at once. A tenant is owed its share only while it waits: refused within [`CONTENDING`].

use std::collections::{BTreeMap, VecDeque};

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use super::budget::{Demand, MINUTE_WINDOW, ScopeState, WaitReason};

/// A tenant counts towards the shares, and is owed its own while refused, for this long after
/// it last asked: longer than a refused job's deferral (up to a minute window, when the
/// budget is used up), so a tenant stays counted between deliveries of its jobs. A tenant that
/// went away leaves at most its share idle for that long.
pub const CONTENDING: TimeDelta = TimeDelta::seconds(2 * 61);
/// The longest a tenant over its share is told to wait before asking again.
pub const MAX_FAIR_WAIT: TimeDelta = TimeDelta::seconds(15);

/// The longest a refused job's turn is spread over ([`turn`]): inside SQS's 15-minute delay.
pub const MAX_TURN: std::time::Duration = std::time::Duration::from_secs(600);

/// How much later than the refusal's `until` a refused job of a backlog of `backlog` requests
/// may come back, at a random point: the time the whole budget of `demands` needs for the
/// backlog (at most [`MAX_TURN`]) when others wait under their fair share or a budget many
/// users share is spent for now, so the backlog does not churn through the queue ahead of
/// other users' jobs (every refusal is a message in their way); otherwise nothing. An account
/// of one user keeps asking at the next free permit: spreading its own backlog would only leave
/// its budget idle (measured: a Free account's run 1.22x its physical time instead of 1.02x).
pub fn turn(demands: &[Demand], reason: Option<WaitReason>, backlog: u32) -> std::time::Duration {
    let shared = demands.iter().any(|d| d.shared);
    let spread = reason == Some(WaitReason::FairShare)
        || (shared && matches!(reason, Some(WaitReason::Minute | WaitReason::Quarter)));
    if !spread {
        return std::time::Duration::ZERO;
    }
    let secs = u64::from(backlog) * 60 / u64::from(ScopeState::bound(demands));
    std::time::Duration::from_secs(secs).min(MAX_TURN)
}

/// Who asks for permits, and how many requests it still has to make (the jobs of its group
/// not ended): what it is owed of its share is no more than that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask<'a> {
    /// The tenant (`Scope::tenant`).
    pub tenant: &'a str,
    /// Requests it has yet to make, this one included.
    pub backlog: u32,
}

/// One tenant's use of the scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Its grants inside the minute window (ms), oldest first.
    #[serde(default)]
    pub recent: VecDeque<i64>,
    /// When it last asked (ms).
    pub asked_at: i64,
    /// When it was last refused (ms), if it has not been granted everything since.
    #[serde(default)]
    pub waiting_since: Option<i64>,
    /// What it had yet to ask for when last refused: it is owed no more than that of its share.
    #[serde(default)]
    pub wanted: u32,
}

/// Every tenant of a scope that asked recently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tenants(BTreeMap<String, Tenant>);

impl Tenants {
    fn prune(&mut self, now: i64) {
        let horizon = now - MINUTE_WINDOW.num_milliseconds();
        let quiet = now - CONTENDING.num_milliseconds();
        self.0.retain(|_, t| {
            while t.recent.front().is_some_and(|&g| g <= horizon) {
                t.recent.pop_front();
            }
            if t.waiting_since.is_some_and(|w| w <= quiet) || t.asked_at <= quiet {
                t.waiting_since = None;
            }
            !t.recent.is_empty() || t.asked_at > quiet
        });
    }

    /// Of the `free` permits the buckets allow now, how many `tenant` may take under a minute
    /// limit of `limit`, and if none, until when (ms) it should wait for its turn.
    pub(crate) fn allowance(
        &mut self,
        tenant: &str,
        limit: u32,
        free: u32,
        now: i64,
    ) -> (u32, Option<i64>) {
        self.prune(now);
        self.0.entry(tenant.to_owned()).or_default().asked_at = now;
        let quiet = now - CONTENDING.num_milliseconds();
        let contending = self.0.values().filter(|t| t.asked_at > quiet).count() as u32;
        if contending <= 1 {
            return (free, None);
        }
        let share = (limit / contending).max(1);
        let used = |t: &Tenant| t.recent.len() as u32;
        let owed: u32 = self
            .0
            .iter()
            .filter(|(name, t)| name.as_str() != tenant && t.waiting_since.is_some())
            .map(|(_, t)| share.saturating_sub(used(t)).min(t.wanted.max(1)))
            .sum();
        let mine = share.saturating_sub(used(&self.0[tenant]));
        let allowed = free.min(mine.max(free.saturating_sub(owed)));
        if allowed > 0 || free == 0 {
            return (allowed, None);
        }
        // The others' owed permits go out at the limit's pace before this tenant's turn.
        let pace = 60_000 / i64::from(limit.max(1));
        let wait = (i64::from(owed) * pace).clamp(pace, MAX_FAIR_WAIT.num_milliseconds());
        (0, Some(now + wait))
    }

    /// `ask` was granted `n` of the `want` permits it asked for at `now`.
    pub(crate) fn granted(&mut self, ask: Ask<'_>, n: u32, want: u32, now: i64) {
        let t = self.0.entry(ask.tenant.to_owned()).or_default();
        t.asked_at = now;
        t.recent.extend(std::iter::repeat_n(now, n as usize));
        t.wanted = want.max(ask.backlog).saturating_sub(n);
        t.waiting_since = if n >= want { None } else { Some(now) };
    }

    /// `ask` asked for `want` at `now` and got nothing. Whether that is news worth storing (it now
    /// waits, or its last stored ask is getting old), since a refusal is otherwise not written.
    pub(crate) fn refused(&mut self, ask: Ask<'_>, want: u32, now: i64) -> bool {
        let t = self.0.entry(ask.tenant.to_owned()).or_default();
        let wanted = want.max(ask.backlog);
        let news = t.waiting_since.is_none()
            || t.wanted != wanted
            || now - t.asked_at > CONTENDING.num_milliseconds() / 4;
        t.wanted = wanted;
        t.asked_at = now;
        t.waiting_since.get_or_insert(now);
        news
    }

    /// Whether no tenant is recorded (nothing to store).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::super::budget::{Decision, Demand, ScopeState, WaitReason};
    use super::Ask;

    /// A tenant with much left to do.
    fn ask(tenant: &str) -> Option<Ask<'_>> {
        Some(Ask {
            tenant,
            backlog: 100,
        })
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap()
    }

    fn plan(per_minute: u32) -> Vec<Demand> {
        vec![Demand::per_minute("plan", per_minute)]
    }

    /// A budget many users share (paced by quarter minutes).
    fn shared(per_minute: u32) -> Vec<Demand> {
        vec![Demand {
            shared: true,
            ..Demand::per_minute("plan", per_minute)
        }]
    }

    /// Tenants asking for their work (`(name, requests, starts after ms)`), each asking again
    /// when told; the instant (ms from the start) each finished. `fair`: asks as a tenant.
    fn run(demands: &[Demand], tenants: &[(&str, u32, i64)], fair: bool) -> Vec<i64> {
        let mut state = ScopeState::warm(t0());
        let mut left: Vec<u32> = tenants.iter().map(|t| t.1).collect();
        let mut next: Vec<i64> = tenants.iter().map(|t| t.2).collect();
        let mut done = vec![0; tenants.len()];
        let mut now = 0;
        while left.iter().any(|&n| n > 0) {
            assert!(now < 3_600_000, "never finished");
            for i in 0..tenants.len() {
                if left[i] == 0 || next[i] > now {
                    continue;
                }
                let at = t0() + chrono::TimeDelta::milliseconds(now);
                // A fetcher's batch asks for up to ten.
                let want = left[i].min(10);
                let ask = fair.then_some(Ask {
                    tenant: tenants[i].0,
                    backlog: left[i],
                });
                match state.decide_for(ask, demands, at, want).0 {
                    Decision::Granted(n) => {
                        left[i] -= n;
                        if left[i] == 0 {
                            done[i] = now;
                        }
                        next[i] = now + 200;
                    }
                    Decision::Wait { until, .. } => {
                        // A deferred job comes back after its delay (at least a second).
                        next[i] = (until - t0()).num_milliseconds().max(now + 1000);
                    }
                }
            }
            now += 100;
        }
        done
    }

    #[test]
    fn one_tenant_alone_uses_the_whole_budget() {
        let fair = run(&shared(60), &[("big", 120, 0)], true);
        let fcfs = run(&shared(60), &[("big", 120, 0)], false);
        assert_eq!(fair, fcfs, "nothing changes for a lone tenant");
    }

    #[test]
    fn small_tenants_behind_a_backlog_finish_within_their_fair_share() {
        // One user asks for 50 times the work of two others, who start later: while the big
        // one's first minute goes out, or any time after, at every phase of its pacing.
        for start in (5_000..=120_000).step_by(5_000) {
            let work = [
                ("big", 500, 0),
                ("small-a", 10, start),
                ("small-b", 10, start),
            ];
            let fair = run(&shared(60), &work, true);
            let fcfs = run(&shared(60), &work, false);
            // Their requests x 3 / the rate: 10 x 3 / 60 a minute = 30 s.
            let bound = 30_000.0;
            for (i, name) in [(1, "small-a"), (2, "small-b")] {
                let took = (fair[i] - start) as f64;
                assert!(
                    took <= bound * 1.2,
                    "{name} from {start} ms: {took} ms for a fair-share bound of {bound}"
                );
                assert!(
                    (fcfs[i] - start) as f64 > bound * 5.0,
                    "first come first served makes {name} wait for the backlog: {} ms",
                    fcfs[i] - start
                );
            }
            // The budget hardly idled: the last request goes out within 1 % of when it would
            // have anyway.
            let last = |done: &[i64]| done.iter().copied().max().unwrap_or_default();
            assert!(
                last(&fair) <= last(&fcfs) * 101 / 100,
                "from {start} ms: {fair:?} vs {fcfs:?}"
            );
        }
    }

    #[test]
    fn a_tenant_over_its_share_waits_its_turn_while_another_is_owed() {
        let mut s = ScopeState::warm(t0());
        let p = plan(60);
        let at = |ms: i64| t0() + chrono::TimeDelta::milliseconds(ms);
        // "big" takes the whole minute, slice by slice.
        let mut taken = 0;
        let mut ms = 0;
        while taken < 60 {
            if let Decision::Granted(n) = s.decide_for(ask("big"), &p, at(ms), 10).0 {
                taken += n;
            }
            ms += 200;
        }
        // "small" arrives: nothing is free, it is refused and now waits (stored).
        let (d, news) = s.decide_for(ask("small"), &p, at(ms), 5);
        assert!(matches!(d, Decision::Wait { .. }));
        assert!(news, "a new waiter is stored");
        // Its job comes back while the window is still full: refused, still waiting.
        let (d, _) = s.decide_for(ask("small"), &p, at(55_000), 5);
        assert!(matches!(d, Decision::Wait { .. }));
        // When the window frees, the freed permits are small's, not big's.
        let later = at(62_000 + 200);
        let (d, _) = s.decide_for(ask("big"), &p, later, 5);
        assert!(
            matches!(
                d,
                Decision::Wait {
                    reason: WaitReason::FairShare,
                    ..
                }
            ),
            "{d:?}"
        );
        let (d, _) = s.decide_for(ask("small"), &p, later, 5);
        assert!(matches!(d, Decision::Granted(_)), "{d:?}");
    }
}
