//! System-managed data sources. Users cannot add one; administrators seed and tune them.

use std::net::IpAddr;

use reqwest::Url;
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

/// Why a URL is refused as where provider requests go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    /// Not an absolute URL.
    #[error("`{0}` is not an absolute URL")]
    Invalid(String),
    /// Neither https nor plain http to this machine.
    #[error(
        "`{0}` must use https: requests carry credentials, so plain http is allowed only to this machine (127.0.0.0/8, ::1, localhost)"
    )]
    NotHttps(String),
}

impl DataSource {
    /// Checks `url` as a data source's `base_url`: https, or plain http to a loopback host
    /// (the local sandbox). Every provider request is checked against the same rule.
    ///
    /// # Errors
    /// [`BaseUrlError`] naming the URL, without its query (it may carry a token).
    pub fn check_base_url(url: &str) -> Result<(), BaseUrlError> {
        let parsed = Url::parse(url).map_err(|_| BaseUrlError::Invalid(shown(url)))?;
        match parsed.scheme() {
            "https" if parsed.has_host() => Ok(()),
            "http" if is_loopback(&parsed) => Ok(()),
            _ => Err(BaseUrlError::NotHttps(shown(url))),
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// `url` up to its query, at most 200 characters.
fn shown(url: &str) -> String {
    let base = url.split(['?', '#']).next().unwrap_or_default();
    base.chars().take(200).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_https_or_loopback_http() {
        for ok in [
            "https://api.jquants.com/v2",
            "https://query2.finance.yahoo.com",
            "http://127.0.0.1:41234/v2",
            "http://127.8.9.10/v1",
            "http://[::1]:8080/yahoo",
            "http://localhost:3000/v2",
            "http://LOCALHOST/v2",
        ] {
            assert_eq!(DataSource::check_base_url(ok), Ok(()), "{ok}");
        }
        for refused in [
            "http://api.jquants.com/v2",
            "http://10.0.0.1/v2",
            "http://[::2]/v2",
            "http://localhost.evil.example/v2",
            "http://127.0.0.1.nip.io/v2",
            "ftp://127.0.0.1/v2",
            "file:///etc/passwd",
        ] {
            assert!(
                matches!(
                    DataSource::check_base_url(refused),
                    Err(BaseUrlError::NotHttps(_))
                ),
                "{refused}"
            );
        }
        assert!(matches!(
            DataSource::check_base_url("api.jquants.com/v2"),
            Err(BaseUrlError::Invalid(_))
        ));
    }

    #[test]
    fn a_refused_url_is_named_without_its_query() {
        let e = DataSource::check_base_url("http://evil.example/t?refreshtoken=s3cret")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("http://evil.example/t") && !e.contains("s3cret"),
            "{e}"
        );
    }
}
