//! Rows read back from the raw payload archive: a page's rows as the provider's own JSON
//! objects (J-Quants: the page's rows array, every field kept; Yahoo: the records parsed from
//! the chart or quote), and a holding's rows over a range, merged by natural key with the
//! latest fetch winning.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::{Coverage, Span};
use crate::archive::{JobPrefix, RawArchive};
use crate::catalog::Endpoint;
use crate::dataset::DatasetKind;
use crate::domain::{IssueCode, JobId, parse_date};

/// A row: the provider's fields, in the provider's order.
pub type Row = Map<String, Value>;

/// The rows an archived page holds, for a job of `endpoint` with `params` on `symbol`, as
/// parsed at `at` (a Yahoo chart drops the bar still open then).
///
/// # Errors
/// A page that is not the endpoint's answer.
pub fn page_rows(
    endpoint: &Endpoint,
    params: &BTreeMap<String, String>,
    symbol: Option<&IssueCode>,
    at: DateTime<Utc>,
    body: &[u8],
) -> anyhow::Result<Vec<Row>> {
    if matches!(
        endpoint.dataset,
        DatasetKind::YahooChart | DatasetKind::YahooChartEvents | DatasetKind::YahooQuote
    ) {
        let code = symbol.ok_or_else(|| anyhow::anyhow!("a Yahoo job without a symbol"))?;
        let query: Vec<(String, String)> =
            params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let records = crate::yahoo::records_of(endpoint, body, code, &query, at)?;
        return Ok(records.iter().map(|r| r.to_json()).collect());
    }
    if body.is_empty() {
        // The provider answered "no content" (J-Quants' 210): a page without rows.
        return Ok(Vec::new());
    }
    let mut page: Value = serde_json::from_slice(body)?;
    Ok(
        match page.get_mut(endpoint.dataset.data_key()).map(Value::take) {
            Some(Value::Array(rows)) => rows
                .into_iter()
                .filter_map(|r| match r {
                    Value::Object(o) => Some(o),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        },
    )
}

/// The day a row is about: the first field of its natural key that holds a date.
pub fn row_day(endpoint: &Endpoint, row: &Row) -> Option<NaiveDate> {
    endpoint
        .natural_key
        .iter()
        .filter_map(|k| row.get(*k)?.as_str())
        .find_map(|v| parse_date(v.get(..10).unwrap_or(v)))
}

/// A row with its day's and its code's fields first (`Date`, `Code`; Yahoo's `date`, `code`),
/// the others in the provider's order.
pub fn day_and_code_first(row: Row) -> Row {
    let mut out = Map::with_capacity(row.len());
    let mut rest = row;
    for name in ["Date", "date", "Code", "code"] {
        if let Some(v) = rest.remove(name) {
            out.insert(name.to_owned(), v);
        }
    }
    out.extend(rest);
    out
}

/// The rows of `holding` over `want`, read from its fresh pieces' archived pages, merged by
/// natural key (a later fetch of a row replaces an earlier one), in natural-key order.
///
/// # Errors
/// An archived page missing or unreadable.
pub async fn holding_rows(
    archive: &dyn RawArchive,
    endpoint: &Endpoint,
    params: &BTreeMap<String, String>,
    holding: &Coverage,
    want: Span,
    now: DateTime<Utc>,
    retention: Option<chrono::TimeDelta>,
) -> anyhow::Result<Vec<Row>> {
    let symbol = IssueCode::parse(&holding.key.symbol).ok();
    let mut merged: BTreeMap<Vec<String>, Row> = BTreeMap::new();
    for (piece, (from, to)) in holding.to_read(want, now, retention) {
        // The job's own range: a Yahoo chart is parsed against the request that fetched it.
        let mut params = params.clone();
        params.insert("from".into(), piece.from.to_string());
        params.insert("to".into(), piece.to.to_string());
        let prefix = JobPrefix::new(holding.key.user, piece.group, JobId::new(piece.job));
        for page in 0..piece.pages {
            let key = prefix.page(page);
            let body = archive
                .get(&key)
                .await?
                .ok_or_else(|| anyhow::anyhow!("archived page {key} is missing"))?;
            for row in page_rows(endpoint, &params, symbol.as_ref(), piece.at, &body)? {
                if !row_day(endpoint, &row).is_some_and(|d| from <= d && d <= to) {
                    continue;
                }
                let natural: Vec<String> = endpoint
                    .natural_key
                    .iter()
                    .map(|k| match row.get(*k) {
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                        None => String::new(),
                    })
                    .collect();
                merged.insert(natural, row);
            }
        }
    }
    Ok(merged.into_values().map(day_and_code_first).collect())
}

/// Every row a completed `job` of `group` fetched, page after page, as exports give them.
///
/// # Errors
/// An archived page missing or unreadable.
pub async fn job_rows(
    archive: &dyn RawArchive,
    endpoint: &Endpoint,
    group: &crate::domain::JobGroup,
    job: &crate::domain::Job,
) -> anyhow::Result<Vec<Row>> {
    let prefix = JobPrefix::new(group.user_id, group.id, job.id);
    let at = job.completed_at.unwrap_or_else(Utc::now);
    let mut out = Vec::new();
    for page in 0..job.response_data.as_ref().map_or(0, |d| d.pages) {
        let key = prefix.page(page);
        let body = archive
            .get(&key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("archived page {key} is missing"))?;
        out.extend(page_rows(
            endpoint,
            &group.params,
            job.symbol.as_ref(),
            at,
            &body,
        )?);
    }
    Ok(out)
}
