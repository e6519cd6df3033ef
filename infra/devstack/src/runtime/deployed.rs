//! The three functions of a provisioned stack deployed on the Lambda-shaped runtime, with the
//! template's event sources: the HTTP API (in the template's stage) before `api`, the SQS
//! mapping before `fetcher`, the one-minute schedule before `scheduler`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use super::apigw::HttpApi;
use super::schedule::Schedule;
use super::sqs::{Mapping, MappingConfig};
use super::{Function, FunctionConfig, Target, functions_dir};
use crate::provision::{AwsClients, Provisioned, template_path};
use crate::template::Template;

/// What to change from the template, for tests.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Variables set on every function (over the template's).
    pub env: Vec<(String, String)>,
    /// The fetcher's `Timeout` instead of the template's.
    pub fetcher_timeout: Option<Duration>,
    /// The scheduler's period instead of a minute; `None` keeps a minute.
    pub schedule_period: Option<Duration>,
    /// Whether the SQS mapping runs (a test may drive the fetcher itself).
    pub without_mapping: bool,
    /// Whether the schedule runs (a test may tick the scheduler on its own clock).
    pub without_schedule: bool,
    /// The mapping's `MaximumConcurrency` and the fetcher's reserved concurrency instead of
    /// the template's (raised together, as the template's comment asks).
    pub fetcher_concurrency: Option<usize>,
}

/// The deployed functions; dropping it stops every process and event source.
#[derive(Debug)]
pub struct Deployed {
    /// The API function.
    pub api: Arc<Function>,
    /// The fetcher function.
    pub fetcher: Arc<Function>,
    /// The scheduler function.
    pub scheduler: Arc<Function>,
    /// The HTTP API in the template's stage.
    pub http: HttpApi,
    /// The SQS mapping, unless switched off.
    pub mapping: Option<Mapping>,
    /// The HttpApi's `StageName`.
    pub stage: String,
    _schedule: Option<Schedule>,
}

impl Deployed {
    /// Deploys the functions of `provisioned` (stack `name`), logging under
    /// `target/lambda-runtime/<name>/`.
    pub async fn start(
        name: &str,
        provisioned: &Provisioned,
        aws: &AwsClients,
        options: Options,
    ) -> anyhow::Result<Self> {
        let template = Template::load(&template_path())?;
        let logs = crate::workspace::root()
            .join("target/lambda-runtime")
            .join(name);
        std::fs::create_dir_all(&logs)?;
        let function = |id: &str, binary: &str| -> anyhow::Result<FunctionConfig> {
            let mut env = provisioned
                .function_env
                .get(id)
                .with_context(|| format!("template has no {id}"))?
                .clone();
            env.entry("RUST_LOG".into())
                .or_insert_with(|| "warn".into());
            env.extend(options.env.iter().cloned());
            FunctionConfig::from_template(
                &template,
                id,
                functions_dir().join(binary),
                env,
                logs.join(format!("{binary}.log")),
            )
        };
        let api = Function::new(function("ApiFunction", "api")?, 10)?;
        let mut fetcher_config = function("FetcherFunction", "fetcher")?;
        if let Some(t) = options.fetcher_timeout {
            fetcher_config.timeout = t;
        }
        let mut mapping_config = MappingConfig::from_template(&template, "FetcherFunction")?;
        if let Some(n) = options.fetcher_concurrency {
            mapping_config.max_concurrency = n;
            fetcher_config.reserved_concurrency = Some(n);
        }
        let fetcher = Function::new(fetcher_config, mapping_config.max_concurrency)?;
        let scheduler = Function::new(function("SchedulerFunction", "scheduler")?, 1)?;
        let stage = template
            .resources
            .get("HttpApi")
            .and_then(|r| r.properties["StageName"].as_str())
            .unwrap_or("$default")
            .to_owned();
        let http = HttpApi::start(api.clone(), &stage).await?;
        let queue = provisioned
            .bindings
            .refs
            .get("JobsQueue")
            .context("no JobsQueue")?;
        let mapping = if options.without_mapping {
            None
        } else {
            Some(
                Mapping::start(
                    aws.sqs.clone(),
                    queue,
                    Target::Runtime(fetcher.clone()),
                    mapping_config,
                )
                .await?,
            )
        };
        let schedule = (!options.without_schedule).then(|| {
            Schedule::start(
                Target::Runtime(scheduler.clone()),
                &format!("{name}-SchedulerTick"),
                options.schedule_period.unwrap_or(Duration::from_secs(60)),
            )
        });
        Ok(Self {
            api,
            fetcher,
            scheduler,
            http,
            mapping,
            stage,
            _schedule: schedule,
        })
    }
}
