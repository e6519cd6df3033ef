//! The decision over simulated time: spreading, windows, quotas, pauses and probes.

use super::*;
use chrono::TimeZone;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 59, 0).unwrap()
}

fn plan(per_minute: u32) -> Vec<Demand> {
    vec![Demand::per_minute("plan", per_minute)]
}

fn warm() -> ScopeState {
    ScopeState::warm(t0())
}

fn ms(s: f64) -> TimeDelta {
    TimeDelta::milliseconds((s * 1000.0) as i64)
}

#[test]
fn a_free_minute_goes_out_within_a_second_then_frees_permit_by_permit() {
    let mut s = warm();
    for k in 0..5 {
        let at = t0() + ms(f64::from(k) / 5.0);
        assert_eq!(
            s.decide(&plan(5), at, 3),
            Decision::Granted(1),
            "one a slice"
        );
    }
    assert_eq!(
        s.decide(&plan(5), t0() + ms(1.0), 1),
        Decision::Wait {
            until: t0() + MINUTE_WINDOW,
            reason: WaitReason::Minute
        }
    );
    assert_eq!(
        s.decide(&plan(5), t0() + MINUTE_WINDOW + ms(0.001), 9),
        Decision::Granted(1),
        "the first left the window"
    );
}

#[test]
fn a_minute_goes_out_over_at_least_six_seconds() {
    let mut s = warm();
    s.adaptive.pace = crate::limiter::adaptive::Pace::Learned {
        limit: 120,
        since: t0().timestamp_millis(),
    };
    assert_eq!(
        s.decide(&plan(500), t0(), 9),
        Decision::Granted(4),
        "a thirtieth of the learned 120 every 200 ms"
    );
    assert_eq!(
        s.decide(&plan(500), t0() + ms(0.1), 1),
        Decision::Wait {
            until: t0() + ms(0.2),
            reason: WaitReason::Spread
        }
    );
    for k in 1..30 {
        let at = t0() + ms(f64::from(k) / 5.0);
        assert_eq!(s.decide(&plan(500), at, 9), Decision::Granted(4));
    }
    assert_eq!(
        s.decide(&plan(500), t0() + ms(6.0), 1),
        Decision::Wait {
            until: t0() + MINUTE_WINDOW,
            reason: WaitReason::Minute
        },
        "the learned 120 are out after six seconds"
    );
}

/// Simulated greedy clients asking at random instants: no provider-style 60 s window
/// (arrival up to the guard after the grant) ever holds more than the limit, and the
/// budget is used: over ten minutes, close to ten minutes' worth of permits.
#[test]
fn no_sixty_second_window_exceeds_the_limit_and_the_budget_is_used() {
    for limit in [1u32, 5, 60, 120, 500] {
        let mut s = warm();
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut arrivals = Vec::new();
        let mut now = t0();
        let end = t0() + TimeDelta::minutes(10);
        while now < end {
            let want = (next() % 10 + 1) as u32;
            match s.decide(&plan(limit), now, want) {
                Decision::Granted(k) => {
                    for _ in 0..k {
                        let delay = (next() % 1000) as i64; // up to the guard
                        arrivals.push(now.timestamp_millis() + delay);
                    }
                    now += TimeDelta::milliseconds((next() % 50) as i64);
                }
                Decision::Wait { until, .. } => {
                    assert!(until > now);
                    now = until;
                }
            }
        }
        arrivals.sort_unstable();
        let mut lo = 0;
        for hi in 0..arrivals.len() {
            while arrivals[hi] - arrivals[lo] >= 60_000 {
                lo += 1;
            }
            assert!(
                (hi - lo + 1) as u32 <= limit,
                "limit {limit}: {} requests in 60 s",
                hi - lo + 1
            );
        }
        let ideal = f64::from(limit) * 10.0;
        assert!(
            arrivals.len() as f64 >= ideal * 60.0 / 61.0 - f64::from(limit),
            "limit {limit}: only {} of {ideal} permits used",
            arrivals.len()
        );
    }
}

#[test]
fn every_bucket_of_a_request_is_charged_or_none() {
    let fins = Demand::per_minute("fins-summary", 60);
    let mut both = plan(500);
    both.push(fins);
    let mut s = warm();
    assert_eq!(s.decide(&both, t0(), 5), Decision::Granted(2));
    assert!(matches!(s.decide(&both, t0(), 1), Decision::Wait { .. }));
    assert_eq!(
        s.buckets["plan"].recent.len(),
        2,
        "a refusal charges nothing"
    );
    assert_eq!(s.decide(&plan(500), t0(), 3), Decision::Granted(3));
}

#[test]
fn hour_and_day_quotas_are_counted_per_utc_window() {
    let capped = vec![Demand {
        bucket: "plan".into(),
        limits: Limits {
            per_minute: 6000,
            per_hour: Some(4),
            per_day: Some(6),
        },
        shared: false,
    }];
    let mut s = warm();
    assert_eq!(s.decide(&capped, t0(), 10), Decision::Granted(4));
    let next_hour = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
    assert_eq!(
        s.decide(&capped, t0(), 1),
        Decision::Wait {
            until: next_hour,
            reason: WaitReason::Hour
        }
    );
    assert_eq!(s.decide(&capped, next_hour, 10), Decision::Granted(2));
    assert_eq!(
        s.decide(&capped, next_hour + ms(5.0), 1),
        Decision::Wait {
            until: Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap(),
            reason: WaitReason::Day
        }
    );
}

#[test]
fn a_429_pauses_everyone_then_one_probe_and_repeated_429s_pause_for_a_lockout() {
    use crate::limiter::adaptive::LOCKOUT;
    let mut s = warm();
    assert_eq!(s.decide(&plan(600), t0(), 10), Decision::Granted(10));
    let until = s.throttled(&plan(600), t0(), Some(TimeDelta::seconds(7)));
    assert_eq!(
        until,
        t0() + TimeDelta::seconds(7),
        "Retry-After is honoured"
    );
    assert_eq!(
        s.decide(&plan(600), t0() + ms(1.0), 1),
        Decision::Wait {
            until,
            reason: WaitReason::CoolingDown
        }
    );
    assert_eq!(
        s.throttled(&plan(600), t0() + ms(0.5), None),
        until,
        "a 429 of a request sent before the pause is the same episode"
    );
    assert_eq!(s.adaptive.strikes, 1);
    assert_eq!(
        s.decide(&plan(600), until, 5),
        Decision::Granted(1),
        "one probe"
    );
    assert!(matches!(
        s.decide(&plan(600), until + ms(0.1), 5),
        Decision::Wait {
            reason: WaitReason::Probing,
            ..
        }
    ));
    let second = until + ms(0.2);
    assert_eq!(
        s.throttled(&plan(600), second, Some(TimeDelta::seconds(7))),
        second + COOL_DOWN,
        "a failed probe: a full window, whatever Retry-After says"
    );
    let probe = second + COOL_DOWN;
    assert_eq!(s.decide(&plan(600), probe, 1), Decision::Granted(1));
    let third = probe + ms(0.2);
    assert_eq!(
        s.throttled(&plan(600), third, Some(TimeDelta::seconds(7))),
        third + LOCKOUT,
        "three in a row without a success: a lockout"
    );
    let later = third + LOCKOUT;
    assert_eq!(s.decide(&plan(600), later, 1), Decision::Granted(1));
    s.answered(1, later + ms(0.3));
    assert_eq!(s.adaptive.strikes, 0, "a success ends the episode");
    assert!(s.adaptive.probe.is_none());
}

#[test]
fn state_round_trips_through_json() {
    let mut s = warm();
    s.decide(&plan(5), t0(), 2);
    s.throttled(&plan(5), t0(), None);
    let text = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<ScopeState>(&text).unwrap(), s);
}
