//! HTTP to J-Quants: reqwest with rustls, gzip, timeouts and a shared connection pool, under
//! the rules of `crate::provider`'s HTTP layer (https only, no redirects, bodies capped).

use std::time::Duration;

use secrecy::SecretString;

use super::ApiKey;
use crate::catalog::Endpoint;
use crate::provider::{
    Auth, DEFAULT_MAX_BODY, Page, ProviderError, client_builder, read_capped, retry_after, send,
};

/// A V1 data request: where, which array holds the rows, and the query.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// The V1 base URL, e.g. `https://api.jquants.com/v1`.
    pub base_url: &'a str,
    /// The route below it, e.g. `/prices/daily_quotes`.
    pub path: &'a str,
    /// The response's array key, e.g. `daily_quotes`.
    pub data_key: &'a str,
    /// Query parameters.
    pub query: &'a [(String, String)],
    /// `pagination_key` of the page wanted; `None` for the first.
    pub pagination_key: Option<&'a str>,
}

/// One page of rows as served, and the key of the next page, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPage {
    /// Rows of this page, as JSON.
    pub rows: Vec<serde_json::Value>,
    /// `pagination_key` to send for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// A J-Quants client. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct JQuantsClient {
    pub(super) http: reqwest::Client,
    max_body: u64,
}

impl JQuantsClient {
    /// A client whose requests time out after `timeout` (the whole answer, body included),
    /// reading bodies up to [`DEFAULT_MAX_BODY`].
    pub fn new(timeout: Duration) -> Self {
        let http = client_builder(timeout)
            .user_agent(concat!("moomoo-markets/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        Self {
            http,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Reads bodies up to `bytes` (decompressed) instead of [`DEFAULT_MAX_BODY`]; an endpoint
    /// with a lower cap of its own keeps it.
    pub fn with_max_body(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }

    /// The most an answer of `endpoint` may weigh: its own cap, within the client's.
    fn cap(&self, endpoint: &Endpoint) -> u64 {
        endpoint
            .max_body_bytes
            .map_or(self.max_body, |c| c.min(self.max_body))
    }

    /// Fetches one page of `endpoint` under `base_url` (`x-api-key`, as V2 wants).
    ///
    /// # Errors
    /// The provider's refusal or failure, classified by [`ProviderError::from_status`].
    pub async fn get_page(
        &self,
        base_url: &str,
        endpoint: &Endpoint,
        query: &[(String, String)],
        api_key: &SecretString,
        pagination_key: Option<&str>,
    ) -> Result<Page, ProviderError> {
        let auth = ApiKey::new(api_key.clone());
        self.get_page_with(base_url, endpoint, query, &auth, pagination_key)
            .await
    }

    /// [`JQuantsClient::get_page`] with any [`Auth`]: a V1 endpoint of the catalog with
    /// [`V1Auth`](super::V1Auth).
    ///
    /// # Errors
    /// As [`JQuantsClient::get_page`], plus `auth`'s failures to renew.
    pub async fn get_page_with(
        &self,
        base_url: &str,
        endpoint: &Endpoint,
        query: &[(String, String)],
        auth: &dyn Auth,
        pagination_key: Option<&str>,
    ) -> Result<Page, ProviderError> {
        let url = format!("{}{}", base_url.trim_end_matches('/'), endpoint.path);
        let cap = self.cap(endpoint);
        match self.fetch(&url, query, auth, pagination_key, cap).await? {
            Fetched::Body(body) => parse_page(endpoint, body, pagination_key),
            Fetched::NoContent => Ok(Page {
                records: Vec::new(),
                next: None,
                raw: bytes::Bytes::new(),
            }),
        }
    }

    /// One page of a V1 data route (`path` such as `/prices/daily_quotes`, rows under
    /// `request.data_key` such as `daily_quotes`), as served: V1 rows keep V1's field names,
    /// which the typed datasets do not read.
    ///
    /// # Errors
    /// As [`JQuantsClient::get_page_with`].
    pub async fn get_raw_page(
        &self,
        request: &RawRequest<'_>,
        auth: &dyn Auth,
    ) -> Result<RawPage, ProviderError> {
        let url = format!("{}{}", request.base_url.trim_end_matches('/'), request.path);
        let body = match self
            .fetch(
                &url,
                request.query,
                auth,
                request.pagination_key,
                self.max_body,
            )
            .await?
        {
            Fetched::Body(body) => body,
            Fetched::NoContent => {
                return Ok(RawPage {
                    rows: Vec::new(),
                    next: None,
                });
            }
        };
        let mut json: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&body).map_err(|e| ProviderError::unreadable(&e))?;
        let Some(serde_json::Value::Array(rows)) = json.remove(request.data_key) else {
            let key = request.data_key;
            return Err(ProviderError::Malformed(format!("no `{key}` array")));
        };
        let next = json
            .get("pagination_key")
            .and_then(|k| k.as_str())
            .filter(|k| !k.is_empty())
            .map(str::to_owned);
        refuse_repeat(request.pagination_key, next.as_deref())?;
        Ok(RawPage { rows, next })
    }

    async fn fetch(
        &self,
        url: &str,
        query: &[(String, String)],
        auth: &dyn Auth,
        pagination_key: Option<&str>,
        cap: u64,
    ) -> Result<Fetched, ProviderError> {
        let resp = send(auth, || {
            let mut req = self.http.get(url).query(query);
            if let Some(key) = pagination_key {
                req = req.query(&[("pagination_key", key)]);
            }
            req
        })
        .await?;
        let status = resp.status().as_u16();
        let retry_after = retry_after(&resp);
        let body = read_capped(resp, cap).await?;
        match status {
            200 => Ok(Fetched::Body(body)),
            // 210 "No Content (Partial)": outside the time window or an unknown code.
            210 => Ok(Fetched::NoContent),
            _ => Err(ProviderError::from_status(
                status,
                retry_after,
                &String::from_utf8_lossy(&body),
            )),
        }
    }
}

enum Fetched {
    Body(bytes::Bytes),
    NoContent,
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

/// A page whose next key is the key it was asked with would be asked for again and again.
fn refuse_repeat(sent: Option<&str>, next: Option<&str>) -> Result<(), ProviderError> {
    match (sent, next) {
        (Some(sent), Some(next)) if sent == next => Err(ProviderError::repeated_key(next)),
        _ => Ok(()),
    }
}

fn parse_page(
    endpoint: &Endpoint,
    body: bytes::Bytes,
    sent: Option<&str>,
) -> Result<Page, ProviderError> {
    let page = endpoint.dataset.parse_page(&body).map_err(|e| match e {
        // Cut in transit: a transport fault like a 500, retried within the job's attempts.
        crate::dataset::PageError::Truncated(_) => ProviderError::Transient(e.to_string()),
        crate::dataset::PageError::Invalid(m) => ProviderError::Malformed(m),
    })?;
    let records = page.records.ok_or_else(|| {
        let key = endpoint.dataset.data_key();
        ProviderError::Malformed(format!("no `{key}` array"))
    })?;
    let next = page.pagination_key.filter(|k| !k.is_empty());
    refuse_repeat(sent, next.as_deref())?;
    Ok(Page {
        records,
        next,
        raw: body,
    })
}
