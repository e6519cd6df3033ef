//! One job's steps inside a batch ([`crate::batch`]): [`prepare`] checks the message against
//! the stored job and resolves its data source and credential; once the batch holds a permit
//! for it, [`execute`] starts it and fetches every page into the row store (a permit per later
//! page). A step ends settled (done, delivered again, deferred by a delayed copy, dead-lettered)
//! or with a result the batch records together with its group's others.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use shared::archive::JobPrefix;
use shared::catalog::Endpoint;
use shared::domain::{
    Checkpoint, DataSourceId, Job, JobGroup, JobGroupId, JobId, Plan, Release, UserId,
};
use shared::limiter::{self, Scope};
use shared::metrics::BatchMetrics;
use shared::provider::{Disposition, Page, PageKeys, ProviderError};
use shared::queue::JobMessage;
use shared::store::{JobResult, StartOutcome, StoreError};
use tracing::Instrument;

use crate::access::Access;
use crate::deps::Deps;
use crate::failure::Failure;
use crate::request::{Context, Stop};

/// What becomes of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Delete it: the job is terminal (now or already).
    Done,
    /// Deliver it again: after `after`, or (our own infrastructure failed) after a jittered
    /// backoff by delivery count.
    Redeliver {
        /// The wait before the next attempt; `None`: the infrastructure backoff.
        after: Option<std::time::Duration>,
    },
    /// No attempt can succeed (unparseable, or naming no job): to the dead-letter queue now.
    DeadLetter(&'static str),
    /// The rate limiter said wait: a copy of the message comes back after `after` and this
    /// delivery is acknowledged, so waiting never counts toward the dead-letter queue.
    Defer {
        /// The message to send again.
        message: JobMessage,
        /// How long to wait.
        after: std::time::Duration,
    },
}

/// How a job message ends in this batch.
#[derive(Debug)]
pub(crate) enum Step {
    /// Settled: nothing more to do in this batch.
    Settled(Outcome),
    /// Terminal: to be recorded with the rest of its group's results.
    Finish {
        /// The group.
        group: JobGroupId,
        /// The job.
        job: JobId,
        /// Its result.
        result: JobResult,
    },
    /// A duplicate of a finished job: acknowledged; its group's end is checked again (a
    /// previous delivery may have died between the two).
    Finished(JobGroupId),
}

/// A job that may start once it has a permit.
#[derive(Debug)]
pub(crate) struct Ready {
    pub(crate) msg: JobMessage,
    pub(crate) attempt: u32,
    pub(crate) group: JobGroup,
    pub(crate) job: Job,
    pub(crate) ctx: Context,
    /// Its first page, already fetched with other jobs' in one request (a coalescing
    /// endpoint): the job sends no request of its own for it.
    pub(crate) prefetched: Option<Result<Page, ProviderError>>,
}

/// Credentials opened during one batch: each account's once, however many of its jobs the
/// batch holds.
#[derive(Debug, Default)]
pub(crate) struct Memo(tokio::sync::Mutex<HashMap<(UserId, DataSourceId), (Plan, Access)>>);

fn span(msg: &JobMessage, attempt: u32) -> tracing::Span {
    tracing::info_span!("job", job_group_id = %msg.job_group_id, job_id = %msg.job_id, symbol = tracing::field::Empty, attempt)
}

/// Checks a job message against its stored job (read with the batch): what it needs before
/// its first request, or what becomes of it at once.
pub(crate) async fn prepare(
    msg: JobMessage,
    attempt: u32,
    found: Option<(JobGroup, Job)>,
    memo: &Memo,
    deps: &Deps,
) -> Result<Box<Ready>, Step> {
    let span = span(&msg, attempt);
    async move {
        let Some((group, job)) = found else {
            return Err(Step::Settled(Outcome::DeadLetter(
                "message names no stored job",
            )));
        };
        if let Some(symbol) = &job.symbol {
            tracing::Span::current().record("symbol", symbol.as_str());
        }
        if job.status.is_terminal() {
            tracing::info!(
                status = job.status.as_str(),
                "duplicate delivery of a finished job"
            );
            return Err(Step::Finished(group.id));
        }
        if group.cancel_requested_at.is_some() {
            // Cancelled before this job ran: skipped, counted as failed, never sent to the
            // provider.
            return Err(Step::Finish {
                group: group.id,
                job: job.id,
                result: JobResult::Failed("cancelled before it ran".into()),
            });
        }
        match context(&group, memo, deps).await {
            Ok(ctx) => Ok(Box::new(Ready {
                msg,
                attempt,
                group,
                job,
                ctx,
                prefetched: None,
            })),
            Err(Failure::Infrastructure(e)) => {
                tracing::warn!(error.message = %e, error.cause_chain = ?e, "job attempt failed; message will be redelivered");
                Err(Step::Settled(Outcome::Redeliver { after: None }))
            }
            Err(Failure::Permanent(m)) => Err(Step::Finish {
                group: group.id,
                job: job.id,
                result: JobResult::Failed(m),
            }),
            Err(Failure::Transient { message, .. }) => {
                let after = crate::retry::backoff(attempt, None, crate::retry::unit_random());
                tracing::warn!(error.message = %message, retry_in_s = after.as_secs(), "transient failure before the first request; will retry");
                Err(Step::Settled(Outcome::Redeliver { after: Some(after) }))
            }
        }
    }
    .instrument(span)
    .await
}

/// The limiter refused the job's first permit: a delayed copy for `until`, nothing written.
/// `turn`: how much later still it may come back, at random (the refused jobs of a backlog
/// spread over the time the budget needs for them, rather than all asking again at `until`).
pub(crate) fn refused(
    ready: &Ready,
    until: DateTime<Utc>,
    turn: std::time::Duration,
    deps: &Deps,
) -> Step {
    let later = turn.mul_f64(crate::retry::unit_random());
    Step::Settled(defer(ready.msg, until + later, deps))
}

/// Fetches the pages of a job whose first permit the batch holds, once the batch has tried to
/// start it (`start`).
pub(crate) async fn execute(
    ready: Ready,
    start: StartOutcome,
    metrics: &BatchMetrics,
    deps: &Deps,
) -> Step {
    let span = span(&ready.msg, ready.attempt);
    if let Some(symbol) = &ready.job.symbol {
        span.record("symbol", symbol.as_str());
    }
    async move {
        match try_execute(ready, start, metrics, deps).await {
            Ok(step) => step,
            Err(e) => {
                tracing::warn!(error.message = %e, error.cause_chain = ?e, "job attempt failed; message will be redelivered");
                Step::Settled(Outcome::Redeliver { after: None })
            }
        }
    }
    .instrument(span)
    .await
}

async fn try_execute(
    ready: Ready,
    start: StartOutcome,
    metrics: &BatchMetrics,
    deps: &Deps,
) -> Result<Step, StoreError> {
    let Ready {
        msg,
        attempt,
        group,
        job: _,
        ctx,
        prefetched,
    } = ready;
    let job = match start {
        StartOutcome::Started(job) => job,
        StartOutcome::AlreadyTerminal(_) => return Ok(Step::Settled(Outcome::Done)),
        StartOutcome::Leased(until) => {
            // Another fetcher is on it. Not deleted: if that fetcher dies, this delivery (or
            // its own, after the visibility timeout) takes the job once the lease lapses.
            let wait = (until - deps.clock.now()).to_std().unwrap_or_default();
            tracing::info!(
                lease_s = wait.as_secs(),
                "job held by another fetcher; delivered again after its lease"
            );
            return Ok(Step::Settled(Outcome::Redeliver {
                after: Some(wait + std::time::Duration::from_secs(1)),
            }));
        }
        StartOutcome::NotFound => {
            return Ok(Step::Settled(Outcome::DeadLetter(
                "message names no stored job",
            )));
        }
    };
    // The job's own count of failed attempts bounds it too: a delayed copy (a pause, a stop
    // before the deadline) starts again at receive count 1, but not at attempt 1.
    let attempt = attempt.max(job.retry_count + 1);
    let started = Instant::now();
    let fetched = fetch(&ctx, &group, &job, prefetched, metrics, deps).await;
    ctx.access.settle(&group, deps).await;
    let result = match fetched {
        Ok(data) => {
            tracing::info!(
                rows = data.rows,
                pages = data.pages,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "job completed"
            );
            JobResult::Completed(data)
        }
        Err(Stop::Deadline { at }) => {
            tracing::info!(
                pages_done = at.as_ref().map_or(0, |c| c.pages),
                "invocation deadline near; the job goes on in a fresh invocation"
            );
            release(deps, &job, Release::Paused(at)).await;
            return Ok(Step::Settled(Outcome::Defer {
                message: msg,
                after: std::time::Duration::ZERO,
            }));
        }
        Err(Stop::Paused { at, until }) => {
            tracing::info!(
                pages_done = at.as_ref().map_or(0, |c| c.pages),
                "rate limited mid-job; paused at its checkpoint"
            );
            release(deps, &job, Release::Paused(at)).await;
            return Ok(Step::Settled(defer(msg, until, deps)));
        }
        Err(Stop::Failed {
            failure: Failure::Infrastructure(e),
            at,
        }) => {
            release(deps, &job, Release::Failed(at)).await;
            return Err(e);
        }
        Err(Stop::Failed {
            failure: Failure::Permanent(message),
            ..
        }) => JobResult::Failed(message),
        Err(Stop::Failed {
            failure:
                Failure::Transient {
                    message,
                    once,
                    retry_after,
                },
            at,
        }) => {
            let max = ctx.endpoint.max_attempts.unwrap_or(deps.max_attempts);
            let limit = if once { 2.min(max) } else { max };
            if attempt < limit {
                let after =
                    crate::retry::backoff(attempt, retry_after, crate::retry::unit_random());
                tracing::warn!(error.message = %message, retry_in_s = after.as_secs(), "transient failure; will retry");
                release(deps, &job, Release::Failed(at)).await;
                return Ok(Step::Settled(Outcome::Redeliver { after: Some(after) }));
            }
            JobResult::Failed(format!("{message} (gave up after {attempt} attempts)"))
        }
    };
    if let JobResult::Failed(m) = &result {
        tracing::warn!(error.message = %m, "job failed");
    }
    Ok(Step::Finish {
        group: group.id,
        job: job.id,
        result,
    })
}

/// A delayed copy for `until`, spread by up to a second so deferred fetchers do not all come
/// back in the same instant.
fn defer(message: JobMessage, until: DateTime<Utc>, deps: &Deps) -> Outcome {
    let wait = (until - deps.clock.now()).to_std().unwrap_or_default();
    let spread = std::time::Duration::from_millis((crate::retry::unit_random() * 1000.0) as u64);
    Outcome::Defer {
        message,
        after: wait + spread,
    }
}

/// Gives the job's lease up so its next delivery starts at once. Best effort: if this write
/// fails too, the lease simply lapses first.
async fn release(deps: &Deps, job: &Job, why: Release) {
    if let Err(e) = deps
        .ports
        .jobs
        .release_job(job.job_group_id, job.id, &why)
        .await
    {
        tracing::warn!(error.message = %e, "could not release the job's lease; it will lapse");
    }
}

async fn context(group: &JobGroup, memo: &Memo, deps: &Deps) -> Result<Context, Failure> {
    context_for(group, group.endpoint.get(), memo, deps).await
}

/// What a request to `endpoint` on behalf of `group`'s owner needs.
pub(crate) async fn context_for(
    group: &JobGroup,
    endpoint: &'static Endpoint,
    memo: &Memo,
    deps: &Deps,
) -> Result<Context, Failure> {
    crate::access::owner_active(group, deps).await?;
    let source = crate::access::data_source(group, deps).await?;
    let (plan, access) = {
        let mut opened = memo.0.lock().await;
        let account = (group.user_id, group.data_source_id.clone());
        match opened.get(&account) {
            Some(c) => c.clone(),
            None => {
                let c = crate::access::open(group, &source, deps).await?;
                opened.insert(account, c.clone());
                c
            }
        }
    };
    if plan < endpoint.min_plan {
        return Err(Failure::Permanent(format!(
            "endpoint `{}` needs the {} plan",
            endpoint.id, endpoint.min_plan
        )));
    }
    Ok(Context {
        scope: Scope::for_request(&source, group.user_id),
        backlog: group
            .total_jobs
            .saturating_sub(group.completed_jobs + group.failed_jobs),
        tenant: if deps.fair_share {
            Scope::tenant(&source, group.user_id, group.id)
        } else {
            String::new()
        },
        demands: limiter::demands(plan, &source, endpoint),
        endpoint,
        source,
        access,
    })
}

/// Fetches the pages from the job's checkpoint (or the first) on, storing each before asking
/// for the next, so memory holds one page. The first request's permit is already taken.
async fn fetch(
    ctx: &Context,
    group: &JobGroup,
    job: &Job,
    mut prefetched: Option<Result<Page, ProviderError>>,
    metrics: &BatchMetrics,
    deps: &Deps,
) -> Result<shared::domain::ResponseData, Stop> {
    let query = query(group, job, ctx.endpoint);
    let (mut rows, mut pages, mut next) = job.checkpoint.as_ref().map_or((0, 0, None), |c| {
        (c.rows, c.pages, Some(c.next_page.clone()))
    });
    let resumed_pages = pages;
    let (mut events, mut bytes) = (Vec::new(), 0u64);
    let mut resumed = next.is_some();
    // Every key the provider gave this run: one given again would loop for ever.
    let mut keys = PageKeys::default();
    if let Some(k) = &next {
        keys.record(k).ok();
    }
    let mut permit_held = true;
    // The slowest page of this job so far (fetched and stored): the next may take as long.
    let mut slowest = std::time::Duration::ZERO;
    let prefix = JobPrefix::new(group.user_id, group.id, job.id);
    loop {
        let at = next.as_ref().map(|k| Checkpoint {
            next_page: k.clone(),
            pages,
            rows,
        });
        if crate::deadline::reached(slowest) {
            return Err(Stop::Deadline { at });
        }
        let page_started = Instant::now();
        let answer = match prefetched.take() {
            Some(Err(ProviderError::RateLimited { retry_after })) => {
                return Err(crate::request::throttled(ctx, retry_after, at, deps).await);
            }
            Some(answer) => answer,
            None => {
                let held = std::mem::take(&mut permit_held);
                let sent = crate::request::Request {
                    ctx,
                    symbol: job.symbol.as_ref(),
                    query: &query,
                    next: next.as_deref(),
                };
                sent.send(held, at.as_ref(), Some(metrics), deps).await?
            }
        };
        permit_held = false;
        let page = match answer {
            Ok(page) => page,
            Err(e) if resumed && e.disposition() == Disposition::Fail => {
                // The saved page key is no longer accepted: start over from the first page.
                tracing::warn!(error.message = %e, "checkpoint refused by the provider; starting over");
                (rows, pages, next, resumed) = (0, 0, None, false);
                keys = PageKeys::default();
                continue;
            }
            Err(e) => {
                return Err(Stop::Failed {
                    failure: e.into(),
                    at,
                });
            }
        };
        resumed = false;
        // Each page is archived before the next is fetched: memory stays bounded by one page.
        // The archive is where rows live (`shared::holdings`): nothing is written per row.
        if let Err(e) = deps.ports.archive.put(&prefix.page(pages), &page.raw).await {
            return Err(Stop::Failed {
                failure: e.into(),
                at,
            });
        }
        crate::calendar::remember(ctx.endpoint, &query, &page.records, deps).await;
        events.extend(shared::holdings::actions(
            ctx.endpoint,
            &page.records,
            &page.raw,
            job.symbol.as_ref(),
            &query,
            deps.clock.now(),
        ));
        bytes += page.raw.len() as u64;
        rows += page.records.len() as u64;
        pages += 1;
        slowest = slowest.max(page_started.elapsed());
        match page.next {
            Some(key) => {
                if let Err(e) = keys.record(&key) {
                    return Err(Stop::Failed {
                        failure: e.into(),
                        at,
                    });
                }
                // Saved after every page, so a job killed at its deadline (or anywhere) goes
                // on from here instead of fetching its pages again.
                let at = Checkpoint {
                    next_page: key.clone(),
                    pages,
                    rows,
                };
                if let Err(e) = deps.ports.jobs.save_checkpoint(group.id, job.id, &at).await {
                    return Err(Stop::Failed {
                        failure: Failure::Infrastructure(e),
                        at: Some(at),
                    });
                }
                next = Some(key);
            }
            None => break,
        }
    }
    if resumed_pages > 0 {
        events.extend(earlier_actions(ctx.endpoint, &prefix, resumed_pages, deps).await);
    }
    let fetched_at = job.started_at.unwrap_or_else(|| deps.clock.now());
    let held = shared::holdings::held_of(ctx.endpoint, group, job, fetched_at, pages, rows, bytes)
        .map(|mut h| {
            events.sort_unstable();
            events.dedup();
            h.events = events;
            h
        });
    Ok(shared::domain::ResponseData {
        rows,
        pages,
        archive: Some(deps.ports.archive.uri(&prefix)),
        held,
    })
}

/// The corporate actions of the pages an earlier run of a resumed job archived (J-Quants
/// pages: a Yahoo answer is one page). Unreadable pages are skipped: the job's result stands.
async fn earlier_actions(
    endpoint: &Endpoint,
    prefix: &JobPrefix,
    pages: u32,
    deps: &Deps,
) -> Vec<chrono::NaiveDate> {
    let mut out = Vec::new();
    for i in 0..pages {
        let Ok(Some(body)) = deps.ports.archive.get(&prefix.page(i)).await else {
            continue;
        };
        if let Ok(page) = endpoint.dataset.parse_page(&body) {
            let records = page.records.unwrap_or_default();
            out.extend(shared::holdings::actions(
                endpoint,
                &records,
                &body,
                None,
                &[],
                deps.clock.now(),
            ));
        }
    }
    out
}

fn query(group: &JobGroup, job: &Job, endpoint: &Endpoint) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = group
        .params
        .iter()
        // A job of one trading day asks for that day alone, every issue at once.
        .filter(|(k, _)| job.date.is_none() || !matches!(k.as_str(), "from" | "to" | "date"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(day) = job.date {
        q.push(("date".to_owned(), day.to_string()));
    }
    if let (Some(param), Some(symbol)) = (endpoint.symbol_param, &job.symbol) {
        q.push((param.to_owned(), symbol.as_str().to_owned()));
    }
    q
}
