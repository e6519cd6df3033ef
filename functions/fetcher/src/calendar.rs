//! Keeping the scheduler's trading calendar current: every markets calendar the fetcher reads
//! (a user's `mkt-cal` job, or the planning of a group split per trading day) is laid over the
//! stored one, so schedules are decided against the provider's latest word without a fetch
//! of their own.

use shared::catalog::Endpoint;
use shared::dataset::{DatasetKind, Record};
use shared::schedule::TradingCalendar;

use crate::deps::Deps;

/// Remembers `records` of the markets calendar over `query`'s dates. Best effort: a failure is
/// logged, never fails the job (the next read of the calendar repairs it).
pub(crate) async fn remember(
    endpoint: &Endpoint,
    query: &[(String, String)],
    records: &[Record],
    deps: &Deps,
) {
    if endpoint.dataset != DatasetKind::MktCal {
        return;
    }
    let get = |k: &str| {
        query
            .iter()
            .find(|(q, _)| q == k)
            .and_then(|(_, v)| shared::domain::parse_date(v))
    };
    // A read without both bounds covers an unknown range: nothing to learn from it safely.
    let (Some(first), Some(last)) = (get("from"), get("to")) else {
        return;
    };
    if records.is_empty() {
        return;
    }
    let cal = TradingCalendar::from_records(records, first, last, deps.clock.now());
    if let Err(e) = deps.ports.schedules.merge_calendar(&cal).await {
        tracing::warn!(error.message = %e, "could not store the trading calendar");
    }
}
