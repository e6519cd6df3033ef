//! A batch of job messages run together, so the AWS calls that can be shared are shared: one
//! read of every job and its group, each account's credential opened once, one permit request
//! per account and endpoint for all the batch's first requests, one provider request for up to
//! `coalesce` jobs of an endpoint that takes many symbols (Yahoo quotes), one transaction per
//! group for the results, and one end-of-group check per group.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use futures::StreamExt;
use shared::domain::{IssueCode, JobGroupId, JobId};
use shared::limiter::Decision;
use shared::metrics::BatchMetrics;
use shared::queue::JobMessage;
use shared::store::{FinishOutcome, JobResult, StartOutcome};

use crate::deadline;
use crate::deps::Deps;
use crate::job::{self, Memo, Outcome, Ready, Step};

/// Jobs of one batch run at once. The provider's rate limit, not this, bounds request rates.
pub(crate) const CONCURRENCY: usize = 4;

/// Runs the job messages of a batch (`(position, message, receive count)`); returns each
/// position's outcome.
pub(crate) async fn run(
    messages: Vec<(usize, JobMessage, u32)>,
    metrics: &BatchMetrics,
    deps: &Deps,
) -> Vec<(usize, Outcome)> {
    let keys: Vec<_> = messages
        .iter()
        .map(|(_, m, _)| (m.job_group_id, m.job_id))
        .collect();
    let found = match deps.jobs.get_jobs(&keys).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error.message = %e, "could not read the batch's jobs; redelivered");
            return messages
                .into_iter()
                .map(|(i, _, _)| (i, Outcome::Redeliver { after: None }))
                .collect();
        }
    };
    let memo = Memo::default();
    let prepared: Vec<(usize, Step)> = futures::stream::iter(messages)
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
        .await;

    let mut steps = Vec::new();
    let mut ready: HashMap<(String, &'static str), Vec<(usize, Ready)>> = HashMap::new();
    for (i, step) in prepared {
        match step {
            Step::Ready(r) => ready
                .entry((r.ctx.scope.as_str().to_owned(), r.ctx.endpoint.id))
                .or_default()
                .push((i, *r)),
            other => steps.push((i, other)),
        }
    }
    let mut runnable = Vec::new();
    for (_, mut jobs) in ready {
        let ctx = &jobs[0].1.ctx;
        let (scope, demands) = (ctx.scope.clone(), ctx.demands.clone());
        // A coalescing endpoint's jobs share requests: permits for the requests (and the
        // session they open first), not for the jobs.
        let per_request = ctx.endpoint.coalesce.map_or(1, usize::from);
        let renewals = if per_request > 1 {
            ctx.access.renewal_requests(ctx.endpoint).await
        } else {
            0
        };
        let requests = jobs.len().div_ceil(per_request) as u32 + renewals;
        let granted = match deps.limiter.acquire(&scope, &demands, requests).await {
            Ok(Decision::Granted(n)) => n.saturating_sub(renewals) as usize * per_request,
            Ok(Decision::Wait { .. }) => 0,
            Err(e) => {
                tracing::warn!(error.message = %e, "rate limiter unavailable; redelivered");
                steps.extend(
                    jobs.into_iter()
                        .map(|(i, _)| (i, Step::Settled(Outcome::Redeliver { after: None }))),
                );
                continue;
            }
        };
        let refused = jobs.split_off(granted.min(jobs.len()));
        runnable.extend(jobs);
        if refused.is_empty() {
            continue;
        }
        // When the next permit frees, asked once for all the refused jobs of this account
        // without taking it (a permit taken here would be wasted).
        let until = deps
            .limiter
            .next_free(&scope, &demands)
            .await
            .unwrap_or_else(|_| deps.clock.now() + chrono::TimeDelta::seconds(1));
        tracing::info!(
            jobs = refused.len(),
            %until,
            "rate limited before the first request; deferred"
        );
        steps.extend(
            refused
                .into_iter()
                .map(|(i, r)| (i, job::refused(&r, until, deps))),
        );
    }
    // Started together, one transaction per group.
    let mut by_group: BTreeMap<String, Vec<(usize, Ready)>> = BTreeMap::new();
    for (i, r) in runnable {
        by_group
            .entry(r.group.id.to_string())
            .or_default()
            .push((i, r));
    }
    let mut started = Vec::new();
    for jobs in by_group.into_values() {
        let group = jobs[0].1.group.clone();
        let list: Vec<_> = jobs.iter().map(|(_, r)| r.job.clone()).collect();
        match deps
            .jobs
            .start_jobs(&group, &list, deps.clock.now(), deadline::lease(deps.lease))
            .await
        {
            Ok(outcomes) => {
                started.extend(jobs.into_iter().zip(outcomes).map(|((i, r), o)| (i, r, o)));
            }
            Err(e) => {
                tracing::warn!(job_group_id = %group.id, error.message = %e, "could not start the batch's jobs; redelivered");
                steps.extend(
                    jobs.into_iter()
                        .map(|(i, _)| (i, Step::Settled(Outcome::Redeliver { after: None }))),
                );
            }
        }
    }
    prefetch(&mut started, metrics).await;
    let executed: Vec<(usize, Step)> = futures::stream::iter(started)
        .map(|(i, r, o)| async move { (i, job::execute(r, o, metrics, deps).await) })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    steps.extend(executed);
    record(steps, metrics, deps).await
}

/// Fetches the pages of started jobs of a coalescing endpoint together: one request per
/// `coalesce` symbols of one account and endpoint (the batch holds their permits), each job
/// handed its part of the answer, or the request's failure to judge as its own.
async fn prefetch(started: &mut [(usize, Ready, StartOutcome)], metrics: &BatchMetrics) {
    let mut together: HashMap<(String, &'static str), Vec<usize>> = HashMap::new();
    for (k, (_, r, start)) in started.iter().enumerate() {
        if r.ctx.endpoint.coalesce.is_some()
            && matches!(start, StartOutcome::Started(_))
            && r.job.symbol.is_some()
        {
            together
                .entry((r.ctx.scope.as_str().to_owned(), r.ctx.endpoint.id))
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
type Finished = (usize, JobId, JobResult);

/// Records the batch's results, one transaction per group, then checks each touched group's
/// end once.
async fn record(
    steps: Vec<(usize, Step)>,
    metrics: &BatchMetrics,
    deps: &Deps,
) -> Vec<(usize, Outcome)> {
    let mut outcomes = Vec::with_capacity(steps.len());
    let mut results: BTreeMap<String, (JobGroupId, Vec<Finished>)> = BTreeMap::new();
    let mut touched: BTreeMap<String, JobGroupId> = BTreeMap::new();
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
                touched.insert(g.to_string(), g);
                outcomes.push((i, Outcome::Done));
            }
            Step::Finish { group, job, result } => results
                .entry(group.to_string())
                .or_insert_with(|| (group, Vec::new()))
                .1
                .push((i, job, result)),
            Step::Ready(_) => unreachable!("every ready job was run or refused"),
        }
    }
    let now = deps.clock.now();
    for (key, (group, jobs)) in results {
        let batch: Vec<(JobId, JobResult)> = jobs.iter().map(|(_, j, r)| (*j, r.clone())).collect();
        match deps.jobs.finish_jobs(group, &batch, now).await {
            Ok(recorded) => {
                for ((_, _, result), outcome) in jobs.iter().zip(recorded) {
                    match (result, outcome) {
                        (_, FinishOutcome::AlreadyTerminal) => {}
                        (JobResult::Completed(d), _) => metrics.completed(d.rows),
                        (JobResult::Failed(_), _) => metrics.failed(),
                    }
                }
                touched.insert(key, group);
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
    for group in touched.into_values() {
        match deps.jobs.finalize_group(group, now).await {
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
