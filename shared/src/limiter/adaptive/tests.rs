//! The adaptive rules against a simulated provider: a sliding 60 s window per key that admits
//! up to its real limit (which may differ from the configured one, be shared with an outside
//! consumer, or drop mid-run), answers 429 beyond it, and locks the key out for five minutes
//! when its attempts in a minute exceed twice the limit. Eight fetchers with four requests in
//! flight each share one [`ScopeState`], as they share the stored item.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use crate::limiter::budget::{COOL_DOWN, Decision, Demand, ScopeState};

const LATENCY_MS: i64 = 80;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap()
}

fn plan(per_minute: u32) -> Vec<Demand> {
    vec![Demand::per_minute("plan", per_minute)]
}

/// The provider's side.
struct Provider {
    /// The real limit at a time (ms since the run began).
    limit: Box<dyn Fn(i64) -> u32>,
    /// An outside consumer's steady rate on the same key (per minute).
    outside_per_minute: u32,
    retry_after: Option<TimeDelta>,
    admitted: VecDeque<i64>,
    attempts: VecDeque<i64>,
    outside_next: i64,
    /// The outside consumer's requests that found the window full (ours took its place).
    outside_refused: u32,
    locked_until: i64,
    lockouts: u32,
    too_many: u32,
    ours: Vec<i64>,
}

impl Provider {
    fn new(limit: impl Fn(i64) -> u32 + 'static, outside: u32, retry_after: Option<i64>) -> Self {
        Self {
            limit: Box::new(limit),
            outside_per_minute: outside,
            retry_after: retry_after.map(TimeDelta::seconds),
            admitted: VecDeque::new(),
            attempts: VecDeque::new(),
            outside_next: -60_000,
            outside_refused: 0,
            locked_until: i64::MIN,
            lockouts: 0,
            too_many: 0,
            ours: Vec::new(),
        }
    }

    fn prune(&mut self, now: i64) {
        for q in [&mut self.admitted, &mut self.attempts] {
            while q.front().is_some_and(|&t| t <= now - 60_000) {
                q.pop_front();
            }
        }
    }

    /// The outside consumer's requests up to `now`, admitted when there is room.
    fn outside(&mut self, now: i64) {
        if self.outside_per_minute == 0 {
            return;
        }
        while self.outside_next <= now {
            let t = self.outside_next;
            self.prune(t);
            if (self.admitted.len() as u32) < (self.limit)(t) {
                self.admitted.push_back(t);
            } else {
                self.outside_refused += 1;
            }
            self.outside_next += 60_000 / i64::from(self.outside_per_minute);
        }
    }

    /// Our request arriving at `now`: `Ok` or a 429 with its `Retry-After`.
    fn request(&mut self, now: i64) -> Result<(), Option<TimeDelta>> {
        self.outside(now);
        self.prune(now);
        self.ours.push(now);
        self.attempts.push_back(now);
        let limit = (self.limit)(now);
        if now < self.locked_until {
            self.too_many += 1;
            return Err(self
                .retry_after
                .map(|_| TimeDelta::milliseconds(self.locked_until - now)));
        }
        if (self.admitted.len() as u32) < limit {
            self.admitted.push_back(now);
            return Ok(());
        }
        self.too_many += 1;
        if self.attempts.len() as u32 > 2 * limit {
            self.locked_until = now + 300_000;
            self.lockouts += 1;
        }
        Err(self.retry_after)
    }

    fn busiest_minute(&self) -> usize {
        let mut lo = 0;
        let mut best = 0;
        for hi in 0..self.ours.len() {
            while self.ours[hi] - self.ours[lo] >= 60_000 {
                lo += 1;
            }
            best = best.max(hi - lo + 1);
        }
        best
    }
}

struct Run {
    outside_refused: u32,
    requests: usize,
    too_many: u32,
    busiest: usize,
    lockouts: u32,
    seconds: f64,
}

/// `jobs` one-page jobs declared at `configured` a minute, from a scope with no history.
fn run(configured: u32, jobs: usize, mut provider: Provider, state: ScopeState) -> Run {
    let demands = plan(configured);
    let mut state = state;
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut spread = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % 1000) as i64
    };
    // Jobs waiting (ready at), and requests in flight (answer at, result).
    let mut queue: Vec<i64> = vec![0; jobs];
    let mut flight: Vec<(i64, Result<(), Option<TimeDelta>>)> = Vec::new();
    let slots = 8 * 4;
    let mut done = 0;
    let mut now = 0;
    while done < jobs {
        assert!(now < 3_600_000, "the run never ended");
        // Answers first.
        flight.sort_by_key(|f| f.0);
        while flight.first().is_some_and(|f| f.0 <= now) {
            let (_, answer) = flight.remove(0);
            let clock = t0() + TimeDelta::milliseconds(now);
            match answer {
                Ok(()) => {
                    state.answered(1, clock);
                    done += 1;
                }
                Err(retry_after) => {
                    let until = state.throttled(&demands, clock, retry_after);
                    let back = (until - t0()).num_milliseconds() + spread();
                    queue.push(back);
                }
            }
        }
        queue.sort_unstable();
        let mut i = 0;
        while i < queue.len() && queue[i] <= now && flight.len() < slots {
            let clock = t0() + TimeDelta::milliseconds(now);
            match state.decide(&demands, clock, 1) {
                Decision::Granted(_) => {
                    queue.remove(i);
                    let answer = provider.request(now + LATENCY_MS / 2);
                    flight.push((now + LATENCY_MS, answer));
                }
                Decision::Wait { until, .. } => {
                    // A deferred message comes back after the wait plus a spread.
                    queue[i] = (until - t0()).num_milliseconds().max(now + 1) + spread();
                    i += 1;
                }
            }
        }
        now += 10;
    }
    eprintln!(
        "configured {configured}, {jobs} jobs: {} requests, {} x 429, busiest {}, lockouts {}, {:.0} s",
        provider.ours.len(),
        provider.too_many,
        provider.busiest_minute(),
        provider.lockouts,
        now as f64 / 1000.0
    );
    Run {
        outside_refused: provider.outside_refused,
        requests: provider.ours.len(),
        too_many: provider.too_many,
        busiest: provider.busiest_minute(),
        lockouts: provider.lockouts,
        seconds: now as f64 / 1000.0,
    }
}

/// How long `requests` take at `per_minute`, as the issue counts it.
fn physical(requests: usize, per_minute: u32) -> f64 {
    requests as f64 * 60.0 / f64::from(per_minute)
}

#[test]
fn a_free_key_declared_light_costs_a_few_429s_not_a_burst() {
    for retry_after in [None, Some(7)] {
        let r = run(
            60,
            20,
            Provider::new(|_| 5, 0, retry_after),
            ScopeState::default(),
        );
        assert_eq!(r.requests - r.too_many as usize, 20);
        assert!(r.too_many <= 5, "{} x 429", r.too_many);
        assert!(r.busiest <= 10, "{} attempts in 60 s", r.busiest);
        assert_eq!(r.lockouts, 0);
        assert!(
            r.seconds <= physical(20, 5) * 1.3,
            "{} s for a physical {} s",
            r.seconds,
            physical(20, 5)
        );
    }
}

#[test]
fn an_outside_consumer_leaves_its_share_and_we_take_the_rest() {
    for retry_after in [None, Some(7)] {
        let r = run(
            60,
            180,
            Provider::new(|_| 60, 30, retry_after),
            ScopeState::default(),
        );
        assert!(r.too_many <= 5, "{} x 429", r.too_many);
        assert!(r.busiest <= 60, "{} attempts in 60 s", r.busiest);
        assert_eq!(r.lockouts, 0);
        // The consumer keeps its share: hardly any of its ~180 requests found the window full.
        assert!(
            r.outside_refused <= 9,
            "{} of the consumer's refused",
            r.outside_refused
        );
        let against = physical(180, 30);
        assert!(
            r.seconds <= against * 1.3,
            "{} s for {against} s",
            r.seconds
        );
    }
}

#[test]
fn a_limit_that_drops_mid_run_is_followed_without_a_lockout() {
    for retry_after in [None, Some(7)] {
        let drop_at = 90_000;
        let provider = Provider::new(move |t| if t < drop_at { 60 } else { 30 }, 0, retry_after);
        let r = run(60, 240, provider, ScopeState::default());
        assert!(r.too_many <= 5, "{} x 429", r.too_many);
        assert_eq!(r.lockouts, 0);
        // Two windows at 60 a minute before the drop, then 30 a minute.
        let against = 120.0 + physical(120, 30);
        assert!(
            r.seconds <= against * 1.3,
            "{} s for {against} s",
            r.seconds
        );
    }
}

#[test]
fn a_correct_declaration_sends_no_429_and_loses_no_time() {
    for (limit, jobs) in [(5u32, 25usize), (60, 180), (500, 1000)] {
        let r = run(
            limit,
            jobs,
            Provider::new(move |_| limit, 0, None),
            ScopeState::default(),
        );
        assert_eq!(r.too_many, 0, "limit {limit}");
        assert!(r.busiest <= limit as usize);
        let ideal = physical(jobs, limit);
        assert!(
            r.seconds <= ideal * 1.05,
            "limit {limit}: {} s for {ideal} s",
            r.seconds
        );
    }
}

#[test]
fn a_lone_429_at_the_opening_is_a_blip_and_the_scope_ramps_again() {
    use crate::limiter::adaptive::Pace;
    let light = plan(600);
    let mut s = ScopeState::default();
    assert_eq!(s.decide(&light, t0(), 10), Decision::Granted(5));
    let until = s.throttled(&light, t0() + TimeDelta::milliseconds(50), None);
    s.answered(4, t0() + TimeDelta::milliseconds(60));
    assert_eq!(s.adaptive.pace, Pace::SlowStart, "nothing learned from one");
    assert_eq!(
        s.decide(&light, until, 10),
        Decision::Granted(1),
        "the probe"
    );
    s.answered(1, until + TimeDelta::milliseconds(50));
    let again = until + TimeDelta::seconds(1);
    assert_eq!(
        s.decide(&light, again, 10),
        Decision::Granted(4),
        "five confirmed, the refused one no longer in flight: four ahead"
    );
}

#[test]
fn a_second_429_soon_after_is_believed_even_below_the_smallest_plan() {
    use crate::limiter::adaptive::Pace;
    let light = plan(600);
    let mut s = ScopeState::default();
    assert_eq!(s.decide(&light, t0(), 10), Decision::Granted(5));
    let until = s.throttled(&light, t0() + TimeDelta::milliseconds(50), None);
    for _ in 0..4 {
        assert_eq!(
            s.throttled(&light, t0() + TimeDelta::milliseconds(60), None),
            until,
            "the same episode"
        );
    }
    assert_eq!(s.adaptive.strikes, 1);
    assert_eq!(
        s.decide(&light, until, 10),
        Decision::Granted(1),
        "the probe"
    );
    let second = until + TimeDelta::milliseconds(50);
    assert_eq!(s.throttled(&light, second, None), second + COOL_DOWN);
    assert!(
        matches!(s.adaptive.pace, Pace::Learned { limit: 1..5, .. }),
        "{:?}",
        s.adaptive.pace
    );
}
