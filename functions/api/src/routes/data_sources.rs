//! `GET /v1/data-sources`: the enabled data sources and their endpoints.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use shared::catalog::ENDPOINTS;
use shared::domain::{ApiVersion, DataSourceId, Plan, ProviderType};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, Errors};
use crate::state::AppState;

/// The data sources a user may fetch from.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataSources {
    data: Vec<DataSourceView>,
}

/// One data source and its endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataSourceView {
    id: DataSourceId,
    name: String,
    description: String,
    provider_type: ProviderType,
    api_version: ApiVersion,
    endpoints: Vec<EndpointView>,
}

/// An endpoint of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    /// The id a job group names, e.g. `eq-bars-daily`.
    id: &'static str,
    name: &'static str,
    /// The lowest plan that may call it.
    min_plan: Plan,
}

/// Lists the data sources a user may fetch from, each with its endpoints.
#[utoipa::path(get, path = "/v1/data-sources", tag = "data sources",
    responses((status = 200, body = DataSources), Errors))]
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<DataSources>, ApiError> {
    let sources = state.sources.list_data_sources().await?;
    let data = sources
        .into_iter()
        .filter(|ds| ds.is_enabled)
        .map(|ds| DataSourceView {
            endpoints: ENDPOINTS
                .iter()
                .filter(|e| e.data_source == ds.id.as_str())
                .map(|e| EndpointView {
                    id: e.id,
                    name: e.name,
                    min_plan: e.min_plan,
                })
                .collect(),
            id: ds.id,
            name: ds.name,
            description: ds.description,
            provider_type: ds.provider_type,
            api_version: ds.api_version,
        })
        .collect();
    Ok(Json(DataSources { data }))
}
