//! A thin HTTP client of our API for the demo and the end-to-end tests.

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// Calls the API with an optional bearer key.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
}

/// A response: status and JSON body (or `Null`).
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Parsed body.
    pub body: Value,
}

impl ApiClient {
    /// A client of the API at `base`.
    pub fn new(base: &str, key: Option<&str>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').into(),
            key: key.map(Into::into),
        }
    }

    /// The key this client sends.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The same client with another key.
    pub fn with_key(&self, key: &str) -> Self {
        Self {
            key: Some(key.into()),
            ..self.clone()
        }
    }

    /// Sends `method path` with an optional JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Reply> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Reply { status, body })
    }

    /// `GET path` as text: status, `content-type`, body.
    pub async fn text(&self, path: &str) -> anyhow::Result<(u16, String, String)> {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let kind = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((status, kind, resp.text().await?))
    }

    /// Polls a job group until it ends (completed or failed); returns its last view. Fails
    /// after `limit`.
    pub async fn wait_for_group(
        &self,
        id: &str,
        limit: std::time::Duration,
    ) -> anyhow::Result<Value> {
        let start = std::time::Instant::now();
        loop {
            let g = self
                .expect(
                    reqwest::Method::GET,
                    &format!("/v1/job-groups/{id}"),
                    None,
                    200,
                )
                .await?;
            if matches!(g["status"].as_str(), Some("completed" | "failed")) {
                return Ok(g);
            }
            if start.elapsed() >= limit {
                bail!("group did not finish: {g}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    /// `GET /v1/data/...` as `moomoo data get` does it: while the API answers 202, waits for
    /// the groups it started and asks again. The rows (NDJSON) and every 202 answer met.
    pub async fn read_data(&self, path: &str) -> anyhow::Result<(Vec<Value>, Vec<Value>)> {
        let mut fetching = Vec::new();
        for _ in 0..5 {
            let (status, _, body) = self.text(path).await?;
            match status {
                200 => {
                    let rows = body
                        .lines()
                        .map(serde_json::from_str)
                        .collect::<Result<Vec<Value>, _>>()?;
                    return Ok((rows, fetching));
                }
                202 => {
                    let answer: Value = serde_json::from_str(&body)?;
                    for g in answer["groups"].as_array().cloned().unwrap_or_default() {
                        let id = g["id"].as_str().unwrap_or_default().to_owned();
                        let ended = self
                            .wait_for_group(&id, std::time::Duration::from_secs(300))
                            .await?;
                        if ended["status"] != "completed" {
                            bail!("group {id} did not complete: {ended}");
                        }
                    }
                    fetching.push(answer);
                }
                other => bail!("GET {path}: {other}: {body}"),
            }
        }
        bail!("GET {path}: still fetching after five rounds")
    }

    /// Like [`ApiClient::call`], failing unless the status is `want`.
    pub async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        want: u16,
    ) -> anyhow::Result<Value> {
        let r = self.call(method.clone(), path, body).await?;
        if r.status != want {
            bail!(
                "{method} {path}: expected {want}, got {}: {}",
                r.status,
                r.body
            );
        }
        Ok(r.body)
    }
}

/// The usual set-up as an operator and a user would do it: bootstrap an admin with the secret
/// from Secrets Manager, point the J-Quants data source at `jquants_base_url`, create a user and
/// store its J-Quants key. Returns the user's client.
pub async fn onboard_user(
    api: &ApiClient,
    admin_secret: &str,
    jquants_base_url: &str,
    jquants_key: &str,
    plan: &str,
) -> anyhow::Result<ApiClient> {
    let admin = onboard_admin(api, admin_secret, jquants_base_url).await?;
    add_user(api, &admin, jquants_key, plan).await
}

/// Bootstraps the first administrator with the admin secret and defines the J-Quants V2 data
/// source at `jquants_base_url`. Returns the administrator's client.
pub async fn onboard_admin(
    api: &ApiClient,
    admin_secret: &str,
    jquants_base_url: &str,
) -> anyhow::Result<ApiClient> {
    use reqwest::Method;
    let admin = api
        .with_key(admin_secret)
        .expect(
            Method::POST,
            "/v1/admin/bootstrap",
            Some(&json!({"name": "operator"})),
            201,
        )
        .await?;
    let admin = api.with_key(admin["api_key"].as_str().context("no admin key")?);
    let ds = json!({
        "name": "J-Quants", "description": "JPX J-Quants API V2", "provider_type": "jquants",
        "is_enabled": true, "base_url": jquants_base_url, "api_version": "v2",
        "rate_limit_per_minute": 500, "rate_limit_per_hour": 30000, "rate_limit_per_day": 720000,
    });
    admin
        .expect(
            Method::PUT,
            "/v1/admin/data-sources/jquants-v2",
            Some(&ds),
            200,
        )
        .await?;
    Ok(admin)
}

/// Defines (as `admin`) the J-Quants V1 data source `jquants-v1` at `v1_base_url` and the Yahoo
/// Finance data source `yahoo` at `yahoo_base_url`.
pub async fn add_v1_and_yahoo(
    admin: &ApiClient,
    v1_base_url: &str,
    yahoo_base_url: &str,
) -> anyhow::Result<()> {
    use reqwest::Method;
    let v1 = json!({
        "name": "J-Quants V1", "description": "JPX J-Quants API V1 (token auth, retired upstream 2026-06-01)",
        "provider_type": "jquants", "is_enabled": true, "base_url": v1_base_url, "api_version": "v1",
        "rate_limit_per_minute": 500, "rate_limit_per_hour": 30000, "rate_limit_per_day": 720000,
    });
    // Yahoo publishes no limits; about a request a second is what users report holds
    // (yahoo-api.md §3, §5.1).
    let yahoo = json!({
        "name": "Yahoo Finance", "description": "Yahoo Finance charts and quotes (no account)",
        "provider_type": "yfinance", "is_enabled": true, "base_url": yahoo_base_url, "api_version": "v2",
        "rate_limit_per_minute": 60, "rate_limit_per_hour": 2000, "rate_limit_per_day": 20000,
    });
    admin
        .expect(
            Method::PUT,
            "/v1/admin/data-sources/jquants-v1",
            Some(&v1),
            200,
        )
        .await?;
    admin
        .expect(
            Method::PUT,
            "/v1/admin/data-sources/yahoo",
            Some(&yahoo),
            200,
        )
        .await?;
    Ok(())
}

/// Creates a user (as `admin`) who stores `jquants_key` on `plan`. Returns the user's client.
pub async fn add_user(
    api: &ApiClient,
    admin: &ApiClient,
    jquants_key: &str,
    plan: &str,
) -> anyhow::Result<ApiClient> {
    use reqwest::Method;
    let user = admin
        .expect(
            Method::POST,
            "/v1/admin/users",
            Some(&json!({"name": "quant"})),
            201,
        )
        .await?;
    let user = api.with_key(user["api_key"].as_str().context("no user key")?);
    user.expect(
        Method::PUT,
        "/v1/credentials/jquants-v2",
        Some(&json!({"api_key": jquants_key, "plan": plan})),
        200,
    )
    .await?;
    Ok(user)
}
