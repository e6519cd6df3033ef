//! The Lambda Runtime API for one execution environment: the process asks for its next event
//! (`GET /2018-06-01/runtime/invocation/next`, answered with the event and its
//! `Lambda-Runtime-*` headers) and posts its response or error. A buffered response over 6 MB
//! is refused as Lambda refuses it (413; the invocation fails).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::{STREAMED_RESPONSE_LIMIT, SYNC_PAYLOAD_LIMIT};

/// An event on its way to the process.
#[derive(Debug)]
pub(super) struct Invocation {
    pub(super) request_id: String,
    pub(super) event: Bytes,
    /// The function's timeout: the deadline is set when the process takes the event, as
    /// Lambda's clock starts after the init phase.
    pub(super) timeout: std::time::Duration,
    pub(super) function_arn: String,
    /// Told when the process took the event: the deadline.
    pub(super) taken: oneshot::Sender<tokio::time::Instant>,
    pub(super) reply: oneshot::Sender<Reply>,
}

/// What the process answered.
#[derive(Debug)]
pub(super) enum Reply {
    Response(Bytes),
    TooLarge,
    Error { error_type: String, message: String },
}

struct Shared {
    next: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    waiting: std::sync::Mutex<HashMap<String, oneshot::Sender<Reply>>>,
    broken: Arc<AtomicBool>,
}

/// Serves a Runtime API on a free loopback port: where to send events, the server task, its
/// address, and a flag set when the process reported an init error.
pub(super) async fn serve() -> anyhow::Result<(
    mpsc::Sender<Invocation>,
    tokio::task::JoinHandle<()>,
    SocketAddr,
    Arc<AtomicBool>,
)> {
    let (tx, rx) = mpsc::channel(1);
    let broken = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Shared {
        next: tokio::sync::Mutex::new(rx),
        waiting: std::sync::Mutex::new(HashMap::new()),
        broken: broken.clone(),
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((tx, server, addr, broken))
}

async fn next(State(s): State<Arc<Shared>>) -> Response {
    let Some(inv) = s.next.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    s.waiting
        .lock()
        .expect("not poisoned")
        .insert(inv.request_id.clone(), inv.reply);
    let deadline = std::time::SystemTime::now() + inv.timeout;
    let deadline_ms = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let _ = inv.taken.send(tokio::time::Instant::now() + inv.timeout);
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &inv.request_id)
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header("lambda-runtime-invoked-function-arn", &inv.function_arn)
        .header(
            "lambda-runtime-trace-id",
            format!(
                "Root=1-{:08x}-{};Sampled=0",
                deadline_ms / 1000,
                &uuid::Uuid::new_v4().simple().to_string()[..24]
            ),
        )
        .body(Body::from(inv.event))
        .expect("valid response")
}

fn take(s: &Shared, id: &str) -> Option<oneshot::Sender<Reply>> {
    s.waiting.lock().expect("not poisoned").remove(id)
}

async fn response(State(s): State<Arc<Shared>>, Path(id): Path<String>, req: Request) -> Response {
    let streamed = req
        .headers()
        .get("lambda-runtime-function-response-mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"streaming"));
    let limit = if streamed {
        STREAMED_RESPONSE_LIMIT
    } else {
        SYNC_PAYLOAD_LIMIT
    };
    let Some(reply) = take(&s, &id) else {
        return (StatusCode::BAD_REQUEST, "unknown request id").into_response();
    };
    match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(body) => {
            let _ = reply.send(Reply::Response(body));
            (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
        }
        Err(_) => {
            let _ = reply.send(Reply::TooLarge);
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({
                    "errorMessage": format!("Exceeded maximum allowed payload size ({limit} bytes)."),
                    "errorType": "RequestEntityTooLarge",
                })
                .to_string(),
            )
                .into_response()
        }
    }
}

async fn error(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(reply) = take(&s, &id) else {
        return (StatusCode::BAD_REQUEST, "unknown request id").into_response();
    };
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let error_type = v["errorType"]
        .as_str()
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|h| h.to_str().ok())
        })
        .unwrap_or("Unhandled")
        .to_owned();
    let message = v["errorMessage"].as_str().unwrap_or_default().to_owned();
    let _ = reply.send(Reply::Error {
        error_type,
        message,
    });
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

async fn init_error(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    s.broken.store(true, Ordering::Relaxed);
    tracing::warn!(error = %String::from_utf8_lossy(&body), "function init failed");
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}
