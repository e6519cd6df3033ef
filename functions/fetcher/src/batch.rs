//! A batch of job messages run together, so the AWS calls that can be shared are shared: one
//! read of every job and its group, each account's credential opened once, one permit request
//! per account and endpoint for all the batch's first requests, one provider request for up to
//! `coalesce` jobs of an endpoint that takes many symbols (Yahoo quotes), one transaction per
//! group for the results, and one end-of-group check per group.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use futures::StreamExt;
use shared::domain::{IssueCode, JobGroupId, JobId};
use shared::limiter::{Ask, Scope, fair};
use shared::metrics::BatchMetrics;
use shared::queue::JobMessage;
use shared::store::{FinishOutcome, JobResult, StartOutcome};

use crate::deadline;
use crate::deps::Deps;
use crate::job::{self, Memo, Outcome, Ready, Step};

/// Jobs of one batch run at once. The provider's rate limit, not this, bounds request rates.
pub(crate) const CONCURRENCY: usize = 4;

/// A message's position in the batch.
type Position = usize;

/// A job message ready for its first request, at its position.
type Waiting = (Position, Ready);

/// Runs the job messages of a batch (`(position, message, receive count)`); returns each
/// position's outcome. Phases: read every job at once, prepare each, take the permits (one
/// request per account and endpoint), start the runnable jobs (one transaction per group),
/// fetch coalesced pages together, run each job, record the results (one transaction per
/// group).
pub(crate) async fn run(
    messages: Vec<(Position, JobMessage, u32)>,
    metrics: &BatchMetrics,
    deps: &Deps,
) -> Vec<(Position, Outcome)> {
    let mut ended: Vec<(Position, Step)> = Vec::new();
    let ready = match prepare(messages, deps).await {
        Ok(prepared) => prepared
            .into_iter()
            .filter_map(|(i, p)| match p {
                Ok(r) => Some((i, *r)),
                Err(step) => {
                    ended.push((i, step));
                    None
                }
            })
            .collect(),
        Err(redeliver_all) => return redeliver_all,
    };
    let runnable = take_permits(ready, &mut ended, deps).await;
    let mut started = start(runnable, &mut ended, deps).await;
    prefetch(&mut started, metrics, deps).await;
    let executed: Vec<(Position, Step)> = futures::stream::iter(started)
        .map(|(i, r, o)| async move { (i, job::execute(r, o, metrics, deps).await) })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    ended.extend(executed);
    // Answers the limiter still waits for (slow start's confirmations), before this process
    // goes quiet.
    if let Err(e) = deps.limiter.flush().await {
        tracing::warn!(error.message = %e, "could not report answers to the rate limiter");
    }
    record(ended, metrics, deps).await
}

/// Reads every job of the batch in one call and prepares each message; if the read fails,
/// every message is to be delivered again (`Err`).
async fn prepare(
    messages: Vec<(Position, JobMessage, u32)>,
    deps: &Deps,
) -> Result<Vec<(Position, Result<Box<Ready>, Step>)>, Vec<(Position, Outcome)>> {
    let keys: Vec<_> = messages
        .iter()
        .map(|(_, m, _)| (m.job_group_id, m.job_id))
        .collect();
    let found = match deps.ports.jobs.get_jobs(&keys).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error.message = %e, "could not read the batch's jobs; redelivered");
            return Err(messages
                .into_iter()
                .map(|(i, _, _)| (i, Outcome::Redeliver { after: None }))
                .collect());
        }
    };
    let memo = Memo::default();
    Ok(futures::stream::iter(messages)
        .map(|(i, msg, attempt)| {
            let stored = found
                .iter()
                .find(|(g, j)| g.id == msg.job_group_id && j.id == msg.job_id)
                .cloned();
            let memo = &memo;
            async move { (i, job::prepare(msg, attempt, stored, memo, deps).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await)
}

/// Asks the limiter once per account and endpoint for the first requests of all its ready
/// jobs; those it refuses are deferred (into `ended`), the rest returned.
async fn take_permits(
    ready: Vec<Waiting>,
    ended: &mut Vec<(Position, Step)>,
    deps: &Deps,
) -> Vec<Waiting> {
    let mut by_budget: HashMap<(Scope, &'static str, String), Vec<Waiting>> = HashMap::new();
    for (i, r) in ready {
        by_budget
            .entry((r.ctx.scope.clone(), r.ctx.endpoint.id, r.ctx.tenant.clone()))
            .or_default()
            .push((i, r));
    }
    let mut runnable = Vec::new();
    for (_, mut jobs) in by_budget {
        let ctx = &jobs[0].1.ctx;
        let (scope, tenant, demands) = (ctx.scope.clone(), ctx.tenant.clone(), ctx.demands.clone());
        // The most any of these jobs' groups has left (a tenant's jobs may span groups).
        let backlog = jobs.iter().map(|(_, r)| r.ctx.backlog).max().unwrap_or(0);
        // A coalescing endpoint's jobs share requests: permits for the requests (and the
        // session they open first), not for the jobs.
        let per_request = ctx.endpoint.coalesce.map_or(1, usize::from);
        let renewals = if per_request > 1 {
            ctx.access.renewal_requests(ctx.endpoint).await
        } else {
            0
        };
        let requests = jobs.len().div_ceil(per_request) as u32 + renewals;
        let taken = match deps
            .limiter
            .acquire_within(
                &scope,
                Ask {
                    tenant: &tenant,
                    backlog,
                },
                &demands,
                requests,
                crate::request::PATIENCE,
            )
            .await
        {
            Ok(taken) => taken,
            Err(e) => {
                tracing::warn!(error.message = %e, "rate limiter unavailable; redelivered");
                ended.extend(
                    jobs.into_iter()
                        .map(|(i, _)| (i, Step::Settled(Outcome::Redeliver { after: None }))),
                );
                continue;
            }
        };
        let granted = taken.granted.saturating_sub(renewals) as usize * per_request;
        let refused = jobs.split_off(granted.min(jobs.len()));
        runnable.extend(jobs);
        if refused.is_empty() {
            continue;
        }
        let until = taken
            .next
            .unwrap_or_else(|| deps.clock.now() + chrono::TimeDelta::seconds(1));
        let turn = fair::turn(&demands, taken.reason, backlog);
        tracing::info!(
            jobs = refused.len(),
            %until,
            "rate limited before the first request; deferred"
        );
        ended.extend(
            refused
                .into_iter()
                .map(|(i, r)| (i, job::refused(&r, until, turn, deps))),
        );
    }
    runnable
}

/// Starts the runnable jobs, one transaction per group; a group whose transaction fails has
/// its jobs delivered again (into `ended`).
async fn start(
    runnable: Vec<Waiting>,
    ended: &mut Vec<(Position, Step)>,
    deps: &Deps,
) -> Vec<(Position, Ready, StartOutcome)> {
    let mut by_group: BTreeMap<JobGroupId, Vec<Waiting>> = BTreeMap::new();
    for (i, r) in runnable {
        by_group.entry(r.group.id).or_default().push((i, r));
    }
    let mut started = Vec::new();
    for jobs in by_group.into_values() {
        let group = jobs[0].1.group.clone();
        let list: Vec<_> = jobs.iter().map(|(_, r)| r.job.clone()).collect();
        match deps
            .ports
            .jobs
            .start_jobs(&group, &list, deps.clock.now(), deadline::lease(deps.lease))
            .await
        {
            Ok(outcomes) => {
                started.extend(jobs.into_iter().zip(outcomes).map(|((i, r), o)| (i, r, o)));
            }
            Err(e) => {
                tracing::warn!(job_group_id = %group.id, error.message = %e, "could not start the batch's jobs; redelivered");
                ended.extend(
                    jobs.into_iter()
                        .map(|(i, _)| (i, Step::Settled(Outcome::Redeliver { after: None }))),
                );
            }
        }
    }
    started
}

/// Fetches the pages of started jobs of a coalescing endpoint together: one request per
/// `coalesce` symbols of one account and endpoint (the batch holds their permits), each job
/// handed its part of the answer, or the request's failure to judge as its own.
async fn prefetch(
    started: &mut [(Position, Ready, StartOutcome)],
    metrics: &BatchMetrics,
    deps: &Deps,
) {
    let mut together: HashMap<(Scope, &'static str), Vec<usize>> = HashMap::new();
    for (k, (_, r, start)) in started.iter().enumerate() {
        if r.ctx.endpoint.coalesce.is_some()
            && matches!(start, StartOutcome::Started(_))
            && r.job.symbol.is_some()
        {
            together
                .entry((r.ctx.scope.clone(), r.ctx.endpoint.id))
                .or_default()
                .push(k);
        }
    }
    for positions in together.into_values() {
        let size = started[positions[0]]
            .1
            .ctx
            .endpoint
            .coalesce
            .map_or(1, usize::from);
        for chunk in positions.chunks(size) {
            let ctx = &started[chunk[0]].1.ctx;
            let codes: Vec<IssueCode> = chunk
                .iter()
                .filter_map(|&k| started[k].1.job.symbol.clone())
                .collect();
            let asked = Instant::now();
            let answer = ctx.access.pages_together(ctx.endpoint, &codes).await;
            metrics.provider_latency(asked.elapsed().as_secs_f64() * 1000.0);
            tracing::info!(
                endpoint = ctx.endpoint.id,
                jobs = chunk.len(),
                ok = answer.is_ok(),
                "jobs fetched in one request"
            );
            match answer {
                Ok(pages) => {
                    crate::request::answered(&ctx.scope, deps).await;
                    for (&k, page) in chunk.iter().zip(pages) {
                        started[k].1.prefetched = Some(Ok(page));
                    }
                }
                Err(e) => {
                    for &k in chunk {
                        started[k].1.prefetched = Some(Err(e.clone()));
                    }
                }
            }
        }
    }
}

/// A job's result waiting to be recorded: the message's position, the job, the result.
type Finished = (Position, JobId, JobResult);

/// Records the batch's results, one transaction per group, then checks each touched group's
/// end once.
async fn record(
    steps: Vec<(Position, Step)>,
    metrics: &BatchMetrics,
    deps: &Deps,
) -> Vec<(Position, Outcome)> {
    let mut outcomes = Vec::with_capacity(steps.len());
    let mut results: BTreeMap<JobGroupId, Vec<Finished>> = BTreeMap::new();
    let mut touched: BTreeSet<JobGroupId> = BTreeSet::new();
    for (i, step) in steps {
        match step {
            Step::Settled(o) => {
                match &o {
                    Outcome::Defer { .. } => metrics.deferred(),
                    Outcome::Redeliver { after: Some(_) } => metrics.retried(),
                    _ => {}
                }
                outcomes.push((i, o));
            }
            Step::Finished(g) => {
                touched.insert(g);
                outcomes.push((i, Outcome::Done));
            }
            Step::Finish { group, job, result } => {
                results.entry(group).or_default().push((i, job, result));
            }
        }
    }
    let now = deps.clock.now();
    for (group, jobs) in results {
        let batch: Vec<(JobId, JobResult)> = jobs.iter().map(|(_, j, r)| (*j, r.clone())).collect();
        match deps.ports.jobs.finish_jobs(group, &batch, now).await {
            Ok(recorded) => {
                for ((_, _, result), outcome) in jobs.iter().zip(recorded) {
                    match (result, outcome) {
                        (_, FinishOutcome::AlreadyTerminal) => {}
                        (JobResult::Completed(d), _) => metrics.completed(d.rows),
                        (JobResult::Failed(_), _) => metrics.failed(),
                    }
                }
                touched.insert(group);
                outcomes.extend(jobs.iter().map(|(i, _, _)| (*i, Outcome::Done)));
            }
            Err(e) => {
                tracing::warn!(job_group_id = %group, error.message = %e, "could not record results; redelivered");
                outcomes.extend(
                    jobs.iter()
                        .map(|(i, _, _)| (*i, Outcome::Redeliver { after: None })),
                );
            }
        }
    }
    for group in touched {
        match deps.ports.jobs.finalize_group(group, now).await {
            Ok(Some(status)) => {
                tracing::info!(job_group_id = %group, status = status.as_str(), "job group finished");
            }
            Ok(None) => {}
            // The next delivery of any of its jobs checks again.
            Err(e) => {
                tracing::warn!(job_group_id = %group, error.message = %e, "could not check the group's end");
            }
        }
    }
    outcomes
}
