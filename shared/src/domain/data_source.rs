//! System-managed data sources. Users cannot add one; administrators seed and tune them.

use serde::{Deserialize, Serialize};

use super::DataSourceId;

/// Which provider protocol a data source speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProviderType {
    /// J-Quants (JPX's official API).
    Jquants,
    /// Yahoo Finance.
    Yfinance,
}

/// The provider API generation (J-Quants: `v2` current, `v1` legacy token flow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ApiVersion {
    /// The token flow retired by J-Quants on 2026-06-01.
    V1,
    /// `x-api-key` authentication.
    V2,
}

/// A provider definition (data-model.md "DataSource").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataSource {
    /// The id, e.g. `jquants-v2`.
    pub id: DataSourceId,
    /// Display name.
    pub name: String,
    /// What it offers.
    pub description: String,
    /// The protocol.
    pub provider_type: ProviderType,
    /// Disabled sources accept no new job groups.
    pub is_enabled: bool,
    /// Where requests go: the real provider, or the local sandbox.
    pub base_url: String,
    /// The API generation.
    pub api_version: ApiVersion,
    /// Requests per minute across the deployment, on top of per-plan limits.
    pub rate_limit_per_minute: u32,
    /// Requests per hour.
    pub rate_limit_per_hour: u32,
    /// Requests per day.
    pub rate_limit_per_day: u32,
}

impl DataSource {
    /// The J-Quants V2 source as deployed against the real API, pointed at `base_url`.
    pub fn jquants_v2(base_url: impl Into<String>) -> Self {
        Self {
            id: DataSourceId::parse("jquants-v2").expect("static id is valid"),
            name: "J-Quants".into(),
            description: "JPX's official Japanese equities API, V2 (x-api-key)".into(),
            provider_type: ProviderType::Jquants,
            is_enabled: true,
            base_url: base_url.into(),
            api_version: ApiVersion::V2,
            rate_limit_per_minute: 500,
            rate_limit_per_hour: 30_000,
            rate_limit_per_day: 720_000,
        }
    }
}
