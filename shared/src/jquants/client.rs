//! HTTP to J-Quants: reqwest with rustls, gzip, timeouts and a shared connection pool.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::ProviderError;
use crate::catalog::Endpoint;
use crate::dataset::Record;

/// One page of an endpoint's rows and the key of the next page, if any.
#[derive(Debug)]
pub struct Page {
    /// Rows of this page.
    pub records: Vec<Record>,
    /// `pagination_key` to send for the next page; `None` on the last page.
    pub next: Option<String>,
    /// The body exactly as received (for the raw archive).
    pub raw: bytes::Bytes,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    pagination_key: Option<String>,
}

/// A J-Quants client. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct JQuantsClient {
    http: reqwest::Client,
}

impl JQuantsClient {
    /// A client whose requests time out after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("moomoo-markets/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        Self { http }
    }

    /// Fetches one page of `endpoint` under `base_url` (V2, `x-api-key`).
    pub async fn get_page(
        &self,
        base_url: &str,
        endpoint: &Endpoint,
        query: &[(String, String)],
        api_key: &SecretString,
        pagination_key: Option<&str>,
    ) -> Result<Page, ProviderError> {
        let url = format!("{}{}", base_url.trim_end_matches('/'), endpoint.path);
        let mut req = self
            .http
            .get(url)
            .header("x-api-key", api_key.expose_secret())
            .query(query);
        if let Some(key) = pagination_key {
            req = req.query(&[("pagination_key", key)]);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| ProviderError::Transient(describe(&e)))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = resp
            .bytes()
            .await
            .map_err(|e| ProviderError::Transient(describe(&e)))?;
        match status {
            200 => parse_page(endpoint, body),
            // 210 "No Content (Partial)": outside the time window or an unknown code.
            210 => Ok(Page {
                records: Vec::new(),
                next: None,
                raw: body,
            }),
            _ => Err(ProviderError::from_status(
                status,
                retry_after,
                &String::from_utf8_lossy(&body),
            )),
        }
    }
}

impl JQuantsClient {
    /// Checks a V2 API key with one cheap request (one issue, one day, 100 days back: inside
    /// every plan's window). `Ok` when the provider accepts the key.
    pub async fn verify_key(
        &self,
        base_url: &str,
        api_key: &SecretString,
        today: chrono::NaiveDate,
    ) -> Result<(), ProviderError> {
        let endpoint = crate::catalog::ENDPOINTS
            .iter()
            .find(|e| e.id == "eq-bars-daily")
            .expect("eq-bars-daily is in the catalog");
        let day = (today - chrono::Days::new(100))
            .format("%Y-%m-%d")
            .to_string();
        let query = [
            ("code".to_owned(), "72030".to_owned()),
            ("date".to_owned(), day),
        ];
        self.get_page(base_url, endpoint, &query, api_key, None)
            .await
            .map(|_| ())
    }
}

fn describe(e: &reqwest::Error) -> String {
    // Never the URL: it may carry query parameters a user considers private.
    if e.is_timeout() {
        "request timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "connection error".into()
    }
}

fn parse_page(endpoint: &Endpoint, body: bytes::Bytes) -> Result<Page, ProviderError> {
    let env: Envelope<'_> =
        serde_json::from_slice(&body).map_err(|e| ProviderError::Malformed(e.to_string()))?;
    let data = env
        .data
        .ok_or_else(|| ProviderError::Malformed("no `data` array".into()))?;
    let records = endpoint
        .dataset
        .parse_rows(data)
        .map_err(ProviderError::Malformed)?;
    let next = env.pagination_key.filter(|k| !k.is_empty());
    Ok(Page {
        records,
        next,
        raw: body,
    })
}
