//! Assembling the routers and running them: in a binary, or in-process for tests.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::SandboxConfig;
use crate::jquants::{self, V2State};
use crate::stats::{self, RequestLog, Stats};

fn build(config: SandboxConfig) -> (Router, Arc<RequestLog>) {
    let log = Arc::new(RequestLog::default());
    let v2 = Arc::new(V2State::new(config, Arc::clone(&log)));
    let router = Router::new()
        .route(
            "/_sandbox/stats",
            get(stats::show).with_state(Arc::clone(&log)),
        )
        .nest("/v2", jquants::router(&v2))
        .fallback(jquants::unknown_path);
    (router, log)
}

/// The whole sandbox: `/v2/...` (J-Quants V2) and `GET /_sandbox/stats`.
pub fn router(config: SandboxConfig) -> Router {
    build(config).0
}

/// Serves the sandbox on `listener` until the task is dropped or the listener fails.
pub async fn serve(listener: TcpListener, config: SandboxConfig) -> std::io::Result<()> {
    axum::serve(listener, router(config)).await
}

/// A sandbox running in a background task on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    log: Arc<RequestLog>,
    task: JoinHandle<()>,
}

impl Sandbox {
    /// Starts a sandbox on a free port.
    ///
    /// # Panics
    /// When no local port can be bound; use [`Sandbox::try_start`] to handle that.
    pub async fn start(config: SandboxConfig) -> Self {
        match Self::try_start(config).await {
            Ok(sandbox) => sandbox,
            Err(e) => panic!("sandbox could not bind 127.0.0.1:0: {e}"),
        }
    }

    /// Starts a sandbox on a free port.
    ///
    /// # Errors
    /// When binding 127.0.0.1:0 fails.
    pub async fn try_start(config: SandboxConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (router, log) = build(config);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "sandbox server stopped");
            }
        });
        Ok(Self { addr, log, task })
    }

    /// The J-Quants V2 base URL, e.g. `http://127.0.0.1:41234/v2` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the request log.
    pub fn stats(&self) -> Stats {
        self.log.snapshot()
    }

    /// Forgets all requests logged so far.
    pub fn reset_stats(&self) {
        self.log.reset();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}
