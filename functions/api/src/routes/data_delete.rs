//! Deleting held data: a series' symbols over a range (`DELETE /v1/data/{data_source}/
//! {endpoint}`), or everything a user has (`DELETE /v1/admin/users/{id}/data`, for account
//! deletion): holdings, the archived pages behind them and the user's exports.
//!
//! A piece wholly inside the deleted range goes with its pages; a piece that straddles it is
//! cut to what is left, its pages kept for those days (the deleted days are then neither
//! served nor counted as held).

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::archive::JobPrefix;
use shared::domain::{JobId, UserId};
use shared::holdings::{Coverage, Piece, subtract};

use crate::auth::{Admin, Caller};
use crate::error::{ApiError, Errors};
use crate::extract::ApiQuery;
use crate::routes::data::parse_read;
use crate::state::AppState;

/// What a deletion removed.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// Holdings changed or removed.
    holdings_changed: u64,
    /// Pieces removed whole.
    pieces_removed: u64,
    /// Objects deleted from the bucket (archived pages, exports).
    objects_deleted: u64,
}

/// `DELETE /v1/data/{data_source}/{endpoint}?symbols=&from=&to=`: without `symbols`, every
/// symbol held of the series; without `from`/`to`, every day.
#[utoipa::path(delete, path = "/v1/data/{data_source}/{endpoint}", tag = "data",
    params(("data_source" = String, Path, description = "data source id"),
           ("endpoint" = String, Path, description = "endpoint id"),
           ("symbols" = Option<String>, Query, description = "comma-separated; every held symbol when absent"),
           ("from" = Option<String>, Query, description = "first day, YYYY-MM-DD (with `to`)"),
           ("to" = Option<String>, Query, description = "last day, YYYY-MM-DD (with `from`)")),
    responses((status = 200, body = Deleted), Errors))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path((data_source, endpoint)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<BTreeMap<String, String>>,
) -> Result<Json<Deleted>, ApiError> {
    let read = parse_read(&state, &data_source, &endpoint, &query, false).await?;
    let mut deleted = Deleted::default();
    for holding in read.holdings(&state, &user).await? {
        cut(&state, holding, read.range, &mut deleted).await?;
    }
    tracing::info!(
        holdings = deleted.holdings_changed,
        pieces = deleted.pieces_removed,
        objects = deleted.objects_deleted,
        "held data deleted"
    );
    Ok(Json(deleted))
}

/// `DELETE /v1/admin/users/{id}/data`: every holding of the user, the user's whole archive and
/// exports.
#[utoipa::path(delete, path = "/v1/admin/users/{id}/data", tag = "admin",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = Deleted), Errors))]
pub async fn delete_user_data(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    let user = UserId::parse(&id).map_err(|_| ApiError::NotFound("user"))?;
    let mut deleted = Deleted::default();
    for mut holding in state.holdings.user_holdings(user).await? {
        deleted.pieces_removed += holding.pieces.len() as u64;
        deleted.holdings_changed += 1;
        holding.pieces.clear();
        state.holdings.replace(&holding).await?;
    }
    for prefix in [format!("raw/{user}/"), format!("exports/{user}/")] {
        deleted.objects_deleted += state
            .archive
            .delete_prefix(&prefix)
            .await
            .map_err(|e| ApiError::Unavailable(anyhow::Error::new(e)))?;
    }
    tracing::info!(admin = %admin.id, user = %user, objects = deleted.objects_deleted, "a user's data deleted");
    Ok(Json(deleted))
}

/// Cuts `range` (everything when `None`) out of `holding`.
async fn cut(
    state: &AppState,
    mut holding: Coverage,
    range: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    deleted: &mut Deleted,
) -> Result<(), ApiError> {
    let mut kept: Vec<Piece> = Vec::with_capacity(holding.pieces.len());
    let (mut removed, mut changed) = (Vec::new(), false);
    for piece in std::mem::take(&mut holding.pieces) {
        let left = range.map_or_else(Vec::new, |r| subtract((piece.from, piece.to), &[r]));
        if left == [(piece.from, piece.to)] {
            kept.push(piece);
            continue;
        }
        changed = true;
        kept.extend(left.iter().map(|&(from, to)| Piece {
            from,
            to,
            ..piece.clone()
        }));
        if left.is_empty() {
            removed.push(piece);
        }
    }
    if !changed {
        return Ok(());
    }
    // A job's pages go once no piece left needs any of its days.
    let still_used: BTreeSet<(String, u32)> =
        kept.iter().map(|p| (p.group.to_string(), p.job)).collect();
    for piece in &removed {
        deleted.pieces_removed += 1;
        if still_used.contains(&(piece.group.to_string(), piece.job)) {
            continue;
        }
        let prefix = JobPrefix::new(holding.key.user, piece.group, JobId::new(piece.job));
        deleted.objects_deleted += state
            .archive
            .delete_prefix(prefix.as_str())
            .await
            .map_err(|e| ApiError::Unavailable(anyhow::Error::new(e)))?;
    }
    holding.pieces = kept;
    state.holdings.replace(&holding).await?;
    deleted.holdings_changed += 1;
    Ok(())
}
