//! HTTP to Yahoo: one reqwest client with rustls, gzip and a desktop browser's headers (a
//! default library User-Agent gets 429s, reference §1.5), chart without a crumb, quote with
//! the shared [`CrumbAuth`], under the rules of `crate::provider`'s HTTP layer (https only,
//! no redirects, bodies capped).

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, HeaderMap, HeaderValue};

use super::chart::{Chart, ChartRequest, parse_chart};
use super::error::{classify, is_html, is_rate_limit_text};
use super::quote::{Quote, parse_quotes};
use super::session::{CrumbAuth, DEFAULT_CRUMB_TTL};
use super::symbol::yahoo_symbol;
use crate::catalog::Endpoint;
use crate::clock::Clock;
use crate::dataset::DatasetKind;
use crate::domain::IssueCode;
use crate::provider::{
    Anonymous, Auth, DEFAULT_MAX_BODY, ProviderError, client_builder, read_capped, retry_after,
    send,
};

/// The User-Agent of yfinance's non-impersonating fallback (reference §1.5).
pub const USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// Where Yahoo lives and how long to wait for it.
#[derive(Debug, Clone)]
pub struct YahooConfig {
    /// Data host: `https://query2.finance.yahoo.com`, or the sandbox's `/yahoo`.
    pub base_url: String,
    /// Cookie host: `https://fc.yahoo.com/`, or the sandbox's `/yahoo/`.
    pub cookie_url: String,
    /// Per-request timeout.
    pub timeout: Duration,
    /// How long a crumb is reused.
    pub crumb_ttl: TimeDelta,
    /// The most an answer may weigh, decompressed (an endpoint's lower cap wins).
    pub max_body: u64,
}

impl YahooConfig {
    /// The real hosts, a 20 s timeout and [`DEFAULT_CRUMB_TTL`].
    pub fn production() -> Self {
        Self::at("https://query2.finance.yahoo.com", "https://fc.yahoo.com/")
    }

    /// The hosts of a data source whose `base_url` is Yahoo's data host: the real cookie host
    /// for Yahoo's own hosts, `<base_url>/` for anything else (the sandbox serves both).
    pub fn for_base_url(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        if base.ends_with(".finance.yahoo.com") {
            Self::at(base, "https://fc.yahoo.com/")
        } else {
            Self::at(base, &format!("{base}/"))
        }
    }

    /// Other hosts (the sandbox), with the production timeout and crumb lifetime.
    pub fn at(base_url: &str, cookie_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            cookie_url: cookie_url.to_owned(),
            timeout: Duration::from_secs(20),
            crumb_ttl: DEFAULT_CRUMB_TTL,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// A Yahoo Finance client. Share one per process (`Arc`): it holds the crumb.
#[derive(Debug)]
pub struct YahooClient {
    http: reqwest::Client,
    base_url: String,
    pub(super) clock: Arc<dyn Clock>,
    crumb: CrumbAuth,
    max_body: u64,
}

impl YahooClient {
    /// A client for `config`, reading time from `clock`.
    pub fn new(config: &YahooConfig, clock: Arc<dyn Clock>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
        );
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("en-US,en;q=0.5"));
        let http = client_builder(config.timeout)
            // Named explicitly: another crate turning on native-tls through feature
            // unification made Yahoo answer non-JSON (reference §5, yfa#76/#79).
            .tls_backend_rustls()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .build()
            .expect("the TLS backend initialises");
        let crumb = CrumbAuth::new(
            http.clone(),
            &config.cookie_url,
            &config.base_url,
            Arc::clone(&clock),
            config.crumb_ttl,
        );
        Self {
            http,
            base_url: config.base_url.clone(),
            clock,
            crumb,
            max_body: config.max_body,
        }
    }

    /// The most an answer of `endpoint` may weigh: its own cap, within the client's.
    pub(crate) fn cap(&self, endpoint: Option<&Endpoint>) -> u64 {
        endpoint
            .and_then(|e| e.max_body_bytes)
            .map_or(self.max_body, |c| c.min(self.max_body))
    }

    /// Bars, dividends and splits of `code` (no crumb needed).
    ///
    /// # Errors
    /// [`ProviderError::BadRequest`] before any request when `request` breaks Yahoo's limits
    /// or `code` has no Yahoo symbol; Yahoo's answers as [`ProviderError`].
    pub async fn chart(
        &self,
        code: &IssueCode,
        request: &ChartRequest,
    ) -> Result<Chart, ProviderError> {
        let body = self.chart_body(code, request, self.cap(None)).await?;
        parse_chart(&body, code, request, self.clock.now())
    }

    /// The chart's body as received.
    pub(super) async fn chart_body(
        &self,
        code: &IssueCode,
        request: &ChartRequest,
        cap: u64,
    ) -> Result<Vec<u8>, ProviderError> {
        let symbol = symbol_of(code)?;
        request.validate(self.clock.now())?;
        let (period1, period2) = request.period();
        let url = format!("{}/v8/finance/chart/{symbol}", self.base_url);
        let query = [
            ("period1", period1.to_string()),
            ("period2", period2.to_string()),
            ("interval", request.interval.as_str().to_owned()),
            ("includePrePost", "false".to_owned()),
            ("events", "div|split".to_owned()),
        ];
        self.get(&url, &query, &Anonymous, cap).await
    }

    /// The latest quotes of `codes` in one request (cookie + crumb). Codes Yahoo does not
    /// know are missing from the answer.
    ///
    /// # Errors
    /// [`ProviderError::BadRequest`] when a code has no Yahoo symbol; Yahoo's answers as
    /// [`ProviderError`], with [`ProviderError::Auth`] when a renewed crumb is refused too.
    pub async fn quote(&self, codes: &[IssueCode]) -> Result<Vec<Quote>, ProviderError> {
        parse_quotes(&self.quote_body(codes, self.cap(None)).await?)
    }

    /// The quotes' body as received.
    pub(super) async fn quote_body(
        &self,
        codes: &[IssueCode],
        cap: u64,
    ) -> Result<Vec<u8>, ProviderError> {
        let symbols = codes
            .iter()
            .map(symbol_of)
            .collect::<Result<Vec<_>, _>>()?
            .join(",");
        let url = format!("{}/v7/finance/quote", self.base_url);
        let query = [
            ("symbols", symbols),
            ("formatted", "false".to_owned()),
            ("lang", "en-US".to_owned()),
            ("region", "US".to_owned()),
        ];
        self.get(&url, &query, &self.crumb, cap).await
    }

    /// Requests the next call of `endpoint` makes before its own (cookie and crumb).
    pub async fn renewal_requests(&self, endpoint: &Endpoint) -> u32 {
        if endpoint.dataset == DatasetKind::YahooQuote {
            self.crumb.renewal_requests().await
        } else {
            0
        }
    }

    /// A 200 body that is data: rate-limit text and HTML are recognised before any JSON
    /// parsing, whatever the status.
    async fn get(
        &self,
        url: &str,
        query: &[(&str, String)],
        auth: &dyn Auth,
        cap: u64,
    ) -> Result<Vec<u8>, ProviderError> {
        let response = send(auth, || self.http.get(url).query(query)).await?;
        let status = response.status().as_u16();
        let after = retry_after(&response);
        let body = read_capped(response, cap).await?;
        let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
        if status != 200 || is_rate_limit_text(&text) || is_html(&text) {
            return Err(classify(status, after, &String::from_utf8_lossy(&body)));
        }
        Ok(body.to_vec())
    }
}

fn symbol_of(code: &IssueCode) -> Result<String, ProviderError> {
    yahoo_symbol(code).ok_or_else(|| {
        ProviderError::BadRequest(format!("{code} is not a common stock with a Yahoo symbol"))
    })
}
