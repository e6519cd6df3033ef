//! One page request under the rate limiter, the step the fetch loop ([`crate::job`]) and the
//! planner ([`crate::plan`]) share: the permits (the request's and its renewals'), the request,
//! and the provider's answer told to the limiter, a 429 pausing the whole scope.

use std::time::Instant;

use chrono::{DateTime, Utc};
use shared::catalog::Endpoint;
use shared::domain::{Checkpoint, DataSource, IssueCode};
use shared::limiter::{Ask, Demand, Scope, Taken};
use shared::metrics::BatchMetrics;
use shared::provider::{Page, ProviderError};

use crate::access::Access;
use crate::deps::Deps;
use crate::failure::Failure;

/// How long a request waits in process for permits the limiter hands out slice by slice
/// (`shared::limiter::budget::SLICE_MS`) before the job is deferred.
pub(crate) const PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);

/// The longest `Retry-After` a job waits on: longer is no rate limit of these providers (a
/// J-Quants lockout lasts about five minutes), so the job fails instead.
pub(crate) const MAX_HONOURED_RETRY_AFTER: std::time::Duration =
    std::time::Duration::from_secs(3600);

/// Everything a request to an endpoint on behalf of a user needs.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) endpoint: &'static Endpoint,
    pub(crate) source: DataSource,
    pub(crate) access: Access,
    pub(crate) scope: Scope,
    /// Whose fair share of the scope the requests spend (`Scope::tenant`).
    pub(crate) tenant: String,
    /// The group's jobs not ended when the context was made: what the tenant has yet to ask.
    pub(crate) backlog: u32,
    pub(crate) demands: Vec<Demand>,
}

impl Context {
    /// The limiter's view of who asks.
    pub(crate) fn ask(&self) -> Ask<'_> {
        Ask {
            tenant: &self.tenant,
            backlog: self.backlog,
        }
    }
}

/// Why fetching stopped before the last page.
pub(crate) enum Stop {
    /// The invocation's deadline is near: the job goes on from `at` in a fresh invocation.
    Deadline { at: Option<Checkpoint> },
    /// The limiter (or the provider's 429) says wait until `until`.
    Paused {
        at: Option<Checkpoint>,
        until: DateTime<Utc>,
    },
    /// Something failed; `at` is how far the job got.
    Failed {
        failure: Failure,
        at: Option<Checkpoint>,
    },
}

/// `n` permits of the job's scope, or the job stops at `at`: paused until they free, or failed
/// with the limiter's store.
pub(crate) async fn permits(
    ctx: &Context,
    n: u32,
    at: Option<&Checkpoint>,
    deps: &Deps,
) -> Result<(), Stop> {
    match deps
        .limiter
        .acquire_within(&ctx.scope, ctx.ask(), &ctx.demands, n, PATIENCE)
        .await
    {
        Ok(Taken {
            next: Some(until),
            granted: 0,
            ..
        }) => Err(Stop::Paused {
            at: at.cloned(),
            until,
        }),
        Ok(_) => Ok(()),
        Err(e) => Err(Stop::Failed {
            failure: Failure::Infrastructure(e),
            at: at.cloned(),
        }),
    }
}

/// One page request under the limiter, the step the fetch loop and the planner share.
pub(crate) struct Request<'a> {
    pub(crate) ctx: &'a Context,
    pub(crate) symbol: Option<&'a IssueCode>,
    pub(crate) query: &'a [(String, String)],
    /// The provider's key of the page wanted; `None`: the first.
    pub(crate) next: Option<&'a str>,
}

impl Request<'_> {
    /// Takes the request's permit (unless `held`) and those its renewals need (token and
    /// crumb calls count against the provider's limits like any request), sends it, and tells
    /// the limiter how the provider answered. A 429 pauses the whole scope and stops the
    /// caller at `at`; any other answer is the caller's to judge.
    pub(crate) async fn send(
        &self,
        held: bool,
        at: Option<&Checkpoint>,
        metrics: Option<&BatchMetrics>,
        deps: &Deps,
    ) -> Result<Result<Page, ProviderError>, Stop> {
        let ctx = self.ctx;
        if !held {
            permits(ctx, 1, at, deps).await?;
        } else if let Some(until) = deps.limiter.paused_until(&ctx.scope) {
            // The permit was taken before a 429 paused the scope: unused, not another 429.
            return Err(Stop::Paused {
                at: at.cloned(),
                until,
            });
        }
        let renewals = ctx.access.renewal_requests(ctx.endpoint).await;
        if renewals > 0 {
            permits(ctx, renewals, at, deps).await?;
        }
        let asked = Instant::now();
        let answer = ctx
            .access
            .page(
                deps,
                &ctx.source,
                ctx.endpoint,
                self.query,
                self.symbol,
                self.next,
            )
            .await;
        if let Some(metrics) = metrics {
            metrics.provider_latency(asked.elapsed().as_secs_f64() * 1000.0);
        }
        match answer {
            Err(ProviderError::RateLimited {
                retry_after: Some(wait),
            }) if wait > MAX_HONOURED_RETRY_AFTER => {
                // No rate limit of these providers lasts this long: a broken or hostile answer.
                // The account pauses an hour at most, and the job fails saying why.
                let _ = throttled(ctx, Some(MAX_HONOURED_RETRY_AFTER), None, deps).await;
                Err(Stop::Failed {
                    failure: Failure::Permanent(format!(
                        "the provider answered 429 asking to wait {} s, more than an hour: failed rather than holding the account that long; retry the group later",
                        wait.as_secs()
                    )),
                    at: at.cloned(),
                })
            }
            Err(ProviderError::RateLimited { retry_after }) => {
                Err(throttled(ctx, retry_after, at.cloned(), deps).await)
            }
            answer => {
                answered(&ctx.scope, deps).await;
                Ok(answer)
            }
        }
    }
}

/// The provider answered 429 (another client on the account, or a limit lower than declared):
/// the whole scope pauses and lowers its limit, and the job waits with it rather than failing.
pub(crate) async fn throttled(
    ctx: &Context,
    retry_after: Option<std::time::Duration>,
    at: Option<Checkpoint>,
    deps: &Deps,
) -> Stop {
    match deps
        .limiter
        .throttled(&ctx.scope, &ctx.demands, retry_after)
        .await
    {
        Ok(until) => {
            tracing::warn!(%until, "provider answered 429; scope paused");
            Stop::Paused { at, until }
        }
        Err(e) => Stop::Failed {
            failure: Failure::Infrastructure(e),
            at,
        },
    }
}

/// Tells the limiter a request of `scope` got an answer other than 429 (what a learning scope
/// needs: see `shared::limiter::adaptive`). Best effort: a lost report only slows a ramp.
pub(crate) async fn answered(scope: &Scope, deps: &Deps) {
    if let Err(e) = deps.limiter.answered(scope).await {
        tracing::warn!(error.message = %e, "could not report an answer to the rate limiter");
    }
}
