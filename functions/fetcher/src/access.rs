//! How a job's requests reach its provider on behalf of the group's owner: a J-Quants V2 key,
//! a J-Quants V1 token session, or the process's Yahoo session (Yahoo has no accounts: its
//! limits are the deployment's, so no credential is needed).
//!
//! A V1 session is kept per account for as long as the container is warm and the stored
//! credential is unchanged, so every job of the account in this process shares one token
//! renewal; tokens it renews are sealed back into the credential ([`Access::settle`]), so
//! other fetchers start from them instead of logging in again. Renewals are requests too:
//! [`Access::renewal_requests`] tells the fetch loop how many permits to take first.

use std::sync::Arc;
use std::time::Instant;

use shared::catalog::Endpoint;
use shared::domain::{
    CredentialSecret, DataSource, DataSourceCredential, IssueCode, JobGroup, Plan, ProviderType,
};
use shared::jquants::{ApiKey, Login, V1Auth};
use shared::provider::{Auth, Page, ProviderError};
use shared::yahoo::{YahooClient, YahooConfig};

use crate::deps::Deps;
use crate::failure::Failure;
use crate::providers::SOURCE_TTL;

/// What a job's requests go out with.
#[derive(Debug, Clone)]
pub(crate) enum Access {
    /// J-Quants V2: the account's API key.
    Key(Arc<ApiKey>),
    /// J-Quants V1: the account's token session, shared by the process.
    V1(Arc<V1Auth>),
    /// Yahoo Finance: the process's client (cookie + crumb for quotes).
    Yahoo(Arc<YahooClient>),
}

impl Access {
    /// Requests the next page will cost before its own: a login and a token refresh, or a
    /// cookie and a crumb.
    pub(crate) async fn renewal_requests(&self, endpoint: &Endpoint) -> u32 {
        match self {
            Access::Key(_) => 0,
            Access::V1(auth) => auth.renewal_requests().await,
            Access::Yahoo(client) => client.renewal_requests(endpoint).await,
        }
    }

    /// One page of `endpoint` (`next`: the provider's key of the page wanted).
    pub(crate) async fn page(
        &self,
        deps: &Deps,
        source: &DataSource,
        endpoint: &Endpoint,
        query: &[(String, String)],
        symbol: Option<&IssueCode>,
        next: Option<&str>,
    ) -> Result<Page, ProviderError> {
        let auth: &dyn Auth = match self {
            Access::Key(key) => key.as_ref(),
            Access::V1(auth) => auth.as_ref(),
            Access::Yahoo(client) => return client.page(endpoint, query, symbol).await,
        };
        deps.providers
            .jquants
            .get_page_with(&source.base_url, endpoint, query, auth, next)
            .await
    }

    /// The pages of several jobs of a coalescing `endpoint`, one per code, from one request.
    pub(crate) async fn pages_together(
        &self,
        endpoint: &Endpoint,
        codes: &[IssueCode],
    ) -> Result<Vec<Page>, ProviderError> {
        match self {
            Access::Yahoo(client) => client.pages_together(endpoint, codes).await,
            Access::Key(_) | Access::V1(_) => Err(ProviderError::BadRequest(format!(
                "`{}` takes one symbol a request",
                endpoint.id
            ))),
        }
    }

    /// Seals tokens renewed during the job into the credential. Best effort: tokens not
    /// stored are renewed again by the next cold fetcher, which costs requests, not data.
    pub(crate) async fn settle(&self, group: &JobGroup, deps: &Deps) {
        let Access::V1(auth) = self else { return };
        let Some(renewed) = auth.take_renewed().await else {
            return;
        };
        let stored = async {
            let Some(record) = deps
                .ports
                .vault
                .record(group.user_id, &group.data_source_id)
                .await?
            else {
                return Ok(false);
            };
            deps.ports
                .vault
                .store_tokens(
                    &record,
                    renewed.refresh.as_ref().map(|t| (&t.value, t.expires_at)),
                    renewed.id.as_ref().map(|t| (&t.value, t.expires_at)),
                )
                .await
        }
        .await;
        match stored {
            Ok(true) => tracing::info!(
                refresh = renewed.refresh.is_some(),
                id = renewed.id.is_some(),
                "renewed V1 tokens stored"
            ),
            Ok(false) => tracing::info!("credential changed meanwhile; renewed tokens not stored"),
            Err(e) => tracing::warn!(error.message = %e, "could not store renewed V1 tokens"),
        }
    }
}

/// The group owner's plan and access to `source`.
pub(crate) async fn open(
    group: &JobGroup,
    source: &DataSource,
    deps: &Deps,
) -> Result<(Plan, Access), Failure> {
    if source.provider_type == ProviderType::Yfinance {
        // Yahoo has no plans; its limits are the data source's (the limiter's scope for
        // Yahoo is the deployment, not the user).
        return Ok((Plan::Free, Access::Yahoo(yahoo_client(source, deps).await)));
    }
    let (user, ds) = (group.user_id, &group.data_source_id);
    let missing = || Failure::Permanent(format!("no credential stored for `{ds}`"));
    let record = deps
        .ports
        .vault
        .record(user, ds)
        .await
        .map_err(Failure::from)?
        .ok_or_else(missing)?;
    if let Some(auth) = cached_v1(&record, deps).await {
        return Ok((record.plan, Access::V1(auth)));
    }
    let (plan, secret) = deps
        .ports
        .vault
        .open_record(&record)
        .await
        .map_err(Failure::from)?;
    let login = match secret {
        CredentialSecret::ApiKey(key) => {
            return Ok((plan, Access::Key(Arc::new(ApiKey::new(key)))));
        }
        CredentialSecret::V1Login {
            mail_address,
            password,
        } => Some(Login {
            mail_address,
            password,
        }),
        CredentialSecret::V1RefreshTokenOnly => None,
    };
    let (refresh, id) = deps
        .ports
        .vault
        .open_tokens(&record)
        .await
        .map_err(Failure::from)?;
    let mut auth = V1Auth::new(
        &deps.providers.jquants,
        &source.base_url,
        deps.clock.clone(),
    )
    .with_tokens(refresh, id);
    if let Some(login) = login {
        auth = auth.with_login(login);
    }
    let auth = Arc::new(auth);
    deps.providers.v1_sessions.lock().await.insert(
        (user, ds.clone()),
        (record.updated_at, Instant::now(), Arc::clone(&auth)),
    );
    Ok((plan, Access::V1(auth)))
}

/// The process's session of this V1 account, unless the credential was replaced since or the
/// session is older than the vault's cache rule (`shared::vault::CACHE_TTL`): it holds the
/// password, which no process keeps longer than any other opened secret. An old session is
/// dropped here, its tokens sealed in the credential already.
async fn cached_v1(record: &DataSourceCredential, deps: &Deps) -> Option<Arc<V1Auth>> {
    let mut sessions = deps.providers.v1_sessions.lock().await;
    let key = (record.user_id, record.data_source_id.clone());
    let (updated_at, opened, auth) = sessions.get(&key)?;
    if *updated_at == record.updated_at && opened.elapsed() < shared::vault::CACHE_TTL {
        return Some(Arc::clone(auth));
    }
    sessions.remove(&key);
    None
}

/// One client per Yahoo base URL in the process, so every job shares its crumb.
async fn yahoo_client(source: &DataSource, deps: &Deps) -> Arc<YahooClient> {
    let mut clients = deps.providers.yahoo.lock().await;
    Arc::clone(clients.entry(source.base_url.clone()).or_insert_with(|| {
        Arc::new(YahooClient::new(
            &YahooConfig::for_base_url(&source.base_url),
            deps.clock.clone(),
        ))
    }))
}

/// The group's data source, from the process's copy when it is less than [`SOURCE_TTL`] old;
/// one the operator disabled fails the job (no request goes to it; the owner retries the
/// group once it is enabled again).
pub(crate) async fn data_source(group: &JobGroup, deps: &Deps) -> Result<DataSource, Failure> {
    let ds = cached_data_source(group, deps).await?;
    if !ds.is_enabled {
        return Err(Failure::Permanent(format!(
            "data source `{}` is disabled by the operator",
            ds.id
        )));
    }
    Ok(ds)
}

/// Fails unless the group's owner may have work done (an administrator disabled them), from
/// the process's copy when it is less than [`SOURCE_TTL`] old.
pub(crate) async fn owner_active(group: &JobGroup, deps: &Deps) -> Result<(), Failure> {
    let mut cache = deps.providers.users.lock().await;
    let active = match cache.get(&group.user_id) {
        Some((at, active)) if at.elapsed() < SOURCE_TTL => *active,
        _ => {
            let active = deps.ports.users.user_is_active(group.user_id).await?;
            cache.insert(group.user_id, (Instant::now(), active));
            active
        }
    };
    if active {
        Ok(())
    } else {
        Err(Failure::Permanent(
            "the group's owner is disabled by an administrator".into(),
        ))
    }
}

async fn cached_data_source(group: &JobGroup, deps: &Deps) -> Result<DataSource, Failure> {
    let mut cache = deps.providers.sources.lock().await;
    if let Some((at, ds)) = cache.get(&group.data_source_id)
        && at.elapsed() < SOURCE_TTL
    {
        return Ok(ds.clone());
    }
    let ds = deps
        .ports
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
