//! What a user holds: for every data source, series (an endpoint and its non-date parameters)
//! and symbol, the date ranges fetched whole, and which of them are still fresh.
//!
//! The rows themselves stay where the fetcher put them, in the raw payload archive (one
//! compressed object per provider page, byte for byte what the provider sent): a [`Piece`]
//! names a completed job whose pages hold the rows of its range. Reads merge the pieces of a
//! symbol by natural key, the latest fetch winning, and ask the provider only for what no fresh
//! piece covers.
//!
//! A corporate action (a split, a dividend) rewrites the provider's adjusted history before its
//! date. When a fetch reveals one the holding did not know, every piece fetched before that
//! moment is stale for the days before the action: those days count as missing again, and a
//! stale row is never served.

pub mod read;

use crate::dataset::{DatasetKind, FieldValue, Record};

use chrono::{DateTime, NaiveDate, Utc};

use crate::catalog::{Endpoint, SymbolUse};
use crate::domain::{Job, JobGroup, Split};

pub use crate::domain::holding::{
    Coverage, Held, HoldingKey, NO_SYMBOL, Piece, Span, exchange_date, merge, subtract,
};

/// The piece a completed `job` of `group` holds, when its range is known and whole: a job of
/// one symbol (or of a series without symbols) over `from`/`to` or one `date`. Days from the
/// exchange's date of `at` on are left out: their rows may not be published yet. `None` for a
/// job of every issue on one trading day, or without a range.
pub fn held_of(
    endpoint: &Endpoint,
    group: &JobGroup,
    job: &Job,
    at: DateTime<Utc>,
    pages: u32,
    rows: u64,
    bytes: u64,
) -> Option<Held> {
    if group.split != Split::PerSymbol {
        return None;
    }
    let symbol = match (&job.symbol, endpoint.symbols) {
        (Some(code), _) => code.as_str().to_owned(),
        (None, SymbolUse::None) => NO_SYMBOL.to_owned(),
        (None, _) => return None,
    };
    let range = group.range()?;
    let to = range.to().min(exchange_date(at).pred_opt()?);
    if to < range.from() {
        return None;
    }
    Some(Held {
        key: HoldingKey {
            user: group.user_id,
            data_source: group.data_source_id.clone(),
            series: HoldingKey::series_of(endpoint.id, &group.params),
            symbol,
        },
        piece: Piece {
            from: range.from(),
            to,
            group: group.id,
            job: job.id.index(),
            pages,
            rows,
            bytes,
            at,
        },
        events: Vec::new(),
    })
}

/// Days of corporate actions a page of `endpoint` shows: J-Quants daily bars with an
/// adjustment factor other than 1 (a split or a consolidation takes effect that day); Yahoo's
/// daily chart, its dividends and splits (`raw` is the page as received, `query` the job's).
pub fn actions(
    endpoint: &Endpoint,
    records: &[Record],
    raw: &[u8],
    symbol: Option<&crate::domain::IssueCode>,
    query: &[(String, String)],
    now: DateTime<Utc>,
) -> Vec<NaiveDate> {
    let factor = match endpoint.dataset {
        DatasetKind::EqBarsDaily => "AdjFactor",
        DatasetKind::V1DailyQuotes => "AdjustmentFactor",
        DatasetKind::YahooChart => {
            return symbol.map_or_else(Vec::new, |code| {
                crate::yahoo::actions_of(endpoint, raw, code, query, now)
            });
        }
        _ => return Vec::new(),
    };
    records
        .iter()
        .filter(|r| {
            r.fields.iter().any(|(name, value)| {
                name == factor && matches!(value, FieldValue::Number(f) if (*f - 1.0).abs() > 1e-12)
            })
        })
        .filter_map(|r| {
            r.fields.iter().find_map(|(name, value)| match value {
                FieldValue::Text(day) if name == "Date" => crate::domain::parse_date(day),
                _ => None,
            })
        })
        .collect()
}
