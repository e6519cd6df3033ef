//! The rate a user's requests to a provider run at, from the rate limiter's shared state: shown
//! beside a credential and a job group, so the user is told when the provider allows less than
//! the declared plan (#17). Reading it never fails a view: without it the view answers as
//! before (logged).

use shared::domain::{DataSource, JobGroup, Plan, ProviderType, UserId};
use shared::limiter::{RateStatus, Scope, plan_demands};

use crate::state::AppState;

/// The rate of `user`'s scope on `source` under `plan`: one read of the limiter's item.
pub(crate) async fn rate(
    state: &AppState,
    source: &DataSource,
    user: UserId,
    plan: Plan,
) -> Option<RateStatus> {
    let scope = Scope::for_request(source, user);
    match state
        .limiter
        .status(&scope, &plan_demands(plan, source))
        .await
    {
        Ok(status) => Some(status),
        Err(e) => {
            tracing::warn!(error.message = %e, error.cause_chain = ?e, scope = scope.as_str(), "rate state unreadable; answered without `rate`");
            None
        }
    }
}

/// The rate of `group`'s scope: its data source, under the plan of the owner's credential
/// (a provider without accounts has no plan: the data source's own limit). `None` when the
/// data source or the credential is gone, or anything cannot be read.
pub(crate) async fn group_rate(state: &AppState, group: &JobGroup) -> Option<RateStatus> {
    let source = match state.sources.get_data_source(&group.data_source_id).await {
        Ok(Some(source)) => source,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error.message = %e, error.cause_chain = ?e, job_group_id = %group.id, "data source unreadable; answered without `rate`");
            return None;
        }
    };
    let plan = match source.provider_type {
        // `plan_demands` takes the data source's limit whatever the plan.
        ProviderType::Yfinance => Plan::Free,
        ProviderType::Jquants => match state.vault.record(group.user_id, &source.id).await {
            Ok(Some(credential)) => credential.plan,
            // Deleted since the group was made: no declared plan to measure against.
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error.message = %e, error.cause_chain = ?e, job_group_id = %group.id, "credential unreadable; answered without `rate`");
                return None;
            }
        },
    };
    rate(state, &source, group.user_id, plan).await
}
