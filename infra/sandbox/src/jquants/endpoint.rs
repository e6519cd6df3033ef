//! The shape every V2 dataset shares: a path, a minimum plan, a function from the query to a
//! lazily built list of rows, and the generic handler that gates, pages and answers.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use super::auth::Caller;
use super::error::{self, ApiError};
use super::query::Query;
use super::record::{Page, Record};
use crate::config::Plan;
use crate::pagination::{self, Fingerprint};
use crate::params::IssueCode;
use crate::state::Shared;

/// Rows built on demand by index, so a page costs only its own rows.
pub(crate) struct Listing {
    total: usize,
    row: Box<dyn FnMut(usize) -> Option<Record>>,
}

impl std::fmt::Debug for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listing")
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl Listing {
    pub(crate) fn new(total: usize, row: impl FnMut(usize) -> Option<Record> + 'static) -> Self {
        Self {
            total,
            row: Box::new(row),
        }
    }

    /// Rows already built.
    pub(crate) fn rows(rows: Vec<Record>) -> Self {
        let total = rows.len();
        let mut rows: Vec<Option<Record>> = rows.into_iter().map(Some).collect();
        Self::new(total, move |i| rows.get_mut(i).and_then(Option::take))
    }

    /// Every (issue, day) pair, issue-major, as `Code`-then-`Date` ordered endpoints want.
    pub(crate) fn grid(
        codes: Vec<IssueCode>,
        days: Vec<NaiveDate>,
        build: impl Fn(&IssueCode, NaiveDate) -> Option<Record> + 'static,
    ) -> Self {
        let per_code = days.len().max(1);
        let total = codes.len() * days.len();
        Self::new(total, move |i| {
            build(&codes[i / per_code], days[i % per_code])
        })
    }
}

/// One V2 dataset.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// Path below `/v2`.
    pub(crate) path: &'static str,
    pub(crate) min_plan: Plan,
    /// `false` for the calendar, which always answers in one response.
    pub(crate) paginated: bool,
    /// Needs the minute-bars add-on.
    pub(crate) addon: bool,
    pub(crate) list: fn(&Query) -> Result<Listing, ApiError>,
}

impl Endpoint {
    pub(crate) const fn new(
        path: &'static str,
        min_plan: Plan,
        list: fn(&Query) -> Result<Listing, ApiError>,
    ) -> Self {
        Self {
            path,
            min_plan,
            paginated: true,
            addon: false,
            list,
        }
    }
}

/// The page of `endpoint` that `query` asks for, rows under `key`.
pub(crate) fn page(
    endpoint: &Endpoint,
    query: &Query,
    page_size: usize,
    key: &'static str,
) -> Result<Page, ApiError> {
    let Listing { total, mut row } = (endpoint.list)(query)?;
    let fingerprint = Fingerprint::of(endpoint.path, &query.fingerprint_values());
    let (offset, end) = if endpoint.paginated {
        let offset = match query.get("pagination_key") {
            Some(key) => pagination::decode(key, fingerprint)
                .ok()
                .filter(|offset| *offset <= total)
                .ok_or_else(|| ApiError::bad_request(error::INVALID_PAGE_KEY))?,
            None => 0,
        };
        (offset, total.min(offset.saturating_add(page_size.max(1))))
    } else {
        (0, total)
    };
    let rows = (offset..end).filter_map(&mut row).collect();
    let pagination_key = (end < total).then(|| pagination::encode(end, fingerprint));
    Ok(Page {
        key,
        rows,
        pagination_key,
    })
}

/// The handler behind every V2 dataset route.
pub(crate) async fn serve(
    endpoint: &'static Endpoint,
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Response {
    let answer = (|| {
        if caller.plan < endpoint.min_plan || (endpoint.addon && !caller.minute_addon) {
            return Err(ApiError::plan_too_low(endpoint.min_plan, caller.plan));
        }
        let now = shared.clock.now();
        let query = Query::parse(&uri, caller.plan, now, shared.clock.today())?;
        page(endpoint, &query, shared.page_size, "data")
    })();
    match answer {
        Ok(page) => Json(page).into_response(),
        Err(e) => e.into_response(),
    }
}
