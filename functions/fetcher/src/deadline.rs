//! The invocation's deadline, as Lambda gives it (`Lambda-Runtime-Deadline-Ms`), turned into
//! the moment work must stop starting: past it, a job stops before its next page, keeps its
//! checkpoint and continues in a fresh invocation (a new copy of its message, not a retry);
//! the fan-out hands the rest to a new message. Nothing runs after Lambda's deadline, so
//! stopping late loses the page in flight and costs the job a retry.
//!
//! Held per invocation in a task-local: Lambda runs one invocation at a time per process, and
//! a batch's jobs are futures of the handler's task. Outside [`within`] (tests calling the
//! handler directly) there is no deadline.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

tokio::task_local! {
    static LIMITS: Limits;
}

/// When work stops starting, and when Lambda ends the invocation.
#[derive(Clone, Copy)]
struct Limits {
    stop_at: Instant,
    deadline: Instant,
}

/// Slack on a lease past the invocation's deadline: the job is free again soon after Lambda
/// ends a killed invocation, and never while a live one may still write.
const LEASE_SLACK: Duration = Duration::from_secs(5);

/// The margin kept before the deadline: time for one more page request at the provider's
/// timeout and for recording the batch's results, but never more than half the invocation,
/// so every invocation gets to do work.
pub(crate) fn margin(provider_timeout: Duration, invocation: Duration) -> Duration {
    (provider_timeout + Duration::from_secs(5)).min(invocation / 2)
}

/// Runs `f` with work stopping `margin` before `deadline` (wall clock, as Lambda gives it).
/// A deadline less than a second away when the invocation starts is not one Lambda gives (its
/// shortest timeout is a second): local emulators send 0 or the current time, so it is taken
/// as none rather than as a call to stop at once.
pub(crate) async fn within<F: Future>(
    deadline: SystemTime,
    provider_timeout: Duration,
    f: F,
) -> F::Output {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    if left < Duration::from_secs(1) {
        tracing::debug!(
            left_ms = left.as_millis() as u64,
            "no usable invocation deadline"
        );
        return f.await;
    }
    let now = Instant::now();
    let limits = Limits {
        stop_at: now + left - margin(provider_timeout, left),
        deadline: now + left,
    };
    LIMITS.scope(limits, f).await
}

/// When work must stop starting, if the invocation has a deadline.
pub(crate) fn stop_at() -> Option<Instant> {
    LIMITS.try_with(|l| l.stop_at).ok()
}

/// How long a job started now is held against other deliveries: `default`, but no longer
/// than this invocation can live (a job whose invocation was killed at its deadline is taken
/// up again by its next delivery seconds later, not after the full lease).
pub(crate) fn lease(default: chrono::TimeDelta) -> chrono::TimeDelta {
    LIMITS
        .try_with(|l| l.deadline.saturating_duration_since(Instant::now()) + LEASE_SLACK)
        .ok()
        .and_then(|left| chrono::TimeDelta::from_std(left).ok())
        .map_or(default, |left| left.min(default))
}

/// Whether the time to stop has come, for work expected to take `next` (as long as the
/// slowest page so far: a page that cannot finish before the margin ends is not started).
pub(crate) fn reached(next: Duration) -> bool {
    stop_at().is_some_and(|s| Instant::now() + next >= s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_stops_a_margin_before_the_deadline_and_never_without_one() {
        assert!(
            !reached(Duration::ZERO),
            "no deadline outside an invocation"
        );
        let provider = Duration::from_secs(20);
        assert_eq!(
            margin(provider, Duration::from_secs(60)),
            Duration::from_secs(25)
        );
        assert_eq!(
            margin(provider, Duration::from_secs(4)),
            Duration::from_secs(2)
        );
        let past = SystemTime::now() - Duration::from_secs(5);
        within(past, provider, async {
            assert!(!reached(Duration::ZERO), "a deadline gone by is none");
        })
        .await;
        let soon = SystemTime::now() + Duration::from_millis(1200);
        within(soon, provider, async {
            assert!(!reached(Duration::ZERO));
            assert!(
                reached(Duration::from_millis(700)),
                "a page as slow as the time left is not started"
            );
            tokio::time::sleep(Duration::from_millis(650)).await;
            assert!(reached(Duration::ZERO), "past half of a short invocation");
        })
        .await;
        let later = SystemTime::now() + Duration::from_secs(60);
        within(later, provider, async { assert!(!reached(Duration::ZERO)) }).await;
    }

    #[tokio::test]
    async fn a_lease_ends_soon_after_the_invocation_could() {
        let default = chrono::TimeDelta::seconds(90);
        assert_eq!(lease(default), default, "no deadline: the full lease");
        let soon = SystemTime::now() + Duration::from_secs(10);
        within(soon, Duration::from_secs(2), async {
            let l = lease(default);
            assert!(
                l > chrono::TimeDelta::seconds(13) && l <= chrono::TimeDelta::seconds(15),
                "{l}"
            );
        })
        .await;
        let later = SystemTime::now() + Duration::from_secs(900);
        within(later, Duration::from_secs(2), async {
            assert_eq!(lease(default), default, "never longer than the default");
        })
        .await;
    }
}
