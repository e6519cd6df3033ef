//! The IAM actions the functions perform, recorded at the SDK for the least-privilege check
//! (`infra/local/least_privilege.py`, run by `make test`).
//!
//! Off unless `MOOMOO_AWS_ACTIONS_LOG` names a file. Then every request a client labelled with
//! a function sends appends, once per process, one line per IAM action it needs:
//!
//! ```text
//! call <TAB> function <TAB> service:Action <TAB> resource <TAB> condition keys (JSON)
//! ```
//!
//! The action is the one IAM authorizes, not the SDK operation: a `TransactWriteItems` needs
//! `dynamodb:UpdateItem`/`PutItem`/`DeleteItem`/`ConditionCheckItem` on each item's table, a
//! `SendMessageBatch` is `sqs:SendMessage`, an S3 multipart upload is `s3:PutObject`, a
//! `ListObjectsV2` is `s3:ListBucket` on the bucket (its `s3:prefix` kept as a condition key),
//! a `ReEncrypt` is `kms:ReEncryptFrom` on the source key and `kms:ReEncryptTo` on the
//! destination. The resource is read from the request as sent (after endpoint resolution):
//! a table name (`<table>/index/<index>` for an index), a queue URL, `<bucket>` or
//! `<bucket>/<key>`, a KMS key id or alias, a secret id. A presigned request is recorded too:
//! S3 authorizes the link against the signer's permissions when it is used. Provisioning
//! writes `resource <TAB> logical id <TAB> physical name` lines ([`record_resource`]), so the
//! checker maps what was called back to the template's resources.
//!
//! Lines are written with one `write` each to a file opened for appending, so processes
//! sharing the file (the test process and the function binaries it starts) never interleave
//! within a line.

mod dynamodb;
mod kms;
mod s3;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

/// The variable naming the log file; recording is off when it is unset or empty.
pub const LOG_VAR: &str = "MOOMOO_AWS_ACTIONS_LOG";

struct Log {
    file: File,
    seen: HashSet<String>,
}

// Not configuration (shared::config): the switch of a test instrument, read where it is used
// so no function's configuration carries it.
#[allow(clippy::disallowed_methods)]
fn log() -> Option<&'static Mutex<Log>> {
    static LOG: OnceLock<Option<Mutex<Log>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let path = std::env::var_os(LOG_VAR).filter(|p| !p.is_empty())?;
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(file) => Some(Mutex::new(Log {
                file,
                seen: HashSet::new(),
            })),
            Err(e) => {
                tracing::warn!(error = %e, path = ?path, "cannot open the AWS actions log");
                None
            }
        }
    })
    .as_ref()
}

/// Whether recording is on (`MOOMOO_AWS_ACTIONS_LOG` is set).
pub fn enabled() -> bool {
    log().is_some()
}

fn append(line: String) {
    let Some(log) = log() else { return };
    let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
    if log.seen.insert(line.clone()) {
        let line = line + "\n";
        if let Err(e) = log.file.write_all(line.as_bytes()) {
            tracing::warn!(error = %e, "cannot append to the AWS actions log");
        }
    }
}

fn clean(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

/// Records that the template's resource `logical` was created as `physical` (a table name, a
/// queue URL or ARN, a key id, an alias, a secret ARN, a bucket name).
pub fn record_resource(logical: &str, physical: &str) {
    if enabled() {
        append(format!("resource\t{}\t{}", clean(logical), clean(physical)));
    }
}

/// One action a request needs IAM to allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Performed {
    /// `service:Action`, as IAM names it.
    pub action: String,
    /// The resource as the request names it (see the module's documentation).
    pub resource: String,
    /// Condition keys the request sets (`kms:EncryptionContext:<key>`,
    /// `kms:EncryptionContextKeys`, `s3:prefix`).
    pub conditions: BTreeMap<String, Value>,
}

impl Performed {
    fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            conditions: BTreeMap::new(),
        }
    }
}

/// An interceptor recording every request of its client as `function`'s.
#[derive(Debug, Clone)]
pub struct ActionRecorder {
    function: Arc<str>,
}

impl ActionRecorder {
    /// A recorder for `function` (its logical id in the template), or `None` when recording
    /// is off.
    pub fn for_function(function: &str) -> Option<Self> {
        enabled().then(|| Self {
            function: function.into(),
        })
    }
}

impl Intercept for ActionRecorder {
    fn name(&self) -> &'static str {
        "ActionRecorder"
    }

    // Before transmit: only then is the endpoint resolved (an S3 request's bucket is part of
    // it). It runs for each attempt and for presigned requests; the log keeps a line once.
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(meta) = cfg.load::<Metadata>() else {
            return Ok(());
        };
        let req = context.request();
        for p in iam_actions(meta.service(), meta.name(), req.uri(), req.body().bytes()) {
            let conditions = serde_json::to_string(&p.conditions).unwrap_or_default();
            append(format!(
                "call\t{}\t{}\t{}\t{}",
                clean(&self.function),
                clean(&p.action),
                clean(&p.resource),
                conditions
            ));
        }
        Ok(())
    }
}

/// The IAM actions a request of `service`'s `operation` needs (service as the SDK names it:
/// `DynamoDB`, `SQS`, `S3`, `KMS`, `Secrets Manager`), read from its URI and body.
pub fn iam_actions(
    service: &str,
    operation: &str,
    uri: &str,
    body: Option<&[u8]>,
) -> Vec<Performed> {
    let json = || -> Value {
        body.and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null)
    };
    let mut out = match service {
        "DynamoDB" => dynamodb::actions(operation, &json()),
        "SQS" => sqs(operation, &json()),
        "S3" => s3::actions(operation, uri, body),
        "KMS" => kms::actions(operation, &json()),
        "Secrets Manager" => {
            let id = json()["SecretId"].as_str().unwrap_or("*").to_owned();
            vec![Performed::new(format!("secretsmanager:{operation}"), id)]
        }
        other => vec![Performed::new(
            format!("{}:{operation}", other.to_lowercase().replace(' ', "")),
            "*",
        )],
    };
    let mut seen = Vec::new();
    out.retain(|p| {
        let fresh = !seen.contains(p);
        if fresh {
            seen.push(p.clone());
        }
        fresh
    });
    out
}

fn sqs(op: &str, body: &Value) -> Vec<Performed> {
    let action = match op {
        "SendMessageBatch" => "SendMessage",
        "DeleteMessageBatch" => "DeleteMessage",
        "ChangeMessageVisibilityBatch" => "ChangeMessageVisibility",
        other => other,
    };
    let queue = body["QueueUrl"]
        .as_str()
        .or_else(|| body["QueueName"].as_str())
        .unwrap_or("*");
    vec![Performed::new(format!("sqs:{action}"), queue)]
}
