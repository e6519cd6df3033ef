//! `/v1/data`: ask for data, not for jobs. A read names a series (data source, endpoint and its
//! non-date parameters), symbols and a date range; it is answered from what the caller holds
//! ([`shared::holdings`]) when every day is held fresh, and otherwise a job group is created
//! for exactly the missing pieces (202 with the groups; read again once they end). Nothing
//! already held fresh is asked of the provider again, unless `refresh=true`.
//!
//! - `GET /v1/data`: what the caller holds.
//! - `GET /v1/data/{data_source}/{endpoint}?symbols=&from=&to=&format=`: the rows (200), the
//!   groups fetching what is missing (202), or, for an answer over [`INLINE_BYTES`], a link
//!   to it in object storage (303), the way exports leave: API Gateway caps a Lambda's answer
//!   at 6 MB. `held=only` answers from what is held and never fetches (symbols optional).
//! - `GET /v1/data/{data_source}/{endpoint}/partitions`: the years held, each with a version
//!   that changes whenever its rows may have, for `moomoo data sync`.
//! - `DELETE` of the same paths, and `DELETE /v1/admin/users/{id}/data`: [`super::data_delete`].

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use shared::catalog::{self, Endpoint, SymbolUse};
use shared::domain::{DataSourceId, User, parse_date};
use shared::holdings::read::{Row, holding_rows};
use shared::holdings::{Coverage, HoldingKey, NO_SYMBOL, Span, exchange_date};

use crate::auth::Caller;
use crate::error::{ApiError, Errors};
use crate::extract::ApiQuery;
use crate::routes::job_groups::{JobGroupView, NewJobGroup, create_group};
use crate::routes::results::{Format, cell, guarded};
use crate::state::AppState;

/// Answers up to this size travel in the API's answer; larger ones through a link.
pub const INLINE_BYTES: usize = 4 * 1024 * 1024;

/// Query parameters of a read that are not the endpoint's.
const OWN_PARAMS: [&str; 6] = ["symbols", "from", "to", "format", "refresh", "held"];

/// A read, parsed.
#[derive(Debug)]
pub(crate) struct Read {
    pub(crate) data_source: DataSourceId,
    pub(crate) endpoint: &'static Endpoint,
    /// The series' own parameters (canonical, from the catalog's validation).
    pub(crate) params: BTreeMap<String, String>,
    /// Symbols asked for (empty: every symbol held, or a series without symbols).
    pub(crate) symbols: Vec<String>,
    pub(crate) range: Option<Span>,
}

impl Read {
    pub(crate) fn series(&self) -> String {
        HoldingKey::series_of(self.endpoint.id, &self.params)
    }

    pub(crate) fn key(&self, user: &User, symbol: &str) -> HoldingKey {
        HoldingKey {
            user: user.id,
            data_source: self.data_source.clone(),
            series: self.series(),
            symbol: symbol.to_owned(),
        }
    }

    /// The holdings asked for: the symbols named, or every one held of the series.
    pub(crate) async fn holdings(
        &self,
        state: &AppState,
        user: &User,
    ) -> Result<Vec<Coverage>, ApiError> {
        if self.symbols.is_empty() && self.endpoint.symbols != SymbolUse::None {
            let series = self.series();
            let mut held: Vec<Coverage> = state
                .holdings
                .user_holdings(user.id)
                .await?
                .into_iter()
                .filter(|c| c.key.data_source == self.data_source && c.key.series == series)
                .collect();
            held.sort_by(|a, b| a.key.symbol.cmp(&b.key.symbol));
            return Ok(held);
        }
        let keys: Vec<HoldingKey> = if self.symbols.is_empty() {
            vec![self.key(user, NO_SYMBOL)]
        } else {
            self.symbols.iter().map(|s| self.key(user, s)).collect()
        };
        Ok(state.holdings.holdings(&keys).await?)
    }
}

/// Parses `/{data_source}/{endpoint}` and the query of a read or a deletion. `needs_range`:
/// `from` and `to` are required.
pub(crate) async fn parse_read(
    state: &AppState,
    data_source: &str,
    endpoint: &str,
    query: &BTreeMap<String, String>,
    needs_range: bool,
) -> Result<Read, ApiError> {
    let ds = DataSourceId::parse(data_source)
        .map_err(|_| ApiError::BadRequest(format!("unknown data source `{data_source}`")))?;
    let endpoint = catalog::find(&ds, endpoint).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "data source `{ds}` has no endpoint `{endpoint}`: GET /v1/data-sources/{ds}/endpoints lists them"
        ))
    })?;
    let by_range = ["from", "to"]
        .iter()
        .all(|p| endpoint.params.iter().any(|s| s.name == *p));
    if !by_range || endpoint.symbols == SymbolUse::Optional {
        return Err(ApiError::BadRequest(format!(
            "`{}` is not read by symbol and date range: fetch it with POST /v1/job-groups",
            endpoint.id
        )));
    }
    let day = |name: &str| -> Result<Option<NaiveDate>, ApiError> {
        query
            .get(name)
            .map(|v| {
                parse_date(v).ok_or_else(|| {
                    ApiError::BadRequest(format!("`{name}` must be a date, YYYY-MM-DD: got `{v}`"))
                })
            })
            .transpose()
    };
    let range = match (day("from")?, day("to")?) {
        (Some(from), Some(to)) if from <= to => Some((from, to)),
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest("`from` is after `to`".into()));
        }
        (None, None) if !needs_range => None,
        _ => {
            return Err(ApiError::BadRequest(
                "give both `from` and `to` (YYYY-MM-DD)".into(),
            ));
        }
    };
    let symbols: Vec<String> = query
        .get("symbols")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut params: BTreeMap<String, String> = query
        .iter()
        .filter(|(k, _)| !OWN_PARAMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // The catalog's validation makes symbols and parameters canonical (issue codes of five
    // digits, defaults filled in), so one series is one holding however it is asked for.
    let (probe_from, probe_to) = range.unwrap_or_else(|| {
        let today = exchange_date(state.clock.now());
        (today, today)
    });
    params.insert("from".into(), probe_from.to_string());
    params.insert("to".into(), probe_to.to_string());
    let valid = endpoint
        .validate(&symbols, &params)
        .map_err(|e| ApiError::BadRequest(e.0))?;
    let mut params = valid.params;
    params.remove("from");
    params.remove("to");
    let symbols = valid
        .symbols
        .into_iter()
        .flatten()
        .map(|c| c.as_str().to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(Read {
        data_source: ds,
        endpoint,
        params,
        symbols,
        range,
    })
}

/// One holding as `GET /v1/data` lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HoldingView {
    data_source: String,
    series: String,
    endpoint: String,
    symbol: String,
    /// The days held fresh, as disjoint ranges.
    ranges: Vec<RangeView>,
    /// Completed jobs whose rows make the holding.
    pieces: usize,
    /// Rows those jobs fetched (a day fetched twice counts twice).
    rows: u64,
    /// Bytes those jobs received from the provider.
    bytes: u64,
    /// The latest fetch.
    fetched_at: Option<DateTime<Utc>>,
}

/// An inclusive range of days.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RangeView {
    /// The symbol missing the range (in a 202); absent in a holding's own ranges.
    #[serde(skip_serializing_if = "Option::is_none")]
    symbol: Option<String>,
    from: NaiveDate,
    to: NaiveDate,
}

/// `GET /v1/data`: every holding of the caller.
#[utoipa::path(get, path = "/v1/data", tag = "data",
    responses((status = 200, description = "`{\"holdings\": [HoldingView]}`: per data source, series and symbol, the days held fresh", body = Object), Errors))]
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = state.clock.now();
    let mut held = state.holdings.user_holdings(user.id).await?;
    held.sort_by(|a, b| a.key.cmp(&b.key));
    let holdings: Vec<HoldingView> = held
        .iter()
        .map(|c| HoldingView {
            data_source: c.key.data_source.to_string(),
            series: c.key.series.clone(),
            endpoint: c.key.endpoint_id().to_owned(),
            symbol: c.key.symbol.clone(),
            ranges: c
                .fresh(now, state.retention)
                .into_iter()
                .map(|(from, to)| RangeView {
                    symbol: None,
                    from,
                    to,
                })
                .collect(),
            pieces: c.pieces.len(),
            rows: c.pieces.iter().map(|p| p.rows).sum(),
            bytes: c.pieces.iter().map(|p| p.bytes).sum(),
            fetched_at: c.pieces.iter().map(|p| p.at).max(),
        })
        .collect();
    Ok(Json(serde_json::json!({ "holdings": holdings })))
}

/// `GET /v1/data/{data_source}/{endpoint}`.
#[utoipa::path(get, path = "/v1/data/{data_source}/{endpoint}", tag = "data",
    params(("data_source" = String, Path, description = "data source id, e.g. `jquants-v2`"),
           ("endpoint" = String, Path, description = "an endpoint read by symbol and date range, e.g. `eq-bars-daily`"),
           ("symbols" = Option<String>, Query, description = "issue codes or symbols, comma-separated (optional with `held=only`)"),
           ("from" = String, Query, description = "first day, YYYY-MM-DD"),
           ("to" = String, Query, description = "last day, YYYY-MM-DD"),
           ("format" = Option<String>, Query, description = "`ndjson` (default) or `csv`"),
           ("refresh" = Option<bool>, Query, description = "fetch again even what is held"),
           ("held" = Option<String>, Query, description = "`only`: answer from what is held, never fetch")),
    responses(
        (status = 200, description = "the rows: NDJSON, or CSV with a header row; `x-moomoo-rows` counts them", content_type = "application/x-ndjson"),
        (status = 202, description = "`{status: fetching, groups, missing}`: job groups fetch the missing pieces; read again once they end", body = Object),
        (status = 303, description = "`{url, expires_at, bytes, rows}`: a large answer, at `Location`", body = Object),
        Errors))]
pub async fn read(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path((data_source, endpoint)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let format = Format::parse(query.get("format").map(String::as_str))?;
    let refresh = flag(&query, "refresh")?;
    let held_only = match query.get("held").map(String::as_str) {
        None => false,
        Some("only") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "`held` takes `only`, got `{other}`"
            )));
        }
    };
    let read = parse_read(&state, &data_source, &endpoint, &query, true).await?;
    if read.symbols.is_empty() && read.endpoint.symbols != SymbolUse::None && !held_only {
        return Err(ApiError::BadRequest(
            "list `symbols` (or add `held=only` to read every symbol held)".into(),
        ));
    }
    let (from, to) = read.range.unwrap_or_default();
    let now = state.clock.now();
    // A day's rows are complete once it has ended at the exchange.
    let last_whole = exchange_date(now).pred_opt().unwrap_or(to);
    let want = (from, to.min(last_whole));
    if want.0 > want.1 {
        return Err(ApiError::BadRequest(format!(
            "no whole day in {from}..{to} yet: the latest is {last_whole}"
        )));
    }
    let holdings = read.holdings(&state, &user).await?;
    compact(&state, &holdings).await;
    if !held_only {
        let missing: Vec<(String, Span)> = holdings
            .iter()
            .filter_map(|c| {
                let gaps = if refresh {
                    vec![want]
                } else {
                    c.missing(want, now, state.retention)
                };
                let envelope = (gaps.first()?.0, gaps.last()?.1);
                Some((c.key.symbol.clone(), envelope))
            })
            .collect();
        if !missing.is_empty() {
            return fetch_missing(&state, &user, &read, missing).await;
        }
    }
    answer(&state, &user, &read, &holdings, want, format).await
}

/// Pieces a holding keeps before its shadowed ones are dropped.
const COMPACT_AFTER: usize = 32;

/// Rewrites holdings grown past [`COMPACT_AFTER`] pieces without those a later fetch covers
/// (or gone stale), so a series read again and again stays one small item. Best effort: a
/// piece a job adds meanwhile may be lost, and is then fetched again.
async fn compact(state: &AppState, holdings: &[Coverage]) {
    let now = state.clock.now();
    for c in holdings.iter().filter(|c| c.pieces.len() > COMPACT_AFTER) {
        let pieces = c.compacted(now, state.retention);
        if pieces.len() < c.pieces.len() {
            let smaller = Coverage {
                pieces,
                ..c.clone()
            };
            if let Err(e) = state.holdings.replace(&smaller).await {
                tracing::warn!(error = %e, "could not compact a holding");
            }
        }
    }
}

/// One job group per distinct missing range, for the symbols missing exactly it: 202.
async fn fetch_missing(
    state: &AppState,
    user: &User,
    read: &Read,
    missing: Vec<(String, Span)>,
) -> Result<Response, ApiError> {
    let mut by_range: BTreeMap<Span, Vec<String>> = BTreeMap::new();
    for (symbol, span) in &missing {
        by_range.entry(*span).or_default().push(symbol.clone());
    }
    let mut groups = Vec::new();
    for ((from, to), symbols) in by_range {
        let mut params = read.params.clone();
        params.insert("from".into(), from.to_string());
        params.insert("to".into(), to.to_string());
        let request = NewJobGroup {
            data_source: read.data_source.to_string(),
            endpoint: read.endpoint.id.to_owned(),
            symbols: symbols.into_iter().filter(|s| s != NO_SYMBOL).collect(),
            all_listed_issues: false,
            params,
        };
        groups.push(JobGroupView::from(
            create_group(state, user, &request).await?,
        ));
    }
    let missing: Vec<RangeView> = missing
        .into_iter()
        .map(|(symbol, (from, to))| RangeView {
            symbol: Some(symbol),
            from,
            to,
        })
        .collect();
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "status": "fetching",
            "groups": groups,
            "missing": missing,
        })),
    )
        .into_response())
}

/// The rows held for `want`, symbol after symbol: in the answer, or through a link when large.
async fn answer(
    state: &AppState,
    user: &User,
    read: &Read,
    holdings: &[Coverage],
    want: Span,
    format: Format,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let mut out = Rendered::new(format);
    let mut upload: Option<shared::export::Upload> = None;
    for holding in holdings {
        let rows = holding_rows(
            state.archive.as_ref(),
            read.endpoint,
            &read.params,
            holding,
            want,
            now,
            state.retention,
        )
        .await
        .map_err(|e| ApiError::Unavailable(e.context("reading held rows")))?;
        out.add(&rows)?;
        if out.buffer.len() > INLINE_BYTES {
            let up = upload.get_or_insert_with(|| {
                shared::export::Upload::new(
                    format!(
                        "exports/{}/data/{}.{}",
                        user.id,
                        uuid::Uuid::now_v7().simple(),
                        format.extension()
                    ),
                    format.content_type(),
                )
            });
            state
                .exports
                .write(up, &std::mem::take(&mut out.buffer))
                .await
                .map_err(|e| ApiError::Unavailable(anyhow::Error::new(e)))?;
        }
    }
    let Some(mut up) = upload else {
        let mut response = Response::new(Body::from(out.buffer));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        headers.insert("x-moomoo-rows", HeaderValue::from(out.rows));
        return Ok(response);
    };
    let written = state.exports.write(&mut up, &out.buffer).await;
    if let Err(e) = written {
        state.exports.abort(up).await;
        return Err(ApiError::Unavailable(anyhow::Error::new(e)));
    }
    let link = state
        .exports
        .finish(up, now)
        .await
        .map_err(|e| ApiError::Unavailable(anyhow::Error::new(e)))?;
    let mut response = (
        StatusCode::SEE_OTHER,
        Json(serde_json::json!({
            "url": link.url,
            "expires_at": link.expires_at,
            "bytes": link.bytes,
            "rows": out.rows,
        })),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&link.url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The answer's bytes so far.
struct Rendered {
    format: Format,
    buffer: Vec<u8>,
    header: Option<Vec<String>>,
    rows: u64,
}

impl Rendered {
    fn new(format: Format) -> Self {
        Self {
            format,
            buffer: Vec::new(),
            header: None,
            rows: 0,
        }
    }

    fn add(&mut self, rows: &[Row]) -> Result<(), ApiError> {
        let failed = |e: &dyn std::fmt::Display| {
            ApiError::Unavailable(anyhow::anyhow!("rendering rows: {e}"))
        };
        match self.format {
            Format::Ndjson => {
                for row in rows {
                    serde_json::to_writer(&mut self.buffer, row).map_err(|e| failed(&e))?;
                    self.buffer.push(b'\n');
                }
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(std::mem::take(&mut self.buffer));
                for row in rows {
                    if self.header.is_none() {
                        let names: Vec<String> = row.keys().cloned().collect();
                        w.write_record(names.iter().map(|c| guarded(c)))
                            .map_err(|e| failed(&e))?;
                        self.header = Some(names);
                    }
                    let columns = self.header.as_deref().unwrap_or_default();
                    w.write_record(
                        columns
                            .iter()
                            .map(|c| row.get(c.as_str()).map_or_else(String::new, cell)),
                    )
                    .map_err(|e| failed(&e))?;
                }
                self.buffer = w.into_inner().map_err(|e| failed(&e))?;
            }
        }
        self.rows += rows.len() as u64;
        Ok(())
    }
}

fn flag(query: &BTreeMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match query.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::BadRequest(format!(
            "`{name}` takes `true` or `false`, got `{other}`"
        ))),
    }
}

/// One year held, for `moomoo data sync`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartitionView {
    year: i32,
    /// Changes whenever a piece whose rows fall in the year is added, removed or goes stale.
    version: String,
    /// Symbols with rows in the year.
    symbols: usize,
}

/// `GET /v1/data/{data_source}/{endpoint}/partitions`.
#[utoipa::path(get, path = "/v1/data/{data_source}/{endpoint}/partitions", tag = "data",
    params(("data_source" = String, Path, description = "data source id"),
           ("endpoint" = String, Path, description = "endpoint id")),
    responses((status = 200, description = "`{partitions: [{year, version, symbols}]}`", body = Object), Errors))]
pub async fn partitions(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path((data_source, endpoint)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<BTreeMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let read = parse_read(&state, &data_source, &endpoint, &query, false).await?;
    let now = state.clock.now();
    let everything = (NaiveDate::MIN, NaiveDate::MAX);
    let mut years: BTreeMap<i32, (aws_lc_rs::digest::Context, BTreeSet<String>)> = BTreeMap::new();
    for holding in read.holdings(&state, &user).await? {
        for (piece, (from, to)) in holding.to_read(everything, now, state.retention) {
            use chrono::Datelike;
            for year in from.year()..=to.year() {
                let (digest, symbols) = years.entry(year).or_insert_with(|| {
                    (
                        aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256),
                        BTreeSet::new(),
                    )
                });
                digest.update(
                    format!(
                        "{}|{}|{}|{}|{from}|{to}\n",
                        holding.key.symbol, piece.group, piece.job, piece.at
                    )
                    .as_bytes(),
                );
                symbols.insert(holding.key.symbol.clone());
            }
        }
    }
    let partitions: Vec<PartitionView> = years
        .into_iter()
        .map(|(year, (digest, symbols))| PartitionView {
            year,
            version: digest
                .finish()
                .as_ref()
                .iter()
                .take(16)
                .map(|b| format!("{b:02x}"))
                .collect(),
            symbols: symbols.len(),
        })
        .collect();
    Ok(Json(serde_json::json!({ "partitions": partitions })))
}
