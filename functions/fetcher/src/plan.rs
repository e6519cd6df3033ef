//! Planning a group whose jobs are not known when it is created, under the rate limiter like
//! any other request: split per trading day, its date range is read against the provider's
//! trading calendar and its trading days (business days and half-day sessions) become its jobs,
//! so a day the exchange is closed never costs a request; split per listed issue ("all listed
//! issues"), the equities master of the range's last day gives the issues.

use std::time::Duration;

use chrono::NaiveDate;
use shared::catalog;
use shared::domain::{IssueCode, JobGroupId, Split};
use shared::provider::{Disposition, PageKeys, ProviderError};
use shared::schedule::TradingCalendar;

use crate::deps::Deps;
use crate::failure::Failure;
use crate::job::{self, Memo, Outcome};
use crate::request::Stop;

/// Plans `group`'s jobs. `Ok(())` once planned (now or before); otherwise what to do with the
/// fan-out message.
pub(crate) async fn plan(group: JobGroupId, deps: &Deps) -> Result<(), Outcome> {
    let redeliver = |e: &dyn std::fmt::Display| {
        tracing::warn!(job_group_id = %group, error.message = %e, "could not plan the group's days; will retry");
        Outcome::Redeliver {
            after: Some(Duration::from_secs(5)),
        }
    };
    let Some(g) = deps
        .ports
        .jobs
        .get_group(group)
        .await
        .map_err(|e| redeliver(&e))?
    else {
        return Err(Outcome::DeadLetter(
            "fan-out of a group that does not exist",
        ));
    };
    let by_day = g.split == Split::PerTradingDay;
    let range = g.range();
    let (source_id, query) = match (by_day, range) {
        (true, Some(r)) => (
            "mkt-cal",
            vec![
                ("from".to_owned(), r.from().to_string()),
                ("to".to_owned(), r.to().to_string()),
            ],
        ),
        (true, None) => {
            return Err(Outcome::DeadLetter(
                "a group split per trading day has no date range",
            ));
        }
        (false, Some(r)) => ("eq-master", vec![("date".to_owned(), r.to().to_string())]),
        (false, None) => ("eq-master", Vec::new()),
    };
    let listing = catalog::find(&g.data_source_id, source_id).ok_or(Outcome::DeadLetter(
        "the data source has no calendar or master endpoint to plan from",
    ))?;
    let ctx = match job::context_for(&g, listing, &Memo::default(), deps).await {
        Ok(ctx) => ctx,
        Err(Failure::Permanent(m)) => {
            tracing::warn!(job_group_id = %group, endpoint = listing.id, error.message = %m, "the group cannot be planned");
            return Err(Outcome::DeadLetter(
                "the calendar or master to plan from cannot be read",
            ));
        }
        Err(Failure::Infrastructure(e)) => return Err(redeliver(&e)),
        Err(Failure::Transient { message, .. }) => return Err(redeliver(&message)),
    };
    let mut records = Vec::new();
    let mut next: Option<String> = None;
    let mut keys = PageKeys::default();
    // An answer that fails the same way however often it is asked (a redirect, a body past
    // its cap, a page key given twice) ends the fan-out at once instead of after every
    // redelivery the queue allows.
    let refused = |e: &ProviderError| {
        tracing::warn!(job_group_id = %group, endpoint = listing.id, error.message = %e, "the provider's answer cannot be planned from");
        Outcome::DeadLetter("the provider's calendar or master answer cannot be planned from")
    };
    loop {
        let request = crate::request::Request {
            ctx: &ctx,
            symbol: None,
            query: &query,
            next: next.as_deref(),
        };
        let page = match request.send(false, None, None, deps).await {
            Ok(Ok(page)) => page,
            Ok(Err(e)) if e.disposition() == Disposition::Fail => return Err(refused(&e)),
            Ok(Err(e)) => return Err(redeliver(&e)),
            Err(Stop::Paused { until, .. }) => {
                let wait = (until - deps.clock.now()).to_std().unwrap_or_default();
                return Err(Outcome::Redeliver {
                    after: Some(wait + Duration::from_secs(1)),
                });
            }
            Err(Stop::Failed { failure, .. }) => return Err(redeliver(&failure)),
            Err(Stop::Deadline { .. }) => return Err(redeliver(&"the invocation's deadline")),
        };
        crate::calendar::remember(listing, &query, &page.records, deps).await;
        records.extend(page.records);
        match page.next {
            Some(key) => {
                keys.record(&key).map_err(|e| refused(&e))?;
                next = Some(key);
            }
            None => break,
        }
    }
    let planned = if by_day {
        let Some(r) = range else {
            return Err(Outcome::DeadLetter(
                "a group split per trading day has no date range",
            ));
        };
        let (from, to) = (r.from(), r.to());
        // Business days and half-day sessions of the range, in order, once each.
        let days: Vec<NaiveDate> =
            TradingCalendar::from_records(&records, from, to, deps.clock.now())
                .trading_days(from, to)
                .unwrap_or_default();
        tracing::info!(job_group_id = %group, trading_days = days.len(), %from, %to, "planning from the trading calendar");
        deps.ports.jobs.plan_days(group, &days).await
    } else {
        let mut issues: Vec<IssueCode> = records
            .iter()
            .filter_map(|r| IssueCode::parse(&r.partition).ok())
            .collect();
        issues.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        issues.dedup();
        tracing::info!(job_group_id = %group, issues = issues.len(), "planning from the equities master");
        deps.ports.jobs.plan_issues(group, &issues).await
    };
    planned.map_err(|e| redeliver(&e))?;
    Ok(())
}
