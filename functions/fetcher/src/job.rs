//! One job as a step: load it, start it, fetch every page into the row store, record the
//! result. Returns whether the message is done or should be delivered again.

use std::time::Instant;

use shared::catalog::{self, Endpoint};
use shared::crypto::CryptoError;
use shared::domain::{CredentialSecret, DataSource, Job, JobGroup, Plan};
use shared::jquants::{Disposition, ProviderError};
use shared::queue::JobMessage;
use shared::store::{JobResult, RowScope, StartOutcome, StoreError};
use shared::vault::VaultError;
use tracing::Instrument;

use crate::deps::{Deps, SOURCE_TTL};

/// What becomes of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Delete it: the job is terminal (now or already).
    Done,
    /// Deliver it again: after `after` (backoff), or after the queue's visibility timeout.
    Redeliver {
        /// The wait before the next attempt.
        after: Option<std::time::Duration>,
    },
    /// No attempt can succeed (unparseable, or naming no job): to the dead-letter queue now.
    DeadLetter(&'static str),
}

/// Why an attempt did not complete the job.
#[derive(Debug)]
enum Failure {
    /// Fails the job for good.
    Permanent(String),
    /// Worth another attempt; fails the job once attempts run out.
    Transient {
        message: String,
        once: bool,
        retry_after: Option<std::time::Duration>,
    },
    /// Our own storage failed: deliver again without judging the job.
    Infrastructure(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Infrastructure(e)
    }
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Self {
        let message = e.to_string();
        match e.disposition() {
            Disposition::Fail => Failure::Permanent(message),
            Disposition::Retry => Failure::Transient {
                message,
                once: false,
                retry_after: None,
            },
            Disposition::RetryAfter(d) => Failure::Transient {
                message,
                once: false,
                retry_after: Some(d),
            },
            Disposition::RetryOnce => Failure::Transient {
                message,
                once: true,
                retry_after: None,
            },
        }
    }
}

/// Runs one job message; `attempt` is the message's receive count.
pub async fn run(msg: JobMessage, attempt: u32, deps: &Deps) -> Outcome {
    let span = tracing::info_span!("job", job_group_id = %msg.job_group_id, job_id = %msg.job_id, symbol = tracing::field::Empty, attempt);
    async move {
        match try_run(msg, attempt, deps).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::warn!(error.message = %e, error.cause_chain = ?e, "job attempt failed; message will be redelivered");
                Outcome::Redeliver { after: None }
            }
        }
    }
    .instrument(span)
    .await
}

async fn try_run(msg: JobMessage, attempt: u32, deps: &Deps) -> Result<Outcome, StoreError> {
    let Some((group, job)) = deps.jobs.get_job(msg.job_group_id, msg.job_id).await? else {
        return Ok(Outcome::DeadLetter("message names no stored job"));
    };
    if let Some(symbol) = &job.symbol {
        tracing::Span::current().record("symbol", symbol.as_str());
    }
    if job.status.is_terminal() {
        tracing::info!(
            status = job.status.as_str(),
            "duplicate delivery of a finished job"
        );
        deps.jobs.finalize_group(group.id, deps.clock.now()).await?;
        return Ok(Outcome::Done);
    }
    if group.cancel_requested_at.is_some() {
        // Cancelled before this job ran: skipped, counted as failed, never sent to the provider.
        let skipped = JobResult::Failed("cancelled before it ran".into());
        deps.jobs
            .finish_job(group.id, job.id, &skipped, deps.clock.now())
            .await?;
        if let Some(status) = deps.jobs.finalize_group(group.id, deps.clock.now()).await? {
            tracing::info!(status = status.as_str(), "job group finished");
        }
        return Ok(Outcome::Done);
    }
    let job = match deps
        .jobs
        .start_job(&group, job.id, deps.clock.now(), deps.lease)
        .await?
    {
        StartOutcome::Started(job) => job,
        StartOutcome::AlreadyTerminal(_) => return Ok(Outcome::Done),
        StartOutcome::Leased(until) => {
            // Another fetcher is on it. Not deleted: if that fetcher dies, this delivery (or
            // its own, after the visibility timeout) takes the job once the lease lapses.
            let wait = (until - deps.clock.now()).to_std().unwrap_or_default();
            tracing::info!(
                lease_s = wait.as_secs(),
                "job held by another fetcher; delivered again after its lease"
            );
            return Ok(Outcome::Redeliver {
                after: Some(wait + std::time::Duration::from_secs(1)),
            });
        }
        StartOutcome::NotFound => return Ok(Outcome::DeadLetter("message names no stored job")),
    };
    let started = Instant::now();
    let result = match fetch(&group, &job, deps).await {
        Ok(data) => JobResult::Completed(data),
        Err(Failure::Infrastructure(e)) => {
            release(deps, &job).await;
            return Err(e);
        }
        Err(Failure::Permanent(message)) => JobResult::Failed(message),
        Err(Failure::Transient {
            message,
            once,
            retry_after,
        }) => {
            let limit = if once {
                2.min(deps.max_attempts)
            } else {
                deps.max_attempts
            };
            if attempt < limit {
                let after =
                    crate::retry::backoff(attempt, retry_after, crate::retry::unit_random());
                tracing::warn!(error.message = %message, retry_in_s = after.as_secs(), "transient failure; will retry");
                release(deps, &job).await;
                return Ok(Outcome::Redeliver { after: Some(after) });
            }
            JobResult::Failed(format!("{message} (gave up after {attempt} attempts)"))
        }
    };
    let now = deps.clock.now();
    deps.jobs.finish_job(group.id, job.id, &result, now).await?;
    match &result {
        JobResult::Completed(d) => {
            tracing::info!(
                rows = d.rows,
                pages = d.pages,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "job completed"
            );
        }
        JobResult::Failed(m) => tracing::warn!(error.message = %m, "job failed"),
    }
    if let Some(status) = deps.jobs.finalize_group(group.id, now).await? {
        tracing::info!(status = status.as_str(), "job group finished");
    }
    Ok(Outcome::Done)
}

/// Gives the job's lease up so its next delivery retries at once. Best effort: if this write
/// fails too, the lease simply lapses first.
async fn release(deps: &Deps, job: &Job) {
    if let Err(e) = deps.jobs.release_job(job.job_group_id, job.id).await {
        tracing::warn!(error.message = %e, "could not release the job's lease; it will lapse");
    }
}

async fn fetch(
    group: &JobGroup,
    job: &Job,
    deps: &Deps,
) -> Result<shared::domain::ResponseData, Failure> {
    let endpoint = catalog::find(&group.data_source_id, &group.endpoint_id).ok_or_else(|| {
        Failure::Permanent(format!(
            "endpoint `{}` is no longer in the catalog",
            group.endpoint_id
        ))
    })?;
    let source = data_source(group, deps).await?;
    let (plan, api_key) = credential(group, deps).await?;
    if plan < endpoint.min_plan {
        return Err(Failure::Permanent(format!(
            "endpoint `{}` needs the {} plan",
            endpoint.id, endpoint.min_plan
        )));
    }
    let query = query(group, job, endpoint);
    let scope = RowScope {
        user_id: group.user_id,
        dataset: endpoint.dataset,
    };
    let (mut rows, mut pages, mut next) = (0u64, 0u32, None::<String>);
    loop {
        let page = deps
            .provider
            .get_page(
                &source.base_url,
                endpoint,
                &query,
                &api_key,
                next.as_deref(),
            )
            .await?;
        // Each page is stored before the next is fetched: memory stays bounded by one page.
        deps.rows.put_rows(scope, &page.records).await?;
        rows += page.records.len() as u64;
        pages += 1;
        match page.next {
            Some(key) => next = Some(key),
            None => break,
        }
    }
    Ok(shared::domain::ResponseData { rows, pages })
}

fn query(group: &JobGroup, job: &Job, endpoint: &Endpoint) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = group
        .params
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let (Some(param), Some(symbol)) = (endpoint.symbol_param, &job.symbol) {
        q.push((param.to_owned(), symbol.as_str().to_owned()));
    }
    q
}

async fn data_source(group: &JobGroup, deps: &Deps) -> Result<DataSource, Failure> {
    let mut cache = deps.source_cache.lock().await;
    if let Some((at, ds)) = cache.get(&group.data_source_id)
        && at.elapsed() < SOURCE_TTL
    {
        return Ok(ds.clone());
    }
    let ds = deps
        .sources
        .get_data_source(&group.data_source_id)
        .await?
        .ok_or_else(|| {
            Failure::Permanent(format!(
                "data source `{}` no longer exists",
                group.data_source_id
            ))
        })?;
    cache.insert(ds.id.clone(), (Instant::now(), ds.clone()));
    Ok(ds)
}

async fn credential(
    group: &JobGroup,
    deps: &Deps,
) -> Result<(Plan, secrecy::SecretString), Failure> {
    let opened = deps
        .vault
        .open(group.user_id, &group.data_source_id)
        .await
        .map_err(|e| match e {
            VaultError::Store(e) => Failure::Infrastructure(e),
            VaultError::Crypto(CryptoError::Unavailable(e)) => Failure::Transient {
                message: format!("key service: {e}"),
                once: false,
                retry_after: None,
            },
            VaultError::Crypto(e) => Failure::Permanent(format!(
                "stored credential cannot be opened ({e}): store it again"
            )),
            VaultError::Malformed => {
                Failure::Permanent("stored credential is malformed: store it again".into())
            }
        })?;
    let (plan, CredentialSecret::ApiKey(api_key)) = opened.ok_or_else(|| {
        Failure::Permanent(format!(
            "no credential stored for `{}`",
            group.data_source_id
        ))
    })?;
    Ok((plan, api_key))
}
