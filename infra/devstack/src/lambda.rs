//! Running the functions as Lambda runs them, under `cargo lambda watch` (PyPI `cargo-lambda`,
//! pinned in `infra/local/requirements.txt`): its emulated control plane serves each function
//! binary of the workspace by name, the API through a function-URL path
//! (`/lambda-url/api/...`) and any function through the Invoke API
//! (`/2015-03-31/functions/<name>/invocations`). The functions read the environment of a
//! stack provisioned from `template.yaml` in the emulator, as deployed ones would.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// The workspace root (see [`crate::workspace`]), also under this path for the callers that
/// import it from here.
pub use crate::workspace::root;

/// Writes an env file for the functions: the template's variables for `functions` (merged;
/// they agree where they overlap) and the process's `AWS_*` settings, so the functions reach
/// the same emulator.
pub fn write_env_file(
    path: &Path,
    function_env: &BTreeMap<String, BTreeMap<String, String>>,
    functions: &[&str],
) -> anyhow::Result<()> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    for f in functions {
        let env = function_env
            .get(*f)
            .with_context(|| format!("template has no {f}"))?;
        vars.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    for (k, v) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
        vars.insert(k, v);
    }
    vars.insert("RUST_LOG".into(), "warn".into());
    let text: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// A running `cargo lambda watch`; stopped when dropped.
#[derive(Debug)]
pub struct Watch {
    child: Child,
    /// Where it answers.
    pub base: String,
}

impl Watch {
    /// Starts `cargo lambda watch` on `port` with `env_file`, from the workspace root. The
    /// `cargo-lambda` binary is taken from the project's virtualenv (`.venv/bin`).
    pub fn spawn(port: u16, env_file: &Path) -> anyhow::Result<Self> {
        let root = root();
        let venv_bin = root.join(".venv/bin");
        if !venv_bin.join("cargo-lambda").exists() {
            bail!("no cargo-lambda in .venv/bin: run `make venv`");
        }
        let path = format!(
            "{}:{}",
            venv_bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let child = Command::new("cargo")
            .args(["lambda", "watch", "--ignore-changes", "--quiet"])
            .arg("--invoke-address")
            .arg("127.0.0.1")
            .arg("--invoke-port")
            .arg(port.to_string())
            .arg("--env-file")
            .arg(env_file)
            .current_dir(&root)
            .env("PATH", path)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting cargo lambda watch")?;
        Ok(Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// The API function's URL (what API Gateway would be in front of).
    pub fn api_url(&self) -> String {
        format!("{}/lambda-url/api", self.base)
    }

    /// Invokes `function` with `event` through the Lambda Invoke API; its JSON answer.
    pub async fn invoke(
        &self,
        function: &str,
        event: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/2015-03-31/functions/{function}/invocations",
                self.base
            ))
            .json(event)
            .timeout(Duration::from_secs(900))
            .send()
            .await?;
        let status = r.status();
        let body = r.text().await?;
        if !status.is_success() {
            bail!("invoking {function}: {status}: {body}");
        }
        Ok(serde_json::from_str(&body)?)
    }

    /// Waits until the API answers `/v1/health` (the first call compiles the function).
    pub async fn wait_for_api(&mut self, limit: Duration) -> anyhow::Result<()> {
        let start = std::time::Instant::now();
        let client = reqwest::Client::new();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("cargo lambda watch exited: {status}");
            }
            let r = client
                .get(format!("{}/v1/health", self.api_url()))
                .timeout(Duration::from_secs(600))
                .send()
                .await;
            if matches!(&r, Ok(r) if r.status().is_success()) {
                return Ok(());
            }
            if start.elapsed() > limit {
                bail!("the API did not answer under cargo lambda watch: {r:?}");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

impl Watch {
    /// A function it serves, as an event source's target (its Invoke API).
    pub fn target(&self, function: &str) -> crate::runtime::Target {
        crate::runtime::Target::InvokeApi {
            base: self.base.clone(),
            name: function.to_owned(),
        }
    }
}

/// The `cargo lambda invoke` command lines that drive the functions under `cargo lambda watch`
/// on `port` with the committed events, as `devstack lambda-watch` prints them (run from the
/// workspace root; `tests/tests/lambda_watch.rs` runs them): the fetcher's and the scheduler's.
pub fn invoke_commands(port: u16) -> [String; 2] {
    let invoke = |function: &str, event: &str| {
        format!(
            "PATH=.venv/bin:$PATH cargo lambda invoke {function} --invoke-address 127.0.0.1 --invoke-port {port} --data-file infra/local/events/{event}"
        )
    };
    [
        invoke("fetcher", "fetcher-sqs.json"),
        invoke("scheduler", "scheduler-tick.json"),
    ]
}

/// `devstack lambda-watch`: the sandbox, a stack provisioned in the emulator and every function
/// under `cargo lambda watch`, fed by the template's event sources (the SQS mapping, the
/// one-minute schedule) as on Lambda, until Ctrl-C. Prints how to reach them.
pub async fn run() -> anyhow::Result<()> {
    const KEY: &str = "local-jquants-key";
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig {
        keys: vec![
            format!("{KEY}:premium")
                .parse()
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        ],
        page_size: 100,
        today: None,
    })
    .await;
    let name = format!("watch-{}", uuid::Uuid::new_v4().simple());
    let stack = crate::stack::LocalStack::start(&name[..14], Default::default()).await?;
    let env_file = root().join(format!("target/lambda-watch/{}.env", stack.name));
    write_env_file(
        &env_file,
        &stack.provisioned.function_env,
        &["ApiFunction", "FetcherFunction", "SchedulerFunction"],
    )?;
    let port = 9000;
    let mut watch = Watch::spawn(port, &env_file)?;
    println!("building and starting the functions under cargo lambda watch ...");
    watch.wait_for_api(Duration::from_secs(1800)).await?;
    let secret = stack.admin_secret().await?;
    let queue = &stack.fetcher_config.jobs_queue_url;
    let template = crate::template::Template::load(&crate::provision::template_path())?;
    let _mapping = crate::runtime::sqs::Mapping::start(
        stack.aws.sqs.clone(),
        queue,
        watch.target("fetcher"),
        crate::runtime::sqs::MappingConfig::from_template(&template, "FetcherFunction")?,
    )
    .await?;
    let _schedule = crate::runtime::schedule::Schedule::start(
        watch.target("scheduler"),
        &format!("{}-SchedulerTick", stack.name),
        Duration::from_secs(60),
    );
    let [fetcher, scheduler] = invoke_commands(port);
    println!(
        "\nready (Ctrl-C stops everything):
  API (function URL):   {api}/v1/health
  admin bootstrap:      curl -X POST {api}/v1/admin/bootstrap -H 'authorization: Bearer {secret}' -d '{{\"name\":\"me\"}}'
  J-Quants sandbox:     {sandbox} (API key `{KEY}`, Premium) - point the data source's base_url here
  job queue:            {queue} (in the emulator at $AWS_ENDPOINT_URL), fed to the fetcher
                        by the SQS mapping as the template configures it
  scheduler:            ticked every minute
  by hand, from the workspace root (the fetcher's event needs a received message's
  receiptHandle and body in infra/local/events/fetcher-sqs.json):
    {fetcher}
    {scheduler}
  function environment: {env}",
        api = watch.api_url(),
        sandbox = sandbox.base_url(),
        env = env_file.display(),
    );
    tokio::signal::ctrl_c().await?;
    drop(watch);
    Ok(())
}
