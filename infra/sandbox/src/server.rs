//! Assembling the routers and running them: in a binary, or in-process for tests.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::{Plan, SandboxConfig};
use crate::guard::{FaultSpec, KeySettings, Limits};
use crate::state::Shared;
use crate::stats::Stats;
use crate::{admin, jquants, v1, yahoo};

fn build(config: SandboxConfig, limits: Limits) -> (Router, Arc<Shared>) {
    let shared = Arc::new(Shared::new(config, limits));
    let router = Router::new()
        .nest("/_sandbox", admin::router(&shared))
        .nest("/v2", jquants::router(&shared))
        .nest("/v1", v1::router(&shared))
        .nest("/yahoo", yahoo::router(&shared))
        .route("/yahoo/", yahoo::cookie_root(&shared))
        .fallback(jquants::unknown_path);
    (router, shared)
}

/// The whole sandbox with default [`Limits`]: `/v2` (J-Quants V2), `/v1` (J-Quants V1),
/// `/yahoo` (Yahoo Finance) and `/_sandbox` (control).
pub fn router(config: SandboxConfig) -> Router {
    router_with(config, Limits::default())
}

/// [`router`] with chosen limits.
pub fn router_with(config: SandboxConfig, limits: Limits) -> Router {
    build(config, limits).0
}

/// Serves the sandbox on `listener` until the task is dropped or the listener fails.
pub async fn serve(listener: TcpListener, config: SandboxConfig) -> std::io::Result<()> {
    axum::serve(listener, router(config)).await
}

/// [`serve`] with chosen limits.
pub async fn serve_with(
    listener: TcpListener,
    config: SandboxConfig,
    limits: Limits,
) -> std::io::Result<()> {
    axum::serve(listener, router_with(config, limits)).await
}

/// A sandbox running in a background task on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Sandbox {
    /// Starts a sandbox on a free port.
    ///
    /// # Panics
    /// When no local port can be bound; use [`Sandbox::try_start`] to handle that.
    pub async fn start(config: SandboxConfig) -> Self {
        Self::start_with(config, Limits::default()).await
    }

    /// Starts a sandbox with chosen limits (e.g. rate limiting for the configured keys).
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start_with(config: SandboxConfig, limits: Limits) -> Self {
        match Self::try_start_with(config, limits).await {
            Ok(sandbox) => sandbox,
            Err(e) => panic!("sandbox could not bind 127.0.0.1:0: {e}"),
        }
    }

    /// Starts a sandbox on a free port.
    ///
    /// # Errors
    /// When binding 127.0.0.1:0 fails.
    pub async fn try_start(config: SandboxConfig) -> std::io::Result<Self> {
        Self::try_start_with(config, Limits::default()).await
    }

    /// Starts a sandbox with chosen limits.
    ///
    /// # Errors
    /// When binding 127.0.0.1:0 fails.
    pub async fn try_start_with(config: SandboxConfig, limits: Limits) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (router, shared) = build(config, limits);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "sandbox server stopped");
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// The J-Quants V2 base URL, e.g. `http://127.0.0.1:41234/v2` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    /// The J-Quants V1 base URL, e.g. `http://127.0.0.1:41234/v1`.
    pub fn v1_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The Yahoo base URL standing in for `https://query1.finance.yahoo.com` and
    /// `https://query2.finance.yahoo.com`, e.g. `http://127.0.0.1:41234/yahoo`.
    pub fn yahoo_base_url(&self) -> String {
        format!("http://{}/yahoo", self.addr)
    }

    /// The URL standing in for `https://fc.yahoo.com/` (sets the `A3` cookie).
    pub fn yahoo_cookie_url(&self) -> String {
        format!("http://{}/yahoo/", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the request log.
    pub fn stats(&self) -> Stats {
        self.shared.log.snapshot()
    }

    /// Forgets all requests logged so far.
    pub fn reset_stats(&self) {
        self.shared.log.reset();
    }

    /// Accepts another V2 key (or changes an existing one).
    pub fn add_key(&self, key: &str, plan: Plan, rate_limit: bool) {
        self.shared
            .keys
            .insert(key, KeySettings::new(plan, rate_limit));
    }

    /// Switches rate limiting for a key; `false` if the key is unknown.
    pub fn set_rate_limit(&self, key: &str, on: bool) -> bool {
        self.shared.keys.update(key, |k| k.rate_limit = on)
    }

    /// Gives a key its own per-minute limit (`None`: its plan's again), e.g. a key whose
    /// provider lowered its limit mid-run; `false` if the key is unknown.
    pub fn set_key_limit(&self, key: &str, per_minute: Option<u32>) -> bool {
        self.shared
            .keys
            .update(key, |k| k.limit_per_minute = per_minute)
    }

    /// Starts (or stops, with 0) another consumer of the key sending `per_minute` requests a
    /// minute, evenly spaced, that take places in its window; `false` if the key is unknown.
    pub fn set_outside_consumer(&self, key: &str, per_minute: u32) -> bool {
        self.shared
            .keys
            .update(key, |k| k.outside_per_minute = per_minute)
    }

    /// How the outside consumer of `key` fared: requests admitted, and refused because the
    /// window was full.
    pub fn outside_consumer_served(&self, key: &str) -> (u64, u64) {
        self.shared.limiter.outside_served(key)
    }

    /// Grants or withdraws the minute-bars add-on; `false` if the key is unknown.
    pub fn set_minute_addon(&self, key: &str, on: bool) -> bool {
        self.shared.keys.update(key, |k| k.minute_addon = on)
    }

    /// Registers a J-Quants V1 user.
    pub fn add_v1_user(&self, mail: &str, password: &str, plan: Plan) {
        self.shared.v1.add_user(mail, password, plan);
    }

    /// Every V1 refresh and id token issued so far (secrets a test searches the system for).
    pub fn issued_v1_tokens(&self) -> Vec<String> {
        self.shared.v1.issued_tokens()
    }

    /// The sandbox clock's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// The exchange's date on the sandbox clock.
    pub fn today(&self) -> NaiveDate {
        self.shared.clock.today()
    }

    /// Moves the sandbox clock forward.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.shared
            .clock
            .advance(TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX));
    }

    /// Sets the sandbox clock.
    pub fn set_clock(&self, at: DateTime<Utc>) {
        self.shared.clock.set(at);
    }

    /// Replaces the faults of a caller (a V2 key, a V1 mail address or [`crate::YAHOO`]).
    pub fn set_faults(&self, key: &str, spec: FaultSpec) {
        self.shared.faults.set(key, spec);
    }

    /// Ends every Yahoo session: cookies and crumbs issued so far are refused from now on.
    pub fn expire_yahoo_sessions(&self) {
        self.shared.yahoo.expire_all();
    }

    /// The current limits.
    pub fn limits(&self) -> Limits {
        self.shared.limits()
    }

    /// Replaces the limits.
    pub fn set_limits(&self, limits: Limits) {
        self.shared.set_limits(limits);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}
