//! Following job groups: polls `GET /v1/job-groups/{id}` and draws a progress bar on stderr
//! (done/total, failures, rate, ETA) until the group ends (or all the groups of a `data get`
//! have, as one bar). The bar is drawn only when stderr is
//! a terminal, so scripts and logs get no control sequences. While the group waits on the
//! provider's limit (paused after a 429, or running below the declared plan's limit) the bar
//! says so, and the API's warning about the plan is printed once.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{HumanDuration, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::api::{Api, GroupView, Rate};
use crate::error::CliError;

/// How often the group is polled.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// Consecutive failed polls tolerated (a network blip or a 5xx) before giving up.
const POLL_ATTEMPTS: u32 = 5;

/// Polls the group until it ends, drawing its progress; returns its last view.
///
/// # Errors
/// The API's error when the group cannot be read (404, 401, …), or when polling failed
/// [`POLL_ATTEMPTS`] times in a row.
pub async fn watch(api: &Api, id: &str) -> Result<GroupView, CliError> {
    let mut views = watch_all(api, &[id.to_owned()]).await?;
    views
        .pop()
        .ok_or_else(|| CliError::Unexpected(format!("job group {id}: no view")))
}

/// Polls the groups until every one has ended, drawing their progress as one bar (their jobs
/// added up); returns their last views, in the order of `ids`.
///
/// # Errors
/// As [`watch`].
pub async fn watch_all(api: &Api, ids: &[String]) -> Result<Vec<GroupView>, CliError> {
    let bar = new_bar();
    let mut views: Vec<Option<GroupView>> = vec![None; ids.len()];
    let mut failures = 0;
    let mut warned = false;
    loop {
        let mut polled = Ok(());
        for (id, view) in ids.iter().zip(&mut views) {
            if view.as_ref().is_some_and(GroupView::has_ended) {
                continue;
            }
            match api.group(id).await {
                Ok(g) => *view = Some(g),
                Err(e) => {
                    polled = Err(e);
                    break;
                }
            }
        }
        match polled {
            Ok(()) => {
                failures = 0;
                let seen: Vec<&GroupView> = views.iter().flatten().collect();
                let rate = seen
                    .iter()
                    .filter(|g| !g.has_ended())
                    .chain(&seen)
                    .find_map(|g| g.rate());
                if let Some(warning) = rate.as_ref().and_then(|r| r.warning.as_deref())
                    && !warned
                {
                    warned = true;
                    // Printed above the bar, and also when no bar is drawn (not a terminal).
                    bar.suspend(|| eprintln!("warning: {warning}"));
                }
                let all = combined(&seen);
                show(&bar, &all, rate.as_ref(), Utc::now());
                if all.has_ended() {
                    bar.finish();
                    return Ok(views.into_iter().flatten().collect());
                }
            }
            Err(e) if transient(&e) && failures + 1 < POLL_ATTEMPTS => {
                failures += 1;
                bar.set_message(format!("{e}; retrying"));
            }
            Err(e) => {
                bar.abandon();
                return Err(e);
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// One view of several groups for the bar: their jobs added up; ended when all have, failed
/// when one has; running while one runs. One group is shown as itself.
fn combined(groups: &[&GroupView]) -> GroupView {
    if let [one] = groups {
        return (*one).clone();
    }
    let ended = groups.iter().all(|g| g.has_ended());
    let status = if ended && groups.iter().all(|g| g.status == "completed") {
        "completed"
    } else if ended {
        "failed"
    } else if groups.iter().any(|g| g.status == "running") {
        "running"
    } else {
        "pending"
    };
    GroupView {
        id: String::new(),
        status: status.to_owned(),
        total_jobs: groups.iter().map(|g| g.total_jobs).sum(),
        completed_jobs: groups.iter().map(|g| g.completed_jobs).sum(),
        failed_jobs: groups.iter().map(|g| g.failed_jobs).sum(),
        error_message: None,
        params: Default::default(),
        rest: Default::default(),
    }
}

/// Runs `work` unless Ctrl-C comes first; then the group is left running and the error says
/// how to reattach.
///
/// # Errors
/// `work`'s error, or [`CliError::Interrupted`].
pub async fn interruptible<T>(
    id: &str,
    work: impl Future<Output = Result<T, CliError>>,
) -> Result<T, CliError> {
    tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted { id: id.to_owned() }),
    }
}

fn transient(e: &CliError) -> bool {
    match e {
        CliError::Unreachable { .. } => true,
        CliError::Api { status, .. } => *status >= 500,
        _ => false,
    }
}

fn new_bar() -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] [{bar:30}] {pos}/{len} jobs · {msg} · {rate} · ETA {left}",
    )
    .expect("the template is valid")
    .progress_chars("=> ")
    .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{:.1} jobs/s", s.per_sec());
    })
    .with_key("left", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = if s.pos() == 0 {
            write!(w, "-")
        } else {
            write!(w, "{:#}", HumanDuration(s.eta()))
        };
    });
    let bar =
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr()).with_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A bar of bytes downloaded out of `total`, on stderr (drawn only on a terminal).
pub fn download_bar(total: u64) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{spinner} downloading [{bar:30}] {bytes}/{total_bytes} · {bytes_per_sec} · ETA {eta}",
    )
    .expect("the template is valid")
    .progress_chars("=> ");
    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()).with_style(style)
}

fn show(bar: &ProgressBar, g: &GroupView, rate: Option<&Rate>, now: DateTime<Utc>) {
    bar.set_length(g.total_jobs);
    bar.set_position(g.finished_jobs());
    let planning = g.total_jobs == 0 && !g.has_ended();
    let waiting = rate
        .filter(|_| !g.has_ended())
        .and_then(|r| waiting_note(r, now));
    bar.set_message(match waiting {
        Some(note) => format!("{} failed · {note}", g.failed_jobs),
        None if planning => format!("{} · planning the jobs", g.status),
        None => format!("{} failed · {}", g.failed_jobs, g.status),
    });
}

/// What the bar says while the group waits on the provider's limit: paused after a 429
/// (`paused_until` ahead), or running at a limit learned below the declared one. `None`
/// otherwise.
pub fn waiting_note(rate: &Rate, now: DateTime<Utc>) -> Option<String> {
    let pause = rate.paused_until.filter(|&until| until > now);
    let below = rate.mode == "learned" && rate.effective_per_minute < rate.configured_per_minute;
    if pause.is_none() && !below {
        return None;
    }
    let mut note = format!(
        "waiting on the provider's rate limit ({}/min of {} declared, {} x 429",
        rate.effective_per_minute, rate.configured_per_minute, rate.throttled_total
    );
    if let Some(until) = pause {
        // Whole seconds, rounded up: "paused 0 s" would read as not paused.
        let ms = u64::try_from((until - now).num_milliseconds()).unwrap_or(0);
        note = format!("{note}, paused {} s", ms.div_ceil(1000).max(1));
    }
    note.push(')');
    Some(note)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn rate(mode: &str, paused_until: Option<DateTime<Utc>>) -> Rate {
        Rate {
            configured_per_minute: 60,
            effective_per_minute: 12,
            mode: mode.into(),
            throttled_total: 4,
            paused_until,
            warning: None,
        }
    }

    fn group(status: &str, total: u64, completed: u64, failed: u64) -> GroupView {
        serde_json::from_value(serde_json::json!({
            "id": status, "status": status, "total_jobs": total,
            "completed_jobs": completed, "failed_jobs": failed,
        }))
        .unwrap()
    }

    #[test]
    fn several_groups_show_as_one_bar() {
        let (a, b) = (group("running", 3, 1, 0), group("completed", 2, 2, 0));
        let all = combined(&[&a, &b]);
        assert_eq!(
            (all.status.as_str(), all.total_jobs, all.finished_jobs()),
            ("running", 5, 3)
        );
        let failed = group("failed", 4, 3, 1);
        let all = combined(&[&failed, &b]);
        assert_eq!((all.status.as_str(), all.has_ended()), ("failed", true));
        assert_eq!(combined(&[&b, &b]).status, "completed");
        assert_eq!(combined(&[&a]).id, "running", "one group is itself");
    }

    #[test]
    fn the_bar_says_when_the_group_waits_on_the_providers_limit() {
        let now = "2026-12-06T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            waiting_note(&rate("learned", None), now).as_deref(),
            Some("waiting on the provider's rate limit (12/min of 60 declared, 4 x 429)")
        );
        assert_eq!(
            waiting_note(
                &rate("learned", Some(now + TimeDelta::milliseconds(41_200))),
                now
            )
            .as_deref(),
            Some(
                "waiting on the provider's rate limit (12/min of 60 declared, 4 x 429, paused 42 s)"
            )
        );
        assert_eq!(
            waiting_note(&rate("slow_start", Some(now + TimeDelta::seconds(1))), now).as_deref(),
            Some(
                "waiting on the provider's rate limit (12/min of 60 declared, 4 x 429, paused 1 s)"
            ),
            "a pause whatever the mode"
        );
        assert_eq!(waiting_note(&rate("open", None), now), None);
        let back_up = Rate {
            effective_per_minute: 60,
            ..rate("learned", None)
        };
        assert_eq!(
            waiting_note(&back_up, now),
            None,
            "learned, but back at the declared limit"
        );
        assert_eq!(
            waiting_note(&rate("slow_start", Some(now)), now),
            None,
            "a pause that is over"
        );
        assert_eq!(
            waiting_note(&rate("open", Some(now - TimeDelta::seconds(3))), now),
            None
        );
    }
}
