//! A running local stack: the template provisioned in the emulator, the API router served on
//! loopback with the API function's environment, and event-source pollers driving the fetcher
//! handler with the fetcher function's environment.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use shared::aws::{CallCounter, Clients};
use shared::config::Config;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::esm;
use crate::provision::{AwsClients, Provisioned, provision, template_path};
use crate::template::Template;

/// Optional SDK call counters, one per function, for benchmarks.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// Calls made by the API function.
    pub api: Option<CallCounter>,
    /// Calls made by the fetcher function.
    pub fetcher: Option<CallCounter>,
}

/// The stack; dropping it stops the server and the pollers.
#[derive(Debug)]
pub struct LocalStack {
    /// Resource-name prefix, unique per stack.
    pub name: String,
    /// What was provisioned.
    pub provisioned: Provisioned,
    /// The API function's configuration.
    pub api_config: Config,
    /// The fetcher function's configuration.
    pub fetcher_config: Config,
    /// Uncounted clients, for set-up and inspection.
    pub aws: AwsClients,
    /// Base URL of the API, e.g. `http://127.0.0.1:PORT`.
    pub api_url: String,
    /// The fetcher's dependencies, as its Lambda container would hold them.
    pub fetcher: Arc<fetcher::Deps>,
    sdk: aws_config::SdkConfig,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    pollers: Vec<JoinHandle<()>>,
}

fn env_map(p: &Provisioned, function: &str) -> anyhow::Result<HashMap<String, String>> {
    let env = p
        .function_env
        .get(function)
        .with_context(|| format!("template has no {function}"))?;
    Ok(env.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

impl LocalStack {
    /// Provisions a fresh stack named `name` and serves the API. Pollers start with
    /// [`LocalStack::start_pollers`].
    pub async fn start(name: &str, counters: Counters) -> anyhow::Result<Self> {
        Self::start_with(name, counters, &[]).await
    }

    /// Like [`LocalStack::start`], with some function variables overridden (tests shorten
    /// timeouts this way; everything else still comes from the template).
    pub async fn start_with(
        name: &str,
        counters: Counters,
        overrides: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let sdk = shared::aws::load_sdk_config().await;
        let aws = AwsClients::new(&sdk);
        let template = Template::load(&template_path())?;
        let provisioned = provision(&template, name, &aws)
            .await
            .context("provisioning the template in the emulator")?;
        let with_overrides = |mut env: HashMap<String, String>| {
            env.extend(
                overrides
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            env
        };
        let api_config = Config::from_map(&with_overrides(env_map(&provisioned, "ApiFunction")?))?;
        let fetcher_config =
            Config::from_map(&with_overrides(env_map(&provisioned, "FetcherFunction")?))?;

        let api_state = api::AppState::from_aws(
            &api_config,
            &Clients::for_function(&sdk, counters.api.as_ref(), "ApiFunction"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let api_url = format!("http://{}", listener.local_addr()?);
        let (stop, mut stopped) = watch::channel(false);
        let server = tokio::spawn(async move {
            let serve =
                axum::serve(listener, api::router(api_state)).with_graceful_shutdown(async move {
                    let _ = stopped.changed().await;
                });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "local API server stopped");
            }
        });
        let fetcher = Arc::new(fetcher::Deps::from_aws(
            &fetcher_config,
            &Clients::for_function(&sdk, counters.fetcher.as_ref(), "FetcherFunction"),
        ));
        Ok(Self {
            name: name.into(),
            provisioned,
            api_config,
            fetcher_config,
            aws,
            api_url,
            fetcher,
            sdk,
            stop,
            tasks: vec![server],
            pollers: Vec::new(),
        })
    }

    /// Uncounted clients whose requests are recorded as `function`'s (its logical id) when
    /// the IAM actions are recorded (`shared::aws::actions`): for a function's dependencies
    /// built by a test.
    pub fn clients_for(&self, function: &str) -> Clients {
        Clients::for_function(&self.sdk, None, function)
    }

    /// Starts `n` pollers: concurrent fetcher invocations, as the mapping's concurrency.
    pub fn start_pollers(&mut self, n: usize) {
        for _ in 0..n {
            self.spawn_poller(self.fetcher.clone());
        }
    }

    /// Starts `n` fetcher instances, each with its own clients, caches and limiter (as `n`
    /// Lambda containers), each polling the queue. Returns them, so a test can count what
    /// each did.
    pub fn start_fetcher_instances(&mut self, n: usize) -> Vec<Arc<fetcher::Deps>> {
        (0..n)
            .map(|_| {
                let deps = Arc::new(fetcher::Deps::from_aws(
                    &self.fetcher_config,
                    &self.clients_for("FetcherFunction"),
                ));
                self.spawn_poller(deps.clone());
                deps
            })
            .collect()
    }

    fn spawn_poller(&mut self, deps: Arc<fetcher::Deps>) {
        {
            let sqs = self.aws.sqs.clone();
            let url = self.fetcher_config.jobs_queue_url.clone();
            let mut stopped = self.stop.subscribe();
            self.pollers.push(tokio::spawn(async move {
                while !*stopped.borrow() {
                    let poll = esm::poll_once(&sqs, &url, Duration::from_secs(1), |records| {
                        let deps = deps.clone();
                        async move { fetcher::handle_records(records, &deps).await }
                    });
                    tokio::select! {
                        res = poll => if let Err(e) = res {
                            tracing::warn!(error = %e, "poll failed");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        },
                        _ = stopped.changed() => break,
                    }
                }
            }));
        }
    }

    /// Stops every poller at once, as if their containers were reclaimed (a batch in flight
    /// is abandoned and its messages come back after the visibility timeout).
    pub fn stop_pollers(&mut self) {
        for t in self.pollers.drain(..) {
            t.abort();
        }
    }

    /// Reads the admin bootstrap secret as an operator would (from Secrets Manager).
    pub async fn admin_secret(&self) -> anyhow::Result<String> {
        let out = self
            .aws
            .secrets
            .get_secret_value()
            .secret_id(&self.api_config.admin_secret_id)
            .send()
            .await?;
        out.secret_string.context("admin secret has no value")
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.iter().chain(&self.pollers) {
            t.abort();
        }
    }
}
