//! AWS SDK set-up shared by every function, and an interceptor that counts calls per operation
//! so benchmarks can report AWS calls per job measured at the SDK layer. [`actions`] records
//! the IAM actions a function performs, for the least-privilege check (off unless asked for).

pub mod actions;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Loads the SDK configuration from the environment (region, credentials, and
/// `AWS_ENDPOINT_URL`, which points every client at the local emulator in tests).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

/// Counts SDK operations (not HTTP attempts: a retried call counts once) by `Service.Operation`.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl CallCounter {
    /// Calls so far, by `Service.Operation`.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// All calls so far.
    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }

    /// Forgets the counts.
    pub fn reset(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    // Not `read_before_execution`: client-level interceptors run that hook before the
    // operation's configuration (which carries its name) is applied.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg.load::<Metadata>().map_or_else(
            || "unknown".to_owned(),
            |m| format!("{}.{}", m.service(), m.name()),
        );
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(op)
            .or_default() += 1;
        Ok(())
    }
}

/// The SDK clients the functions use, built once per process and shared (they are cheap
/// `Arc` handles).
#[derive(Debug, Clone)]
pub struct Clients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// KMS.
    pub kms: aws_sdk_kms::Client,
    /// Secrets Manager.
    pub secrets: aws_sdk_secretsmanager::Client,
    /// S3 (path-style addressing when an endpoint override points at an emulator).
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    /// Builds every client from one configuration, each with `counter` attached when given.
    /// When the IAM actions are being recorded ([`actions`]), the requests are recorded as
    /// those of the function named by `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda, the
    /// Lambda-shaped runtime and `cargo lambda watch`), if any.
    // Lambda's own setting, read only to label recorded actions (like the log settings
    // shared::telemetry reads), not the function's configuration.
    #[allow(clippy::disallowed_methods)]
    pub fn new(sdk: &aws_config::SdkConfig, counter: Option<&CallCounter>) -> Self {
        let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok();
        Self::build(sdk, counter, function.as_deref())
    }

    /// Like [`Clients::new`], the requests recorded as `function`'s (its logical id in the
    /// template): for a function's dependencies built in-process, as tests and the local
    /// stack do.
    pub fn for_function(
        sdk: &aws_config::SdkConfig,
        counter: Option<&CallCounter>,
        function: &str,
    ) -> Self {
        Self::build(sdk, counter, Some(function))
    }

    fn build(
        sdk: &aws_config::SdkConfig,
        counter: Option<&CallCounter>,
        function: Option<&str>,
    ) -> Self {
        let recorder = function.and_then(actions::ActionRecorder::for_function);
        macro_rules! client {
            ($krate:ident, $builder:expr) => {{
                let mut b = $builder;
                if let Some(c) = counter {
                    b = b.interceptor(c.clone());
                }
                if let Some(r) = &recorder {
                    b = b.interceptor(r.clone());
                }
                $krate::Client::from_conf(b.build())
            }};
            ($krate:ident) => {
                client!($krate, $krate::config::Builder::from(sdk))
            };
        }
        Self {
            dynamodb: client!(aws_sdk_dynamodb),
            sqs: client!(aws_sdk_sqs),
            kms: client!(aws_sdk_kms),
            secrets: client!(aws_sdk_secretsmanager),
            s3: client!(
                aws_sdk_s3,
                aws_sdk_s3::config::Builder::from(sdk)
                    .force_path_style(sdk.endpoint_url().is_some())
            ),
        }
    }
}
