//! A group's rows, read back from the raw payload archive job by job and page by page, so
//! memory holds one page however large the group. J-Quants rows are the provider's own JSON
//! objects, every field kept (from the page's rows array: `data` in V2, the route's own key in
//! V1); Yahoo's charts and quotes are not row arrays, so their rows are the records the fetcher
//! stored from them. A group still running exports what its completed jobs fetched so far.
//!
//! Two ways out:
//! - `POST /v1/job-groups/{id}/exports`: the rows written to object storage (S3 multipart, one
//!   part in memory) and answered with a presigned link. Any size; the way through API Gateway,
//!   whose Lambda answers are capped at 6 MB.
//! - `GET /v1/job-groups/{id}/results`: the rows streamed in the answer. Through API Gateway
//!   the whole answer is buffered, so a group over 6 MB is refused there (500); it serves small
//!   groups and direct (local, function URL) callers. A failure halfway aborts the stream, so
//!   the client sees a broken transfer, never a short file that looks whole.

use std::collections::VecDeque;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use shared::archive::{JobPrefix, RawArchive};
use shared::catalog::Endpoint;
use shared::domain::{Job, JobGroup, JobStatus};
use shared::holdings::read::{Row, page_rows};

use crate::auth::Caller;
use crate::error::{ApiError, Errors};
use crate::extract::{ApiJson, ApiQuery};
use crate::routes::job_groups::owned_group;
use crate::state::AppState;

/// The export's query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `ndjson` (default) or `csv`.
    format: Option<String>,
}

/// The rows' text form, for exports and data reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Ndjson,
    Csv,
}

impl Format {
    pub(crate) fn parse(format: Option<&str>) -> Result<Self, ApiError> {
        match format.unwrap_or("ndjson") {
            "ndjson" => Ok(Format::Ndjson),
            "csv" => Ok(Format::Csv),
            other => Err(ApiError::BadRequest(format!(
                "unknown format `{other}`: use `ndjson` or `csv`"
            ))),
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }
}

/// `POST /v1/job-groups/{id}/exports`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// `ndjson` (default) or `csv`.
    format: Option<String>,
}

/// A written export and where to download it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ExportView {
    /// A presigned `GET` link to the file; no credentials needed, valid until `expires_at`.
    url: String,
    /// When the link stops working.
    expires_at: chrono::DateTime<chrono::Utc>,
    /// `ndjson` or `csv`.
    format: &'static str,
    /// Rows in the file.
    rows: u64,
    /// Size of the file.
    bytes: u64,
    /// Completed jobs whose rows it holds.
    jobs: u64,
}

/// Writes the group's rows to a file in object storage and links to it.
#[utoipa::path(post, path = "/v1/job-groups/{id}/exports", tag = "job groups",
    params(("id" = String, Path, description = "job group id")),
    request_body = ExportRequest,
    responses(
        (status = 201, description = "the export is written; download it from `url`", body = ExportView),
        Errors))]
pub async fn create_export(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ExportRequest>,
) -> Result<(StatusCode, Json<ExportView>), ApiError> {
    let mut pages = pages(&state, &user, &id, req.format.as_deref()).await?;
    let jobs = pages.jobs.len() as u64;
    let format = pages.format;
    let key = format!(
        "exports/{}/{}/{}.{}",
        pages.group.user_id,
        pages.group.id,
        uuid::Uuid::now_v7().simple(),
        format.extension()
    );
    let mut upload = shared::export::Upload::new(key, format.content_type());
    let mut rows = 0u64;
    let written: anyhow::Result<()> = async {
        while let Some((chunk, n)) = pages.next_chunk().await? {
            state.exports.write(&mut upload, &chunk).await?;
            rows += n;
        }
        Ok(())
    }
    .await;
    if let Err(e) = written {
        state.exports.abort(upload).await;
        return Err(ApiError::Unavailable(e.context("writing the export")));
    }
    let link = state
        .exports
        .finish(upload, state.clock.now())
        .await
        .map_err(|e| ApiError::Unavailable(anyhow::Error::new(e).context("writing the export")))?;
    Ok((
        StatusCode::CREATED,
        Json(ExportView {
            url: link.url,
            expires_at: link.expires_at,
            format: format.extension(),
            rows,
            bytes: link.bytes,
            jobs,
        }),
    ))
}

/// The walk over `id`'s archived pages, once the caller is known to own it.
async fn pages(
    state: &AppState,
    user: &shared::domain::User,
    id: &str,
    format: Option<&str>,
) -> Result<Pages, ApiError> {
    let group = owned_group(state, user, id).await?;
    let endpoint = group.endpoint.get();
    let format = Format::parse(format)?;
    let jobs: VecDeque<Job> = state
        .jobs
        .list_jobs(group.id)
        .await?
        .into_iter()
        .filter(|j| j.status == JobStatus::Completed)
        .collect();
    Ok(Pages {
        archive: state.archive.clone(),
        endpoint,
        group,
        jobs,
        page: 0,
        format,
        header: None,
    })
}

/// Streams the group's rows.
#[utoipa::path(get, path = "/v1/job-groups/{id}/results", tag = "job groups",
    params(("id" = String, Path, description = "job group id"),
           ("format" = Option<String>, Query, description = "`ndjson` (default) or `csv`")),
    responses(
        (status = 200, description = "one JSON object per row (NDJSON), or CSV with a header row",
         content((String = "application/x-ndjson"), (String = "text/csv"))),
        Errors))]
pub async fn export(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let pages = pages(&state, &user, &id, q.format.as_deref()).await?;
    let format = pages.format;
    let stream = futures::stream::unfold(pages, |mut p| async move {
        match p.next_chunk().await {
            Ok(Some((chunk, _))) => Some((Ok::<_, std::io::Error>(chunk), p)),
            Ok(None) => None,
            Err(e) => {
                // Headers are gone by now: the stream ends early, and the log says why.
                tracing::error!(error = %e, "results export stopped");
                Some((Err(std::io::Error::other(e)), p.finished()))
            }
        }
    });
    let (kind, ext) = (format.content_type(), format.extension());
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.{ext}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Where the export stands: the jobs left, the next page of the first.
struct Pages {
    archive: std::sync::Arc<dyn RawArchive>,
    endpoint: &'static Endpoint,
    group: JobGroup,
    jobs: VecDeque<Job>,
    page: u32,
    format: Format,
    /// CSV columns: the first row's fields (rows of one endpoint share them).
    header: Option<Vec<String>>,
}

impl Pages {
    fn finished(mut self) -> Self {
        self.jobs.clear();
        self
    }

    /// The next page's rows rendered, and how many, or `None` at the end.
    async fn next_chunk(&mut self) -> anyhow::Result<Option<(Bytes, u64)>> {
        loop {
            let Some(job) = self.jobs.front() else {
                return Ok(None);
            };
            let pages = job.response_data.as_ref().map_or(0, |d| d.pages);
            if self.page >= pages {
                self.jobs.pop_front();
                self.page = 0;
                continue;
            }
            let key = JobPrefix::new(self.group.user_id, self.group.id, job.id).page(self.page);
            self.page += 1;
            let body = self
                .archive
                .get(&key)
                .await?
                .ok_or_else(|| anyhow::anyhow!("archived page {key} is missing"))?;
            // Parsed as at the job's end, so a bar still open when it ran stays out.
            let at = job.completed_at.unwrap_or_else(chrono::Utc::now);
            let rows = page_rows(
                self.endpoint,
                &self.group.params,
                job.symbol.as_ref(),
                at,
                &body,
            )?;
            if rows.is_empty() {
                continue;
            }
            return Ok(Some((self.render(&rows)?, rows.len() as u64)));
        }
    }

    fn render(&mut self, rows: &[Row]) -> anyhow::Result<Bytes> {
        match self.format {
            Format::Ndjson => {
                let mut out = Vec::new();
                for row in rows {
                    serde_json::to_writer(&mut out, row)?;
                    out.push(b'\n');
                }
                Ok(out.into())
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                if self.header.is_none() {
                    let columns: Vec<String> = rows[0].keys().cloned().collect();
                    w.write_record(columns.iter().map(|c| guarded(c)))?;
                    self.header = Some(columns);
                }
                let columns = self.header.as_deref().unwrap_or_default();
                for row in rows {
                    w.write_record(
                        columns
                            .iter()
                            .map(|c| row.get(c.as_str()).map_or_else(String::new, cell)),
                    )?;
                }
                Ok(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?.into())
            }
        }
    }
}

/// A JSON value as a CSV cell: text as is (guarded, [`guarded`]), null as empty, numbers and
/// flags as JSON writes them.
pub(crate) fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => guarded(s),
        other => other.to_string(),
    }
}

/// Text a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return: OWASP's CSV injection) gets a leading `'`, which makes it text. A number
/// written as text (`-12.5`, as J-Quants sends some) is a number to a spreadsheet, not a
/// formula, and stays byte for byte.
pub(crate) fn guarded(s: &str) -> String {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = s.parse::<f64>().is_ok() && s.chars().all(|c| "0123456789+-.eE".contains(c));
    if risky && !number {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        for (given, shown) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-12.5", "-12.5"),
            ("+3", "+3"),
            ("-1.2e-3", "-1.2e-3"),
            ("-", "'-"),
            ("Toyota", "Toyota"),
            ("", ""),
        ] {
            assert_eq!(guarded(given), shown, "{given}");
        }
        assert_eq!(cell(&serde_json::json!(-12.5)), "-12.5");
        assert_eq!(cell(&serde_json::json!("=1")), "'=1");
    }
}
