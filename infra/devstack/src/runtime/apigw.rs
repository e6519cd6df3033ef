//! API Gateway HTTP API in front of a function: each request becomes a payload-format 2.0
//! event (`rawPath` keeps a named stage, as AWS sends it), the function is invoked
//! synchronously, and its response object becomes the HTTP answer. A failed invocation
//! answers as API Gateway does: 500 `{"message":"Internal Server Error"}`, or 503
//! `{"message":"Service Unavailable"}` when the function timed out.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::{Function, InvocationType, InvokeError};

/// HTTP API's largest request body (10 MB).
const REQUEST_LIMIT: usize = 10 * 1024 * 1024;

/// A running HTTP API; stopped when dropped.
#[derive(Debug)]
pub struct HttpApi {
    /// Base URL including the stage (`http://127.0.0.1:PORT/v1stage`), as the template's
    /// `ApiUrl` output; without a path for `$default`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Api {
    function: Arc<Function>,
    stage: String,
}

impl HttpApi {
    /// Serves `function` under `stage` (`$default` or a name) on a free loopback port.
    pub async fn start(function: Arc<Function>, stage: &str) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let api = Arc::new(Api {
            function,
            stage: stage.to_owned(),
        });
        let app = Router::new().fallback(handle).with_state(api);
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        let url = if stage == "$default" {
            format!("http://{addr}")
        } else {
            format!("http://{addr}/{stage}")
        };
        Ok(Self { url, task })
    }
}

fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({ "message": text }).to_string(),
    )
        .into_response()
}

async fn handle(
    State(api): State<Arc<Api>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    // A named stage is the first path segment of every URL of the API.
    if api.stage != "$default" {
        let p = req.uri().path();
        let under = p
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(api.stage.as_str()))
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if !under {
            return message(StatusCode::NOT_FOUND, "Not Found");
        }
    }
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, REQUEST_LIMIT).await else {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let event = event(&parts, &body, &api.stage, peer);
    match api
        .function
        .invoke(event.to_string().into(), InvocationType::Sync)
        .await
    {
        Ok(payload) => answer(&payload),
        Err(InvokeError::Timeout(_)) => {
            message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
        }
        Err(e) => {
            tracing::warn!(error = %e, "the API function failed");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

/// The payload-2.0 event of a request.
pub fn event(
    parts: &axum::http::request::Parts,
    body: &[u8],
    stage: &str,
    peer: SocketAddr,
) -> Value {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies: Vec<String> = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "cookie" {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()));
            continue;
        }
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let raw_path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or_default().to_owned();
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        query
            .entry(k.into_owned())
            .and_modify(|x| {
                x.push(',');
                x.push_str(&v);
            })
            .or_insert_with(|| v.into_owned());
    }
    let proxy = match stage {
        "$default" => raw_path.trim_start_matches('/').to_owned(),
        s => raw_path
            .trim_start_matches('/')
            .strip_prefix(s)
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
    };
    let textual = headers.get("content-type").is_none_or(|ct| {
        let ct = ct.to_ascii_lowercase();
        ct.starts_with("text/")
            || ct.contains("json")
            || ct.contains("xml")
            || ct.contains("x-www-form-urlencoded")
    });
    let (body_text, b64) = match std::str::from_utf8(body) {
        Ok(text) if textual => (text.to_owned(), false),
        _ => (B64.encode(body), true),
    };
    let now = chrono::Utc::now();
    let host = headers.get("host").cloned().unwrap_or_default();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "ANY /{proxy+}",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or_default(),
            "http": {
                "method": parts.method.as_str(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": uuid::Uuid::new_v4().simple().to_string()[..16],
            "routeKey": "ANY /{proxy+}",
            "stage": stage,
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "pathParameters": { "proxy": proxy },
        "isBase64Encoded": b64,
    });
    if !body.is_empty() {
        event["body"] = Value::String(body_text);
    }
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = json!(query);
    }
    event
}

/// The HTTP answer of a function's payload-2.0 response.
fn answer(payload: &[u8]) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(payload) else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    if v.get("statusCode").is_none() {
        // Payload 2.0 takes any other JSON as a 200 with that JSON as its body.
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            v.to_string(),
        )
            .into_response();
    }
    let status = v["statusCode"]
        .as_u64()
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match v["body"].as_str() {
        Some(b) if v["isBase64Encoded"].as_bool() == Some(true) => match B64.decode(b) {
            Ok(bytes) => bytes,
            Err(_) => return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        },
        Some(b) => b.as_bytes().to_vec(),
        None => Vec::new(),
    };
    let mut resp = Response::builder().status(status);
    if let Some(h) = v["headers"].as_object() {
        for (k, val) in h {
            if let Some(val) = val.as_str().and_then(|s| HeaderValue::from_str(s).ok()) {
                resp = resp.header(k, val);
            }
        }
    }
    if let Some(h) = v["multiValueHeaders"].as_object() {
        for (k, vals) in h {
            for val in vals.as_array().into_iter().flatten() {
                if let Some(val) = val.as_str().and_then(|s| HeaderValue::from_str(s).ok()) {
                    resp = resp.header(k, val);
                }
            }
        }
    }
    for c in v["cookies"].as_array().into_iter().flatten() {
        if let Some(c) = c.as_str().and_then(|s| HeaderValue::from_str(s).ok()) {
            resp = resp.header("set-cookie", c);
        }
    }
    resp.body(Body::from(body))
        .unwrap_or_else(|_| message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))
}
