//! J-Quants V1 tokens renewed ahead of need, so a scheduled fire never waits on a sign-in: an
//! account whose schedule fires within [`LOOKAHEAD`] and whose stored id token would not
//! outlive the fire by [`COVER`] gets a new one now (a refresh, or a login and a refresh when
//! the refresh token would not last either), sealed back into its credential. The fire's jobs
//! then start from a live token, as a warm fetcher would.
//!
//! Renewals are provider requests like any fetch: their permits come from the account's rate
//! limiter and the answer is told to it (a 429 pauses the account). An account busy at the
//! moment is left for the next attempt. Attempts are made at [`ATTEMPTS`] minutes before a
//! fire, not every tick: three at most per fire, with no state to keep, so a login the provider
//! refuses is tried three times rather than every minute; the fire's jobs then fail with the
//! provider's message as they would have. Nothing is decrypted for an account whose token
//! already covers its fire.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use shared::domain::{
    ApiVersion, CredentialSecret, DataSource, DataSourceId, ProviderType, UserId,
};
use shared::jquants::{JQuantsClient, Login, V1Auth};
use shared::limiter::{Ask, Limiter, Scope, plan_demands};
use shared::provider::{Auth, ProviderError};
use shared::vault::Vault;

use crate::{Deps, TickReport};

/// Schedules firing this far ahead are looked at.
pub const LOOKAHEAD: TimeDelta = TimeDelta::minutes(30);
/// How long after its fire a renewed id token still lives at least: the fire's first pages
/// and a backfill's first chunks run on it; a longer run renews in the fetcher as usual.
pub const COVER: TimeDelta = TimeDelta::hours(2);
/// Minutes before a fire at which a renewal is attempted.
pub const ATTEMPTS: [i64; 3] = [30, 20, 10];
/// Accounts renewed (or tried) per tick at most; the rest wait for the next attempt.
const MAX_PER_TICK: usize = 20;
/// Schedules read per tick at most.
const MAX_SCHEDULES: usize = 500;
/// How long a renewal waits for its permits before leaving it to the next attempt.
const PATIENCE: Duration = Duration::from_secs(1);
/// Renewals of a tick stop after this long (one under way is cut short and left for the next
/// attempt, nothing stored): the tick's other work and the function's 60 s timeout come first.
const TIME_BUDGET: Duration = Duration::from_secs(20);

/// What renewing needs besides the vault: the provider client and the accounts' limiters.
#[derive(Debug, Clone)]
pub struct Renewal {
    /// The J-Quants client (its connection pool and timeout).
    pub jquants: Arc<JQuantsClient>,
    /// The provider rate limiter every fetcher shares.
    pub limiter: Arc<Limiter>,
}

/// What a renewal came to.
#[derive(Debug, PartialEq, Eq)]
enum Renewed {
    /// New tokens sealed into the credential.
    Stored,
    /// Nothing to do: no V1 credential, or its id token covers the fire.
    NotNeeded,
    /// Left for a later attempt: the account's rate budget is in use, or the credential
    /// changed while renewing.
    Later,
}

/// Renews the tokens of the accounts whose schedules fire soon.
pub(crate) async fn run(deps: &Deps, report: &mut TickReport) -> anyhow::Result<()> {
    let (Some(renewal), Some(vault)) = (&deps.renewal, &deps.vault) else {
        return Ok(());
    };
    let started = std::time::Instant::now();
    let now = deps.clock.now();
    let upcoming = deps
        .schedules
        .due_schedules(now + LOOKAHEAD, MAX_SCHEDULES)
        .await?;
    let mut sources: HashMap<DataSourceId, Option<DataSource>> = HashMap::new();
    let mut seen = HashSet::new();
    let mut tried = 0;
    for s in &upcoming {
        let Some(fire) = s.next_fire().filter(|fire| attempt_now(*fire, now)) else {
            continue;
        };
        let ds = &s.template.data_source;
        if !seen.insert((s.user_id, ds.clone())) {
            continue;
        }
        if !sources.contains_key(ds) {
            let source = deps.sources.get_data_source(ds).await?;
            sources.insert(ds.clone(), source);
        }
        let Some(source) = sources[ds].as_ref().filter(|d| is_v1(d)) else {
            continue;
        };
        if tried == MAX_PER_TICK {
            break;
        }
        let Some(left) = TIME_BUDGET.checked_sub(started.elapsed()) else {
            break;
        };
        tried += 1;
        let renewed = renew(renewal, vault, deps, source, s.user_id, fire + COVER);
        match tokio::time::timeout(left, renewed).await {
            Ok(Ok(Renewed::Stored)) => report.tokens_renewed += 1,
            Ok(Ok(Renewed::NotNeeded)) => tried -= 1,
            Ok(Ok(Renewed::Later)) | Err(_) => {}
            Ok(Err(e)) => {
                report.token_renewals_failed += 1;
                tracing::warn!(
                    schedule_id = %s.id,
                    data_source_id = %ds,
                    error.message = %e,
                    "V1 token renewal before a fire failed; the fire's jobs renew as they start"
                );
            }
        }
    }
    Ok(())
}

/// Whether this tick is one of the attempts before `fire`: whole minutes left, rounded up, is
/// one of [`ATTEMPTS`].
fn attempt_now(fire: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let left = fire - now;
    if left <= TimeDelta::zero() {
        return false;
    }
    let minutes = (left.num_seconds() + 59) / 60;
    ATTEMPTS.contains(&minutes)
}

fn is_v1(source: &DataSource) -> bool {
    source.is_enabled
        && source.provider_type == ProviderType::Jquants
        && source.api_version == ApiVersion::V1
}

/// Renews `user`'s tokens at `source` unless the stored id token lives past `until`.
async fn renew(
    renewal: &Renewal,
    vault: &Vault,
    deps: &Deps,
    source: &DataSource,
    user: UserId,
    until: DateTime<Utc>,
) -> anyhow::Result<Renewed> {
    let Some(record) = vault.record(user, &source.id).await? else {
        return Ok(Renewed::NotNeeded);
    };
    if record.id_token_expired_at.is_some_and(|at| at > until) {
        return Ok(Renewed::NotNeeded);
    }
    let (plan, secret) = vault.open_record(&record).await?;
    let login = match secret {
        CredentialSecret::ApiKey(_) => return Ok(Renewed::NotNeeded),
        CredentialSecret::V1Login {
            mail_address,
            password,
        } => Some(Login {
            mail_address,
            password,
        }),
        CredentialSecret::V1RefreshTokenOnly => None,
    };
    let (refresh, id) = vault.open_tokens(&record).await?;
    let now = deps.clock.now();
    // Renewed unless live `until`: the margin is the time from now to then.
    let mut auth = V1Auth::new(&renewal.jquants, &source.base_url, deps.clock.clone())
        .with_tokens(refresh, id)
        .with_margin(until - now);
    if let Some(login) = login {
        auth = auth.with_login(login);
    }
    let requests = auth.renewal_requests().await;
    if requests == 0 {
        // A refresh token alone that has run out: only its owner can renew it.
        return Ok(Renewed::NotNeeded);
    }
    let scope = Scope::for_request(source, user);
    let demands = plan_demands(plan, source);
    let taken = renewal
        .limiter
        .acquire_within(
            &scope,
            Ask {
                tenant: "token-renewal",
                backlog: requests,
            },
            &demands,
            requests,
            PATIENCE,
        )
        .await?;
    if taken.granted < requests {
        return Ok(Renewed::Later);
    }
    let answered = auth.credentials().await;
    if let Err(ProviderError::RateLimited { retry_after }) = &answered {
        renewal
            .limiter
            .throttled(&scope, &demands, *retry_after)
            .await?;
        return Ok(Renewed::Later);
    }
    if let Err(e) = renewal.limiter.answered(&scope).await {
        tracing::warn!(error.message = %e, "could not report an answer to the rate limiter");
    }
    answered?;
    let Some(renewed) = auth.take_renewed().await else {
        return Ok(Renewed::NotNeeded);
    };
    let stored = vault
        .store_tokens(
            &record,
            renewed.refresh.as_ref().map(|t| (&t.value, t.expires_at)),
            renewed.id.as_ref().map(|t| (&t.value, t.expires_at)),
        )
        .await?;
    Ok(if stored {
        Renewed::Stored
    } else {
        Renewed::Later
    })
}

#[cfg(test)]
mod tests;
