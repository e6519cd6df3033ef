//! A Lambda-shaped local runtime: each function of `template.yaml` runs as its real binary in
//! separate processes (execution environments) that poll a Lambda Runtime API served here, as
//! on AWS. What Lambda imposes is imposed here too, read from the template:
//! - `Timeout`: an invocation past its deadline is an error, its process is killed and the next
//!   invocation starts a fresh one; the runtime gets `Lambda-Runtime-Deadline-Ms`.
//! - `MemorySize`: told to the function (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`); the process's peak
//!   resident memory is watched while it runs and a process above it is killed
//!   (`Runtime.OutOfMemory`), and every invocation's `REPORT` line gives its figure.
//! - Payload limits of the `Invoke` API: 6 MB for a synchronous request and for a buffered
//!   response (a larger response fails the invocation), 1 MB for an asynchronous event
//!   (refused before it reaches the function).
//! - Concurrency: at most `ReservedConcurrentExecutions` environments at once.
//!
//! The event sources sit on top: [`apigw`] (HTTP API payload 2.0, in any stage), [`sqs`] (the
//! SQS event-source mapping) and [`schedule`] (EventBridge scheduled events).
//!
//! Why not `cargo lambda watch` alone: it serves the Runtime API and invokes by name, but
//! enforces no timeout, memory or payload limit, has no event sources and builds from source
//! on first call; `make lambda-watch` keeps it for hot reloading while editing.

pub mod apigw;
pub mod deployed;
mod runtime_api;
pub mod schedule;
pub mod sqs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::template::Template;

/// Largest synchronous request and buffered response of the `Invoke` API ("Invocation payload
/// (request and response): 6 MB each for synchronous"); AWS's error names 6,291,556 bytes.
pub const SYNC_PAYLOAD_LIMIT: usize = 6_291_556;
/// Largest asynchronous invocation event (1 MB since October 2025; 256 KB before).
pub const ASYNC_PAYLOAD_LIMIT: usize = 1_048_576;
/// Largest streamed response (`InvokeWithResponseStream`).
pub const STREAMED_RESPONSE_LIMIT: usize = 200 * 1024 * 1024;

/// How long a new process may take to ask for its first event (Lambda's init phase limit).
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// How a function is invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    /// `RequestResponse`: API Gateway, the SQS mapping.
    Sync,
    /// `Event`: EventBridge schedules.
    Async,
}

/// Why an invocation gave no response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvokeError {
    /// The event is over the payload limit of its invocation type; never delivered.
    #[error("RequestEntityTooLargeException: request payload of {0} bytes is over the limit")]
    RequestTooLarge(usize),
    /// The function returned more than a buffered response may hold.
    #[error(
        "Function.ResponseSizeTooLarge: Response payload size exceeded maximum allowed payload size ({SYNC_PAYLOAD_LIMIT} bytes)."
    )]
    ResponseTooLarge,
    /// The deadline passed; the process was killed.
    #[error("Task timed out after {0:.2} seconds")]
    Timeout(f64),
    /// The process used more memory than the function has; it was killed.
    #[error("Runtime.OutOfMemory: used {used_mb} MB of {limit_mb} MB")]
    OutOfMemory {
        /// Peak resident memory seen.
        used_mb: u64,
        /// `MemorySize`.
        limit_mb: u64,
    },
    /// The process exited or failed to start.
    #[error("Runtime.ExitError: {0}")]
    Exited(String),
    /// The handler reported an error (`/invocation/{id}/error`).
    #[error("{error_type}: {message}")]
    Function {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
}

/// Where an event source's invocations go: a function on this runtime, or one served by
/// `cargo lambda watch` (its Invoke API), which `make lambda-watch` feeds the same way.
#[derive(Debug, Clone)]
pub enum Target {
    /// A function of this runtime.
    Runtime(Arc<Function>),
    /// `POST {base}/2015-03-31/functions/{name}/invocations`.
    InvokeApi {
        /// The Invoke API's base URL.
        base: String,
        /// The function's name.
        name: String,
    },
}

impl Target {
    /// Invokes the target with `event`; its response payload.
    pub async fn invoke(&self, event: Bytes, kind: InvocationType) -> Result<Bytes, InvokeError> {
        match self {
            Target::Runtime(f) => f.invoke(event, kind).await,
            Target::InvokeApi { base, name } => {
                let resp = reqwest::Client::new()
                    .post(format!("{base}/2015-03-31/functions/{name}/invocations"))
                    .header(
                        "x-amz-invocation-type",
                        match kind {
                            InvocationType::Sync => "RequestResponse",
                            InvocationType::Async => "Event",
                        },
                    )
                    .body(event)
                    .timeout(Duration::from_secs(900))
                    .send()
                    .await
                    .map_err(|e| InvokeError::Exited(e.to_string()))?;
                let failed = !resp.status().is_success()
                    || resp.headers().contains_key("x-amz-function-error");
                let body = resp
                    .bytes()
                    .await
                    .map_err(|e| InvokeError::Exited(e.to_string()))?;
                if failed {
                    return Err(InvokeError::Function {
                        error_type: "Unhandled".into(),
                        message: String::from_utf8_lossy(&body).into_owned(),
                    });
                }
                Ok(body)
            }
        }
    }
}

/// One function as the template deploys it.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// The function's name (its logical id).
    pub name: String,
    /// The binary (`bootstrap`).
    pub binary: PathBuf,
    /// The environment from the template, plus the emulator's endpoint settings.
    pub env: BTreeMap<String, String>,
    /// `Timeout`.
    pub timeout: Duration,
    /// `MemorySize`, MB.
    pub memory_mb: u64,
    /// `ReservedConcurrentExecutions`, if set.
    pub reserved_concurrency: Option<usize>,
    /// Where the processes' output and the `REPORT` lines go.
    pub log: PathBuf,
}

impl FunctionConfig {
    /// `function` of `template`, running `binary` with `env` (the resolved template
    /// environment), logging to `log`. Process `AWS_*` settings are added so the function
    /// reaches the same emulator.
    pub fn from_template(
        template: &Template,
        function: &str,
        binary: PathBuf,
        mut env: BTreeMap<String, String>,
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let number = |key: &str| -> anyhow::Result<Option<u64>> {
            template
                .function_property(function, key)
                .map(|v| {
                    v.as_u64()
                        .with_context(|| format!("{function}.{key} is not a number"))
                })
                .transpose()
        };
        // The IAM actions log too (shared::aws::actions), when the tests record them.
        env.extend(std::env::vars().filter(|(k, _)| {
            k.starts_with("AWS_") && !k.starts_with("AWS_LAMBDA_")
                || k == "NO_PROXY"
                || k == shared::aws::actions::LOG_VAR
        }));
        Ok(Self {
            name: function.to_owned(),
            binary,
            env,
            timeout: Duration::from_secs(number("Timeout")?.unwrap_or(3)),
            memory_mb: number("MemorySize")?.unwrap_or(128),
            reserved_concurrency: number("ReservedConcurrentExecutions")?.map(|n| n as usize),
            log,
        })
    }
}

/// The directory holding the function binaries: `MOOMOO_FUNCTIONS_DIR`, else the workspace's
/// `target/debug` (what `cargo build --bins` writes).
pub fn functions_dir() -> PathBuf {
    match std::env::var_os("MOOMOO_FUNCTIONS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => crate::workspace::root().join("target/debug"),
    }
}

/// What one invocation used, as Lambda's `REPORT` line says it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// Wall time of the invocation.
    pub duration: Duration,
    /// Peak resident memory of its process so far, MB.
    pub max_memory_mb: u64,
    /// Whether a new process was started for it.
    pub cold: bool,
}

/// Counts over a function's life.
#[derive(Debug, Default)]
pub struct Stats {
    /// Invocations started.
    pub invocations: AtomicU64,
    /// Invocations stopped at their deadline.
    pub timeouts: AtomicU64,
    /// Processes started.
    pub cold_starts: AtomicU64,
    /// Highest peak memory of any of its processes, MB.
    pub max_memory_mb: AtomicU64,
    /// Invocations that ended in an error of any kind.
    pub errors: AtomicU64,
    /// The last of those errors.
    pub last_error: Mutex<Option<InvokeError>>,
}

/// A function: a pool of execution environments of one binary.
#[derive(Debug)]
pub struct Function {
    config: FunctionConfig,
    idle: Mutex<Vec<Environment>>,
    slots: Semaphore,
    /// Counts over its life.
    pub stats: Stats,
}

/// One execution environment: a process and the Runtime API it polls.
#[derive(Debug)]
struct Environment {
    child: Child,
    pid: u32,
    next: mpsc::Sender<runtime_api::Invocation>,
    server: tokio::task::JoinHandle<()>,
    broken: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for Environment {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        self.server.abort();
    }
}

impl Function {
    /// A function with no environment yet; the first invocation starts one. `concurrency`
    /// bounds the environments (the reserved concurrency, else the caller's choice).
    pub fn new(config: FunctionConfig, concurrency: usize) -> anyhow::Result<Arc<Self>> {
        if !config.binary.exists() {
            anyhow::bail!(
                "no function binary at {} (build it: cargo build --bins)",
                config.binary.display()
            );
        }
        let n = config
            .reserved_concurrency
            .map_or(concurrency, |r| r.min(concurrency));
        Ok(Arc::new(Self {
            config,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(n.max(1)),
            stats: Stats::default(),
        }))
    }

    /// Its configuration.
    pub fn config(&self) -> &FunctionConfig {
        &self.config
    }

    /// Invokes the function with `event`; its response payload.
    pub async fn invoke(&self, event: Bytes, kind: InvocationType) -> Result<Bytes, InvokeError> {
        self.invoke_reported(event, kind).await.map(|(b, _)| b)
    }

    /// [`Function::invoke`], with its [`Report`].
    pub async fn invoke_reported(
        &self,
        event: Bytes,
        kind: InvocationType,
    ) -> Result<(Bytes, Report), InvokeError> {
        let limit = match kind {
            InvocationType::Sync => SYNC_PAYLOAD_LIMIT,
            InvocationType::Async => ASYNC_PAYLOAD_LIMIT,
        };
        if event.len() > limit {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            return Err(InvokeError::RequestTooLarge(event.len()));
        }
        let _slot = self.slots.acquire().await.expect("never closed");
        self.stats.invocations.fetch_add(1, Ordering::Relaxed);
        let reused = self.idle.lock().expect("not poisoned").pop();
        let (mut env, cold) = match reused {
            Some(env) => (env, false),
            None => match self.start().await {
                Ok(env) => (env, true),
                Err(e) => {
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    return Err(InvokeError::Exited(format!("{e:#}")));
                }
            },
        };
        let started = Instant::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let (reply, answer) = oneshot::channel();
        let (taken, deadline) = oneshot::channel();
        let invocation = runtime_api::Invocation {
            request_id: request_id.clone(),
            event,
            timeout: self.config.timeout,
            function_arn: format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                self.config.name
            ),
            taken,
            reply,
        };
        let mut max_memory_mb = 0;
        let outcome = if env.next.send(invocation).await.is_err() {
            Err(InvokeError::Exited("the runtime API stopped".into()))
        } else {
            self.watch(&mut env, deadline, answer, &mut max_memory_mb)
                .await
        };
        if let Some(now) = peak_rss_mb(env.pid) {
            max_memory_mb = max_memory_mb.max(now);
        }
        self.stats
            .max_memory_mb
            .fetch_max(max_memory_mb, Ordering::Relaxed);
        let report = Report {
            duration: started.elapsed(),
            max_memory_mb,
            cold,
        };
        self.log_report(&request_id, &report, outcome.as_ref().err());
        match outcome {
            Ok(body) => {
                if !env.broken.load(Ordering::Relaxed) {
                    self.idle.lock().expect("not poisoned").push(env);
                }
                Ok((body, report))
            }
            Err(e) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                *self.stats.last_error.lock().expect("not poisoned") = Some(e.clone());
                if matches!(e, InvokeError::Timeout(_)) {
                    self.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                }
                // A function error leaves its environment usable, as on Lambda; anything else
                // (timeout, memory, exit, a response too large) replaces it.
                if matches!(e, InvokeError::Function { .. }) && !env.broken.load(Ordering::Relaxed)
                {
                    self.idle.lock().expect("not poisoned").push(env);
                }
                Err(e)
            }
        }
    }

    /// Waits for the process to take the event (a cold one initialises first, within
    /// Lambda's 10 s init limit), then for its answer until the deadline, watching its memory
    /// (the peak seen goes to `peak`) and its life.
    async fn watch(
        &self,
        env: &mut Environment,
        taken: oneshot::Receiver<tokio::time::Instant>,
        mut answer: oneshot::Receiver<runtime_api::Reply>,
        peak: &mut u64,
    ) -> Result<Bytes, InvokeError> {
        let deadline = tokio::select! {
            t = taken => match t {
                Ok(deadline) => deadline,
                Err(_) => {
                    env.broken.store(true, Ordering::Relaxed);
                    return Err(InvokeError::Exited("the runtime API stopped".into()));
                }
            },
            () = tokio::time::sleep(INIT_LIMIT) => {
                env.broken.store(true, Ordering::Relaxed);
                let _ = env.child.start_kill();
                return Err(InvokeError::Exited(format!("init did not finish within {INIT_LIMIT:?}")));
            }
            status = env.child.wait() => {
                env.broken.store(true, Ordering::Relaxed);
                let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                return Err(InvokeError::Exited(status));
            }
        };
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tokio::select! {
                reply = &mut answer => {
                    return match reply {
                        Ok(runtime_api::Reply::Response(body)) => Ok(body),
                        Ok(runtime_api::Reply::TooLarge) => {
                            env.broken.store(true, Ordering::Relaxed);
                            Err(InvokeError::ResponseTooLarge)
                        }
                        Ok(runtime_api::Reply::Error { error_type, message }) => {
                            Err(InvokeError::Function { error_type, message })
                        }
                        Err(_) => {
                            env.broken.store(true, Ordering::Relaxed);
                            Err(InvokeError::Exited("the runtime API stopped".into()))
                        }
                    };
                }
                () = tokio::time::sleep_until(deadline) => {
                    env.broken.store(true, Ordering::Relaxed);
                    let _ = env.child.start_kill();
                    return Err(InvokeError::Timeout(self.config.timeout.as_secs_f64()));
                }
                status = env.child.wait() => {
                    env.broken.store(true, Ordering::Relaxed);
                    let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                    return Err(InvokeError::Exited(status));
                }
                _ = tick.tick() => {
                    let used = peak_rss_mb(env.pid).unwrap_or(0);
                    *peak = (*peak).max(used);
                    if used > self.config.memory_mb {
                        env.broken.store(true, Ordering::Relaxed);
                        let _ = env.child.start_kill();
                        return Err(InvokeError::OutOfMemory { used_mb: used, limit_mb: self.config.memory_mb });
                    }
                }
            }
        }
    }

    /// Starts an execution environment: a Runtime API on a free loopback port, then the
    /// binary pointed at it.
    async fn start(&self) -> anyhow::Result<Environment> {
        self.stats.cold_starts.fetch_add(1, Ordering::Relaxed);
        let (next, server, addr, broken) = runtime_api::serve().await?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.config.log)
            .with_context(|| format!("opening {}", self.config.log.display()))?;
        let c = &self.config;
        let child = Command::new(&c.binary)
            .env_clear()
            .envs(&c.env)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &c.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", c.memory_mb.to_string())
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", c.name),
            )
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("local/[$LATEST]{}", uuid::Uuid::new_v4().simple()),
            )
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
            .env("_HANDLER", "bootstrap")
            .env(
                "LAMBDA_TASK_ROOT",
                c.binary.parent().unwrap_or(Path::new("/")),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", c.binary.display()))?;
        let pid = child.id().context("the process has no id")?;
        Ok(Environment {
            child,
            pid,
            next,
            server,
            broken,
        })
    }

    fn log_report(&self, request_id: &str, r: &Report, error: Option<&InvokeError>) {
        use std::io::Write;
        let mut line = format!(
            "REPORT RequestId: {request_id}\tDuration: {:.2} ms\tMemory Size: {} MB\tMax Memory Used: {} MB{}",
            r.duration.as_secs_f64() * 1000.0,
            self.config.memory_mb,
            r.max_memory_mb,
            if r.cold { "\tCold start" } else { "" },
        );
        if let Some(e) = error {
            line.push_str(&format!("\tStatus: error\tError: {e}"));
        }
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.config.log)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// A process's peak resident set (`VmHWM`), MB.
pub fn peak_rss_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.div_ceil(1024))
}
