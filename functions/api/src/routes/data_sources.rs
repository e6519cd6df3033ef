//! `GET /v1/data-sources`: the enabled data sources and their endpoints.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use shared::catalog::ENDPOINTS;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Lists the data sources a user may fetch from, each with the ids of its endpoints.
pub async fn list(State(state): State<AppState>, _caller: Caller) -> Result<Json<Value>, ApiError> {
    let sources = state.sources.list_data_sources().await?;
    let data: Vec<Value> = sources
        .iter()
        .filter(|ds| ds.is_enabled)
        .map(|ds| {
            let endpoints: Vec<Value> = ENDPOINTS
                .iter()
                .filter(|e| e.data_source == ds.id.as_str())
                .map(|e| json!({ "id": e.id, "name": e.name, "min_plan": e.min_plan }))
                .collect();
            json!({
                "id": ds.id, "name": ds.name, "description": ds.description,
                "provider_type": ds.provider_type, "api_version": ds.api_version,
                "endpoints": endpoints,
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })))
}
