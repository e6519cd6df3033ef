//! `GET /v2/equities/bars/daily`: daily OHLCV per issue, paginated.
//!
//! Parameter combinations (reference §2.2): `code` alone is the issue's whole history inside
//! the plan window, `code` + `date` one day, `code` + `from`/`to` a range, `date` alone every
//! issue on that day. Rows are ordered by (Code, Date); a page holds the configured number of
//! rows and the rows are regenerated per page, so no query state is kept between requests.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::Uri;
use chrono::NaiveDate;
use serde::Serialize;

use super::auth::Caller;
use super::error::{self, ApiError};
use super::{Row, V2State};
use crate::calendar::trading_days;
use crate::config::Window;
use crate::pagination::{self, Fingerprint};
use crate::params::{IssueCode, parse_date, value};
use crate::universe::{is_listed_code, issue_codes};

const DATASET: &str = "/equities/bars/daily";

/// The response body.
#[derive(Debug, Serialize)]
pub(crate) struct Page {
    data: Vec<Row>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pagination_key: Option<String>,
}

/// The parsed query, before the plan window is applied.
#[derive(Debug)]
struct BarsQuery {
    code: Option<IssueCode>,
    date: Option<NaiveDate>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl BarsQuery {
    fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let get = |name| value(pairs, name);
        if get("code").is_none() && get("date").is_none() {
            return Err(ApiError::bad_request(error::CODE_OR_DATE_REQUIRED));
        }
        let date = |name: &'static str| {
            get(name)
                .map(|raw| parse_date(raw).ok_or_else(|| ApiError::invalid_date(name)))
                .transpose()
        };
        let code = get("code")
            .map(|raw| {
                IssueCode::parse(raw).map_err(|_| ApiError::bad_request(error::INVALID_CODE))
            })
            .transpose()?;
        let query = Self {
            code,
            date: date("date")?,
            from: date("from")?,
            to: date("to")?,
        };
        if query.date.is_some() && (query.from.is_some() || query.to.is_some()) {
            return Err(ApiError::bad_request(error::DATE_WITH_RANGE));
        }
        if let (Some(from), Some(to)) = (query.from, query.to)
            && from > to
        {
            return Err(ApiError::bad_request(error::FROM_AFTER_TO));
        }
        Ok(query)
    }

    /// Refuses explicit dates outside the window, then clamps the range to it.
    fn days(&self, window: Window) -> Result<Vec<NaiveDate>, ApiError> {
        let explicit = [self.date, self.from, self.to];
        if explicit.into_iter().flatten().any(|d| !window.contains(d)) {
            return Err(ApiError::outside_subscription(window));
        }
        let (from, to) = match self.date {
            Some(date) => (date, date),
            None => (
                self.from.unwrap_or(window.from),
                self.to.unwrap_or(window.to),
            ),
        };
        Ok(trading_days(from, to).collect())
    }

    fn fingerprint(&self) -> Fingerprint {
        let day = |d: Option<NaiveDate>| d.map(|d| d.format("%Y%m%d").to_string());
        let code = self.code.as_ref().map(ToString::to_string);
        Fingerprint::of(
            DATASET,
            &[code, day(self.date), day(self.from), day(self.to)],
        )
    }
}

pub(crate) async fn handle(
    State(state): State<Arc<V2State>>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Result<Json<Page>, ApiError> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map_err(|_| ApiError::bad_request(error::MALFORMED_QUERY))?;
    let query = BarsQuery::parse(&pairs)?;
    let days = query.days(caller.plan.window(state.config.today()))?;
    let single;
    let codes: &[String] = match &query.code {
        Some(code) if is_listed_code(code) => {
            single = [code.to_string()];
            &single
        }
        Some(_) => &[],
        None => issue_codes(),
    };
    let total = codes.len() * days.len();
    let fingerprint = query.fingerprint();
    let offset = match value(&pairs, "pagination_key") {
        Some(key) => pagination::decode(key, fingerprint)
            .ok()
            .filter(|offset| *offset <= total)
            .ok_or_else(|| ApiError::bad_request(error::INVALID_PAGE_KEY))?,
        None => 0,
    };
    let end = total.min(offset.saturating_add(state.page_size()));
    let data = (offset..end)
        .filter_map(|i| {
            let code = IssueCode::parse(&codes[i / days.len()]).ok()?;
            Row::build(&code, days[i % days.len()], caller.plan)
        })
        .collect();
    let pagination_key = (end < total).then(|| pagination::encode(end, fingerprint));
    Ok(Json(Page {
        data,
        pagination_key,
    }))
}
