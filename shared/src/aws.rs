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

/// Counts SDK operations (not HTTP attempts: a retried call counts once) by `Service.Operation`,
/// and DynamoDB's single-table operations (get, put, update, delete, query) by table too: a
/// figure can then tell the rate limiter's calls, whose number follows the clock, from the job
/// engine's, which are fixed per batch and per completed job.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<Counts>>);

#[derive(Debug, Default)]
struct Counts {
    by_operation: BTreeMap<String, u64>,
    by_table: BTreeMap<String, u64>,
}

impl CallCounter {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Calls so far, by `Service.Operation`.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts().by_operation.clone()
    }

    /// DynamoDB's single-table calls so far, by table name.
    pub fn by_table(&self) -> BTreeMap<String, u64> {
        self.counts().by_table.clone()
    }

    /// All calls so far.
    pub fn total(&self) -> u64 {
        self.counts().by_operation.values().sum()
    }

    /// Forgets the counts.
    pub fn reset(&self) {
        *self.counts() = Counts::default();
    }
}

/// The table a DynamoDB single-table request names.
fn dynamodb_table(
    input: &aws_smithy_runtime_api::client::interceptors::context::Input,
) -> Option<String> {
    use aws_sdk_dynamodb::operation::{
        delete_item::DeleteItemInput, get_item::GetItemInput, put_item::PutItemInput,
        query::QueryInput, update_item::UpdateItemInput,
    };
    let name = input
        .downcast_ref::<GetItemInput>()
        .and_then(GetItemInput::table_name)
        .or_else(|| {
            input
                .downcast_ref::<PutItemInput>()
                .and_then(PutItemInput::table_name)
        })
        .or_else(|| {
            input
                .downcast_ref::<UpdateItemInput>()
                .and_then(UpdateItemInput::table_name)
        })
        .or_else(|| {
            input
                .downcast_ref::<DeleteItemInput>()
                .and_then(DeleteItemInput::table_name)
        })
        .or_else(|| {
            input
                .downcast_ref::<QueryInput>()
                .and_then(QueryInput::table_name)
        })?;
    Some(name.to_owned())
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    // Not `read_before_execution`: client-level interceptors run that hook before the
    // operation's configuration (which carries its name) is applied.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg.load::<Metadata>().map_or_else(
            || "unknown".to_owned(),
            |m| format!("{}.{}", m.service(), m.name()),
        );
        let table = dynamodb_table(context.input());
        let mut counts = self.counts();
        *counts.by_operation.entry(op).or_default() += 1;
        if let Some(table) = table {
            *counts.by_table.entry(table).or_default() += 1;
        }
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
