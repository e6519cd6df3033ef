//! Which fires are due: the scheduler's decision as a pure function of the time, the
//! schedules (each with the instant up to which its fires are decided) and the trading
//! calendar. Applying a result moves each schedule's `handled_until` forward, so a fire is
//! decided once; two schedulers deciding the same fire at once name the same job group
//! ([`crate::domain::JobGroupId::for_fire`]), which only one of them can create.
//!
//! Catch-up policy, after the scheduler was down or a tick was missed: a fire up to
//! [`CATCH_UP`] late still runs, each with its own market date (a daily "previous trading
//! day" schedule fetches every missed day); an older one is skipped and counted, never run
//! late. A fire whose market date the stored calendar does not cover yet is held — it and
//! later fires wait (within the same bound) until the calendar is refreshed.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::Schedule;
use super::calendar::{MARKET_TIME_ZONE, TradingCalendar};
use crate::domain::ScheduleId;

/// How late a fire may still run.
pub const CATCH_UP: TimeDelta = TimeDelta::hours(6);
/// Fires decided per schedule per tick at most (the rest wait for the next tick).
pub const MAX_FIRES_PER_TICK: usize = 48;
/// Late fires counted per schedule per tick at most before the count jumps to the bound.
const MAX_LATE_SCAN: u32 = 100_000;

/// What to do with one schedule this tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The schedule.
    pub schedule: ScheduleId,
    /// Fires to run or skip, in time order.
    pub fires: Vec<Fire>,
    /// Fires skipped as more than [`CATCH_UP`] late.
    pub too_late: u32,
    /// Every fire at or before this is decided: the schedule's next `handled_until`.
    pub handled_until: DateTime<Utc>,
    /// A market date the calendar must cover before the schedule can go on.
    pub needs_calendar: Option<NaiveDate>,
}

/// One fire time and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fire {
    /// The fire time.
    pub at: DateTime<Utc>,
    /// The market (Asia/Tokyo) date it fires on.
    pub market_date: NaiveDate,
    /// Run, or skip because the market is closed that day.
    pub runs: bool,
}

/// The fires due at `now` for each enabled schedule that has any (or waits for the calendar).
pub fn due(now: DateTime<Utc>, schedules: &[Schedule], calendar: &TradingCalendar) -> Vec<Due> {
    schedules
        .iter()
        .filter(|s| s.enabled)
        .filter_map(|s| due_one(now, s, calendar))
        .collect()
}

fn due_one(now: DateTime<Utc>, s: &Schedule, calendar: &TradingCalendar) -> Option<Due> {
    let mut handled = s.handled_until;
    let mut fires = Vec::new();
    let mut too_late = 0;
    let mut needs_calendar = None;
    while fires.len() < MAX_FIRES_PER_TICK {
        let Some(at) = s.cron.next_after(handled) else {
            break;
        };
        if at > now {
            break;
        }
        if now - at > CATCH_UP {
            too_late += 1;
            handled = at;
            if too_late >= MAX_LATE_SCAN {
                // A schedule down for ages: jump to the bound rather than count every fire.
                handled = handled.max(now - CATCH_UP);
            }
            continue;
        }
        let market_date = at.with_timezone(&MARKET_TIME_ZONE).date_naive();
        let Some(open) = calendar.is_trading_day(market_date) else {
            needs_calendar = Some(market_date);
            break;
        };
        fires.push(Fire {
            at,
            market_date,
            runs: open,
        });
        handled = at;
    }
    (handled != s.handled_until || needs_calendar.is_some()).then_some(Due {
        schedule: s.id,
        fires,
        too_late,
        handled_until: handled,
        needs_calendar,
    })
}

#[cfg(test)]
mod tests {
    //! Property-style tests: seeded random schedules, calendars and tick patterns across month
    //! ends, a year end and holidays, checked against an independent minute-by-minute matcher.

    use std::collections::{BTreeMap, BTreeSet};

    use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike, Weekday};

    use super::*;
    use crate::domain::{DataSourceId, UserId};
    use crate::schedule::{CronSpec, Template, Window};

    /// One cron field of the subset the generator writes.
    #[derive(Debug, Clone)]
    enum Field {
        Any,
        Value(u32),
        Step(u32),
        Range(u32, u32),
        List(Vec<u32>),
    }

    impl Field {
        fn text(&self) -> String {
            match self {
                Field::Any => "*".into(),
                Field::Value(v) => v.to_string(),
                Field::Step(s) => format!("*/{s}"),
                Field::Range(a, b) => format!("{a}-{b}"),
                Field::List(l) => l.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
            }
        }

        fn matches(&self, v: u32) -> bool {
            match self {
                Field::Any => true,
                Field::Value(x) => v == *x,
                Field::Step(s) => v.is_multiple_of(*s),
                Field::Range(a, b) => (*a..=*b).contains(&v),
                Field::List(l) => l.contains(&v),
            }
        }
    }

    /// An independent reading of a five-field expression on a local wall-clock minute.
    #[derive(Debug, Clone)]
    struct Expr {
        minute: Field,
        hour: Field,
        dom: Field,
        month: Field,
        dow: Field,
    }

    impl Expr {
        fn text(&self) -> String {
            [&self.minute, &self.hour, &self.dom, &self.month, &self.dow]
                .map(Field::text)
                .join(" ")
        }

        fn matches(&self, t: NaiveDateTime) -> bool {
            let dom = self.dom.matches(t.day());
            let dow = self.dow.matches(t.weekday().num_days_from_sunday());
            // Vixie cron: with both day fields restricted, either may match.
            let day = match (&self.dom, &self.dow) {
                (Field::Any, _) | (_, Field::Any) => dom && dow,
                _ => dom || dow,
            };
            self.minute.matches(t.minute())
                && self.hour.matches(t.hour())
                && self.month.matches(t.month())
                && day
        }
    }

    fn pick<T: Clone>(rng: &mut fastrand::Rng, xs: &[T]) -> T {
        xs[rng.usize(..xs.len())].clone()
    }

    fn random_expr(rng: &mut fastrand::Rng, hours: std::ops::RangeInclusive<u32>) -> Expr {
        let (h0, h1) = (*hours.start(), *hours.end());
        let (m, h) = (rng.u32(0..60), rng.u32(h0..=h1));
        Expr {
            minute: pick(
                rng,
                &[
                    Field::Value(m),
                    Field::Step(15),
                    Field::List(vec![0, 30]),
                    Field::Range(55, 59),
                ],
            ),
            hour: pick(
                rng,
                &[
                    Field::Value(h),
                    Field::Range(h0.max(9), h1.min(15)),
                    Field::List(vec![h0, h1]),
                ],
            ),
            dom: pick(
                rng,
                &[
                    Field::Any,
                    Field::Any,
                    Field::Value(1),
                    Field::Value(31),
                    Field::List(vec![1, 15, 28]),
                ],
            ),
            month: pick(rng, &[Field::Any, Field::Any, Field::List(vec![1, 2, 12])]),
            dow: pick(
                rng,
                &[Field::Any, Field::Range(1, 5), Field::List(vec![0, 6])],
            ),
        }
    }

    fn calendar(rng: &mut fastrand::Rng) -> TradingCalendar {
        let first = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
        let mut trading = BTreeSet::new();
        for d in first.iter_days().take_while(|d| *d <= last) {
            let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            // New Year closure as at the exchange, plus random holidays.
            let new_year = (d.month() == 12 && d.day() == 31) || (d.month() == 1 && d.day() <= 3);
            if !weekend && !new_year && rng.u32(0..100) >= 6 {
                trading.insert(d);
            }
        }
        TradingCalendar::new(first, last, trading, DateTime::UNIX_EPOCH)
    }

    fn schedule(expr: &Expr, zone: &str, since: DateTime<Utc>) -> Schedule {
        Schedule::new(
            UserId::new(),
            "p".into(),
            CronSpec::parse(&expr.text(), Some(zone)).unwrap(),
            Template {
                data_source: DataSourceId::parse("jquants-v2").unwrap(),
                endpoint: "eq-bars-daily".into(),
                symbols: Vec::new(),
                all_listed_issues: false,
                params: BTreeMap::new(),
                window: Window::PreviousTradingDay,
            },
            since,
        )
    }

    /// Fire times of `expr` in `(from, to]`, minute by minute, independently of croner.
    fn expected(
        expr: &Expr,
        zone: chrono_tz::Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = from + TimeDelta::minutes(1);
        while t <= to {
            if expr.matches(t.with_timezone(&zone).naive_local()) {
                out.push(t);
            }
            t += TimeDelta::minutes(1);
        }
        out
    }

    /// Spans that cross month ends, February, a year end and Golden-Week-like runs of holidays.
    const SPANS: [(i32, u32, u32); 4] =
        [(2026, 1, 20), (2026, 2, 22), (2026, 12, 18), (2026, 4, 25)];

    #[test]
    fn every_fire_decided_exactly_once_when_ticks_keep_up() {
        for seed in 0..48 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let cal = calendar(&mut rng);
            let (zone, hours) = pick(
                &mut rng,
                &[
                    ("Asia/Tokyo", 0..=23),
                    ("UTC", 0..=23),
                    ("Asia/Kolkata", 0..=23),
                    // Away from the hours a daylight-saving change skips or repeats.
                    ("America/New_York", 6..=22),
                ],
            );
            let expr = random_expr(&mut rng, hours);
            let (y, m, d) = SPANS[usize::try_from(seed).unwrap() % SPANS.len()];
            let start = Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
                + TimeDelta::minutes(rng.i64(0..1440));
            let end = start + TimeDelta::days(21);
            let mut s = schedule(&expr, zone, start);
            let mut decided: Vec<Fire> = Vec::new();
            let mut now = start;
            while now < end {
                // Ticks every few minutes, some repeated, some gaps of hours (within CATCH_UP).
                now += match rng.u32(0..100) {
                    0..=9 => TimeDelta::zero(),
                    10..=97 => TimeDelta::minutes(rng.i64(1..=20)),
                    _ => TimeDelta::minutes(rng.i64(60..=300)),
                };
                let now = now.min(end);
                for d in due(now, std::slice::from_ref(&s), &cal) {
                    assert_eq!(d.too_late, 0, "{}: no gap exceeds the bound", expr.text());
                    assert!(d.needs_calendar.is_none());
                    assert!(
                        d.fires
                            .iter()
                            .all(|f| f.at <= now && now - f.at <= CATCH_UP)
                    );
                    decided.extend(&d.fires);
                    s.handled_until = d.handled_until;
                }
            }
            let want = expected(&expr, zone.parse().unwrap(), start, end);
            let got: Vec<DateTime<Utc>> = decided.iter().map(|f| f.at).collect();
            assert_eq!(got, want, "seed {seed}: `{}` in {zone}", expr.text());
            for f in &decided {
                let day = f.at.with_timezone(&MARKET_TIME_ZONE).date_naive();
                assert_eq!(f.market_date, day);
                assert_eq!(
                    f.runs,
                    cal.is_trading_day(day) == Some(true),
                    "closed days skipped, open days run"
                );
            }
        }
    }

    #[test]
    fn downtime_beyond_the_bound_skips_old_fires_and_never_runs_one_late() {
        for seed in 100..140 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let cal = calendar(&mut rng);
            let expr = random_expr(&mut rng, 0..=23);
            let (y, m, d) = SPANS[usize::try_from(seed).unwrap() % SPANS.len()];
            let start = Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap();
            let end = start + TimeDelta::days(14);
            let mut s = schedule(&expr, "Asia/Tokyo", start);
            let mut ticks = vec![start];
            let (mut runs, mut late) = (Vec::new(), 0);
            let mut now = start;
            while now < end {
                now = (now
                    + if rng.u32(0..30) == 0 {
                        TimeDelta::hours(rng.i64(7..=60))
                    } else {
                        TimeDelta::minutes(rng.i64(1..=30))
                    })
                .min(end);
                ticks.push(now);
                for d in due(now, std::slice::from_ref(&s), &cal) {
                    assert!(d.fires.iter().all(|f| now - f.at <= CATCH_UP), "never late");
                    runs.extend(d.fires.iter().map(|f| f.at));
                    late += d.too_late;
                    s.handled_until = d.handled_until;
                }
            }
            let want = expected(&expr, chrono_tz::Asia::Tokyo, start, end);
            // A fire is decided at the first tick at or after it: run when that tick is within
            // the bound, counted late otherwise.
            let (mut want_runs, mut want_late) = (Vec::new(), 0);
            for f in want {
                let first_tick = ticks.iter().find(|t| **t >= f).copied().unwrap();
                if first_tick - f <= CATCH_UP {
                    want_runs.push(f);
                } else {
                    want_late += 1;
                }
            }
            assert_eq!(runs, want_runs, "seed {seed}: `{}`", expr.text());
            assert_eq!(late, want_late, "seed {seed}");
        }
    }

    #[test]
    fn a_fire_waits_for_the_calendar_and_racing_schedulers_decide_the_same_fires() {
        let start = Utc.with_ymd_and_hms(2027, 3, 30, 0, 0, 0).unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let cal = calendar(&mut rng); // covers up to 2027-03-31
        let expr = Expr {
            minute: Field::Value(0),
            hour: Field::Value(18),
            dom: Field::Any,
            month: Field::Any,
            dow: Field::Any,
        };
        let s = schedule(&expr, "Asia/Tokyo", start);
        let now = Utc.with_ymd_and_hms(2027, 4, 2, 10, 0, 0).unwrap(); // 19:00 JST 2 Apr
        let a = due(now, std::slice::from_ref(&s), &cal);
        let b = due(now, std::slice::from_ref(&s), &cal);
        assert_eq!(
            a, b,
            "two schedulers at the same minute decide the same fires"
        );
        let d = &a[0];
        // 18:00 JST is 09:00 UTC: the fires of 30 and 31 March and 1 April are over 6 h old
        // and skipped; 2 April's is recent but its day is past the calendar: held.
        assert_eq!(d.too_late, 3);
        assert_eq!(
            d.needs_calendar,
            Some(NaiveDate::from_ymd_opt(2027, 4, 2).unwrap())
        );
        assert!(d.fires.is_empty());
        assert_eq!(
            d.handled_until,
            Utc.with_ymd_and_hms(2027, 4, 1, 9, 0, 0).unwrap()
        );
        // Once the calendar covers it, both racers decide the one fire and name one group.
        let april = NaiveDate::from_ymd_opt(2027, 4, 1).unwrap();
        let longer = cal.merged(&TradingCalendar::new(
            april,
            NaiveDate::from_ymd_opt(2027, 4, 30).unwrap(),
            [NaiveDate::from_ymd_opt(2027, 4, 2).unwrap()],
            DateTime::UNIX_EPOCH,
        ));
        let (a, b) = (
            due(now, std::slice::from_ref(&s), &longer),
            due(now, std::slice::from_ref(&s), &longer),
        );
        assert_eq!(a, b);
        assert_eq!(a[0].fires.len(), 1);
        assert!(a[0].fires[0].runs);
        let ids: BTreeSet<_> = [&a, &b]
            .iter()
            .flat_map(|r| r[0].fires.iter())
            .map(|f| crate::domain::JobGroupId::for_fire(s.id, f.at, 0))
            .collect();
        assert_eq!(ids.len(), 1);
        assert_ne!(
            crate::domain::JobGroupId::for_fire(s.id, a[0].fires[0].at, 1),
            *ids.first().unwrap(),
            "chunks of one fire are different groups"
        );
    }
}
