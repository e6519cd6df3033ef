//! Following a job group: polls `GET /v1/job-groups/{id}` and draws a progress bar on stderr
//! (done/total, failures, rate, ETA) until the group ends. The bar is drawn only when stderr is
//! a terminal, so scripts and logs get no control sequences.

use std::future::Future;
use std::time::Duration;

use indicatif::{HumanDuration, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::api::{Api, GroupView};
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
    let bar = new_bar();
    let mut failures = 0;
    loop {
        match api.group(id).await {
            Ok(g) => {
                failures = 0;
                show(&bar, &g);
                if g.has_ended() {
                    bar.finish();
                    return Ok(g);
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

fn show(bar: &ProgressBar, g: &GroupView) {
    bar.set_length(g.total_jobs);
    bar.set_position(g.finished_jobs());
    let planning = g.total_jobs == 0 && !g.has_ended();
    bar.set_message(if planning {
        format!("{} · planning the jobs", g.status)
    } else {
        format!("{} failed · {}", g.failed_jobs, g.status)
    });
}
