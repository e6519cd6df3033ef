//! The per-user limits as the handlers apply them ([`shared::config::UserLimits`], documented
//! in the README's "Per-user limits"): each refusal is a 429 whose `detail` names the limit and
//! its value, with `Retry-After`; nothing is stored then.

use chrono::{DateTime, Utc};
use shared::store::jobs::{GroupQuota, QuotaExceeded, WindowLimit};

use crate::error::ApiError;
use crate::state::AppState;

/// What a refusal of a limit that does not pass with time (a count held, a size) suggests
/// waiting: long enough not to hammer, short enough for a group to end meanwhile.
const RETRY_STATIC_SECS: u64 = 60;

/// The window of group creations.
pub fn groups_window(state: &AppState) -> WindowLimit {
    WindowLimit {
        name: "groups",
        max: state.limits.groups_per_minute,
        window_secs: 60,
    }
}

/// What a new group must fit in.
pub fn group_quota(state: &AppState) -> GroupQuota {
    GroupQuota {
        max_active_jobs: u64::from(state.limits.max_active_jobs),
        groups: groups_window(state),
    }
}

/// The window of credential checks.
pub fn checks_window(state: &AppState) -> WindowLimit {
    WindowLimit {
        name: "credential-checks",
        max: state.limits.credential_checks_per_minute,
        window_secs: 60,
    }
}

/// A refused group creation.
pub fn exceeded(e: QuotaExceeded, now: DateTime<Utc>) -> ApiError {
    match e {
        QuotaExceeded::ActiveJobs { limit, charge } => too_many(
            format!(
                "limit `max_active_jobs` ({limit} jobs in your groups that have not ended) exceeded: this group adds {charge}; wait for groups to end, or cancel one"
            ),
            RETRY_STATIC_SECS,
        ),
        QuotaExceeded::Window(w) => window_full(w, now),
    }
}

/// A full fixed window.
pub fn window_full(w: WindowLimit, now: DateTime<Utc>) -> ApiError {
    let name = match w.name {
        "groups" => "groups_per_minute",
        "credential-checks" => "credential_checks_per_minute",
        other => other,
    };
    too_many(
        format!(
            "limit `{name}` ({} a minute) exceeded: retry after the minute ends",
            w.max
        ),
        w.retry_after_secs(now),
    )
}

/// A limit that does not pass with time: `name` with `value`, and what to change.
pub fn static_limit(name: &str, value: u32, what: &str) -> ApiError {
    too_many(
        format!("limit `{name}` ({value}) exceeded: {what}"),
        RETRY_STATIC_SECS,
    )
}

fn too_many(detail: String, retry_after_secs: u64) -> ApiError {
    ApiError::TooManyRequests {
        detail,
        retry_after_secs,
    }
}
