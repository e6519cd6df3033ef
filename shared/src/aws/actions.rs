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
use base64::Engine as _;
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
        "DynamoDB" => dynamodb(operation, &json()),
        "SQS" => sqs(operation, &json()),
        "S3" => s3(operation, uri, body),
        "KMS" => kms(operation, &json()),
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

/// The tables' partition key attribute (`infra/TABLES.md`): its values are IAM's
/// `dynamodb:LeadingKeys`.
const PARTITION_KEY: &str = "pk";

fn dynamodb(op: &str, body: &Value) -> Vec<Performed> {
    let table = |v: &Value| -> String {
        let name = v["TableName"].as_str().unwrap_or("*");
        match v["IndexName"].as_str() {
            Some(index) => format!("{name}/index/{index}"),
            None => name.to_owned(),
        }
    };
    let leading = |mut p: Performed, keys: Vec<&Value>| -> Performed {
        let mut values: Vec<&str> = keys
            .into_iter()
            .filter_map(|k| k[PARTITION_KEY]["S"].as_str())
            .collect();
        values.sort_unstable();
        values.dedup();
        if !values.is_empty() {
            p.conditions
                .insert("dynamodb:LeadingKeys".into(), serde_json::json!(values));
        }
        p
    };
    // An item request names its item by `Key`, or by `Item` for a put.
    let item_key = |v: &Value| -> Value {
        if v["Key"].is_null() {
            v["Item"].clone()
        } else {
            v["Key"].clone()
        }
    };
    let action = |op: &str| format!("dynamodb:{op}");
    match op {
        "TransactWriteItems" | "TransactGetItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|item| {
                [
                    ("Put", "PutItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                    ("ConditionCheck", "ConditionCheckItem"),
                    ("Get", "GetItem"),
                ]
                .into_iter()
                .filter(|(k, _)| !item[*k].is_null())
                .map(|(k, a)| {
                    let v = &item[k];
                    leading(Performed::new(action(a), table(v)), vec![&item_key(v)])
                })
            })
            .collect(),
        "BatchGetItem" | "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(t, req)| {
                let keys: Vec<Value> = match req["Keys"].as_array() {
                    Some(keys) => keys.clone(),
                    None => req
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|w| {
                            if w["PutRequest"].is_null() {
                                w["DeleteRequest"]["Key"].clone()
                            } else {
                                w["PutRequest"]["Item"].clone()
                            }
                        })
                        .collect(),
                };
                leading(Performed::new(action(op), t.clone()), keys.iter().collect())
            })
            .collect(),
        "Query" => {
            // `pk = :v` in the key condition of a table (not an index) query.
            let expr = body["KeyConditionExpression"].as_str().unwrap_or("");
            let value = body["IndexName"]
                .is_null()
                .then(|| {
                    let rest = expr.strip_prefix(PARTITION_KEY)?.trim_start();
                    let name = rest.strip_prefix('=')?.split_whitespace().next()?;
                    Some(serde_json::json!({ PARTITION_KEY: body["ExpressionAttributeValues"][name] }))
                })
                .flatten();
            vec![leading(
                Performed::new(action(op), table(body)),
                value.iter().collect(),
            )]
        }
        "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem" => {
            let key = item_key(body);
            vec![leading(Performed::new(action(op), table(body)), vec![&key])]
        }
        _ => vec![Performed::new(action(op), table(body))],
    }
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

fn kms(op: &str, body: &Value) -> Vec<Performed> {
    // A ciphertext names its key only to KMS. The emulator's (moto's) blobs start with the
    // key id, which is what KMS authorizes a Decrypt or ReEncrypt against.
    let key_of_ciphertext = || -> String {
        body["CiphertextBlob"]
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| {
                let head = std::str::from_utf8(b.get(..36)?).ok()?;
                uuid::Uuid::parse_str(head).ok().map(|_| head.to_owned())
            })
            .unwrap_or_else(|| "ciphertext".to_owned())
    };
    let with_context = |mut p: Performed, ctx: &Value| -> Performed {
        if let Some(ctx) = ctx.as_object() {
            let mut keys: Vec<&String> = ctx.keys().collect();
            keys.sort();
            p.conditions
                .insert("kms:EncryptionContextKeys".into(), serde_json::json!(keys));
            for (k, v) in ctx {
                p.conditions
                    .insert(format!("kms:EncryptionContext:{k}"), v.clone());
            }
        }
        p
    };
    let key = |field: &str| body[field].as_str().map(str::to_owned);
    match op {
        "ReEncrypt" => vec![
            with_context(
                Performed::new(
                    "kms:ReEncryptFrom",
                    key("SourceKeyId").unwrap_or_else(key_of_ciphertext),
                ),
                &body["SourceEncryptionContext"],
            ),
            with_context(
                Performed::new(
                    "kms:ReEncryptTo",
                    key("DestinationKeyId").unwrap_or_else(|| "*".into()),
                ),
                &body["DestinationEncryptionContext"],
            ),
        ],
        "Decrypt" => vec![with_context(
            Performed::new(
                "kms:Decrypt",
                key("KeyId").unwrap_or_else(key_of_ciphertext),
            ),
            &body["EncryptionContext"],
        )],
        _ => vec![with_context(
            Performed::new(
                format!("kms:{op}"),
                key("KeyId").unwrap_or_else(|| "*".into()),
            ),
            &body["EncryptionContext"],
        )],
    }
}

/// Percent-decoding of a URI component (`+` stays: S3 paths encode spaces as `%20`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn s3(op: &str, uri: &str, body: Option<&[u8]>) -> Vec<Performed> {
    // scheme://host/path?query; the bucket is the host's first label when virtual-hosted
    // (`<bucket>.s3.<region>.amazonaws.com`), else the path's first segment (path-style, as
    // against the emulator).
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let (host, path_query) = rest.split_once('/').unwrap_or((rest, ""));
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    let (bucket, key) = match host.split_once(".s3.") {
        Some((bucket, _)) => (percent_decode(bucket), percent_decode(path)),
        None => {
            let (b, k) = path.split_once('/').unwrap_or((path, ""));
            (percent_decode(b), percent_decode(k))
        }
    };
    let object = |action: &str| Performed::new(format!("s3:{action}"), format!("{bucket}/{key}"));
    let on_bucket = |action: &str| Performed::new(format!("s3:{action}"), bucket.clone());
    match op {
        "GetObject" | "HeadObject" => vec![object("GetObject")],
        "PutObject" | "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => {
            vec![object("PutObject")]
        }
        "AbortMultipartUpload" => vec![object("AbortMultipartUpload")],
        "DeleteObject" => vec![object("DeleteObject")],
        "DeleteObjects" => {
            let text = body.map(String::from_utf8_lossy).unwrap_or_default();
            text.split("<Key>")
                .skip(1)
                .filter_map(|s| s.split_once("</Key>").map(|(k, _)| xml_unescape(k)))
                .map(|k| Performed::new("s3:DeleteObject", format!("{bucket}/{k}")))
                .collect()
        }
        "ListObjectsV2" | "ListObjects" | "HeadBucket" => {
            let mut p = on_bucket("ListBucket");
            if let Some(prefix) = query.split('&').find_map(|kv| kv.strip_prefix("prefix=")) {
                p.conditions.insert(
                    "s3:prefix".into(),
                    Value::String(percent_decode(&prefix.replace('+', " "))),
                );
            }
            vec![p]
        }
        "ListMultipartUploads" => vec![on_bucket("ListBucketMultipartUploads")],
        "ListParts" => vec![object("ListMultipartUploadParts")],
        other if key.is_empty() => vec![on_bucket(other)],
        other => vec![object(other)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(actions: &[Performed]) -> Vec<(&str, &str)> {
        actions
            .iter()
            .map(|p| (p.action.as_str(), p.resource.as_str()))
            .collect()
    }

    #[test]
    fn a_transaction_needs_each_items_action_on_its_table() {
        let body = br#"{"TransactItems":[
            {"Update":{"TableName":"s-JobsTable","Key":{}}},
            {"Put":{"TableName":"s-JobsTable","Item":{}}},
            {"ConditionCheck":{"TableName":"s-AccountsTable","Key":{}}},
            {"Update":{"TableName":"s-JobsTable","Key":{}}},
            {"Delete":{"TableName":"s-RateLimitsTable","Key":{}}}]}"#;
        let got = iam_actions("DynamoDB", "TransactWriteItems", "http://x/", Some(body));
        assert_eq!(
            one(&got),
            [
                ("dynamodb:UpdateItem", "s-JobsTable"),
                ("dynamodb:PutItem", "s-JobsTable"),
                ("dynamodb:ConditionCheckItem", "s-AccountsTable"),
                ("dynamodb:DeleteItem", "s-RateLimitsTable"),
            ]
        );
        let get = br#"{"TransactItems":[{"Get":{"TableName":"t","Key":{}}}]}"#;
        assert_eq!(
            one(&iam_actions("DynamoDB", "TransactGetItems", "", Some(get))),
            [("dynamodb:GetItem", "t")]
        );
    }

    #[test]
    fn dynamodb_names_the_table_or_its_index() {
        let q = br#"{"TableName":"s-JobsTable","IndexName":"active","KeyConditionExpression":"x"}"#;
        assert_eq!(
            one(&iam_actions("DynamoDB", "Query", "", Some(q))),
            [("dynamodb:Query", "s-JobsTable/index/active")]
        );
        let g = br#"{"TableName":"s-AccountsTable","Key":{}}"#;
        assert_eq!(
            one(&iam_actions("DynamoDB", "GetItem", "", Some(g))),
            [("dynamodb:GetItem", "s-AccountsTable")]
        );
        let b = br#"{"RequestItems":{"a":{"Keys":[]},"b":{"Keys":[]}}}"#;
        assert_eq!(
            one(&iam_actions("DynamoDB", "BatchGetItem", "", Some(b))),
            [
                ("dynamodb:BatchGetItem", "a"),
                ("dynamodb:BatchGetItem", "b")
            ]
        );
    }

    #[test]
    fn dynamodb_leading_keys_are_the_partition_keys_named() {
        let keys = |p: &Performed| p.conditions.get("dynamodb:LeadingKeys").cloned();
        let g = br#"{"TableName":"t","Key":{"pk":{"S":"USER#u1"},"sk":{"S":"USER"}}}"#;
        let got = iam_actions("DynamoDB", "GetItem", "", Some(g));
        assert_eq!(keys(&got[0]), Some(serde_json::json!(["USER#u1"])));
        let put = br#"{"TableName":"t","Item":{"pk":{"S":"DATASOURCE"},"sk":{"S":"x"}}}"#;
        let got = iam_actions("DynamoDB", "PutItem", "", Some(put));
        assert_eq!(keys(&got[0]), Some(serde_json::json!(["DATASOURCE"])));
        let q = br#"{"TableName":"t","KeyConditionExpression":"pk = :pk AND begins_with(sk, :s)","ExpressionAttributeValues":{":pk":{"S":"GROUP#g"},":s":{"S":"JOB#"}}}"#;
        let got = iam_actions("DynamoDB", "Query", "", Some(q));
        assert_eq!(keys(&got[0]), Some(serde_json::json!(["GROUP#g"])));
        let gsi = br#"{"TableName":"t","IndexName":"gsi1","KeyConditionExpression":"gsi1pk = :p","ExpressionAttributeValues":{":p":{"S":"USERS"}}}"#;
        let got = iam_actions("DynamoDB", "Query", "", Some(gsi));
        assert_eq!(keys(&got[0]), None, "an index's key is not the table's");
        let batch = br#"{"RequestItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"GROUP#b"}}}},{"PutRequest":{"Item":{"pk":{"S":"GROUP#a"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"GROUP#a"}}}}]}}"#;
        let got = iam_actions("DynamoDB", "BatchWriteItem", "", Some(batch));
        assert_eq!(
            keys(&got[0]),
            Some(serde_json::json!(["GROUP#a", "GROUP#b"]))
        );
        let tx = br#"{"TransactItems":[{"Update":{"TableName":"t","Key":{"pk":{"S":"USER#u"}}}},{"Put":{"TableName":"t","Item":{"pk":{"S":"APIKEY#h"}}}}]}"#;
        let got = iam_actions("DynamoDB", "TransactWriteItems", "", Some(tx));
        assert_eq!(keys(&got[0]), Some(serde_json::json!(["USER#u"])));
        assert_eq!(keys(&got[1]), Some(serde_json::json!(["APIKEY#h"])));
    }

    #[test]
    fn sqs_batches_are_their_single_actions() {
        let b = br#"{"QueueUrl":"http://127.0.0.1:1/123456789012/s-JobsQueue","Entries":[]}"#;
        for (op, action) in [
            ("SendMessageBatch", "sqs:SendMessage"),
            ("DeleteMessageBatch", "sqs:DeleteMessage"),
            (
                "ChangeMessageVisibilityBatch",
                "sqs:ChangeMessageVisibility",
            ),
            ("ReceiveMessage", "sqs:ReceiveMessage"),
        ] {
            assert_eq!(
                one(&iam_actions("SQS", op, "", Some(b))),
                [(action, "http://127.0.0.1:1/123456789012/s-JobsQueue")]
            );
        }
    }

    #[test]
    fn s3_objects_buckets_and_prefixes() {
        let put = "http://127.0.0.1:5000/s-rawpayloadbucket/raw/u/g/j/0001.json.gz?x-id=PutObject";
        assert_eq!(
            one(&iam_actions("S3", "PutObject", put, None)),
            [("s3:PutObject", "s-rawpayloadbucket/raw/u/g/j/0001.json.gz")]
        );
        let part = "http://h:1/b/exports/a%20b.csv?partNumber=2&uploadId=x&x-id=UploadPart";
        assert_eq!(
            one(&iam_actions("S3", "UploadPart", part, None)),
            [("s3:PutObject", "b/exports/a b.csv")]
        );
        let hosted = "https://b.s3.ap-northeast-1.amazonaws.com/exports/x.csv?X-Amz-Signature=1";
        assert_eq!(
            one(&iam_actions("S3", "GetObject", hosted, None)),
            [("s3:GetObject", "b/exports/x.csv")]
        );
        let list = "http://h:1/b?list-type=2&prefix=raw%2Fu%2F";
        let got = iam_actions("S3", "ListObjectsV2", list, None);
        assert_eq!(one(&got), [("s3:ListBucket", "b")]);
        assert_eq!(got[0].conditions["s3:prefix"], "raw/u/");
        let delete = b"<Delete><Object><Key>raw/a&amp;b</Key></Object><Object><Key>raw/c</Key></Object><Quiet>true</Quiet></Delete>";
        assert_eq!(
            one(&iam_actions(
                "S3",
                "DeleteObjects",
                "http://h:1/b?delete",
                Some(delete)
            )),
            [
                ("s3:DeleteObject", "b/raw/a&b"),
                ("s3:DeleteObject", "b/raw/c")
            ]
        );
    }

    #[test]
    fn kms_keys_and_encryption_context() {
        let gen_key = br#"{"KeyId":"alias/s-credentials","KeySpec":"AES_256","EncryptionContext":{"user_id":"u1","purpose":"credentials","data_source_id":"jquants-v2"}}"#;
        let got = iam_actions("KMS", "GenerateDataKey", "", Some(gen_key));
        assert_eq!(one(&got), [("kms:GenerateDataKey", "alias/s-credentials")]);
        assert_eq!(
            got[0].conditions["kms:EncryptionContextKeys"],
            serde_json::json!(["data_source_id", "purpose", "user_id"])
        );
        assert_eq!(
            got[0].conditions["kms:EncryptionContext:purpose"],
            "credentials"
        );

        // moto's ciphertext blob starts with the key id.
        let key = "0b1f3c6e-8f1a-4b7e-9c1d-2a3b4c5d6e7f";
        let mut blob = key.as_bytes().to_vec();
        blob.extend([0u8; 40]);
        let blob = base64::engine::general_purpose::STANDARD.encode(blob);
        let decrypt = format!(
            r#"{{"CiphertextBlob":"{blob}","EncryptionContext":{{"purpose":"id_token"}}}}"#
        );
        let got = iam_actions("KMS", "Decrypt", "", Some(decrypt.as_bytes()));
        assert_eq!(one(&got), [("kms:Decrypt", key)]);
        let re = format!(
            r#"{{"CiphertextBlob":"{blob}","DestinationKeyId":"alias/a","SourceEncryptionContext":{{"purpose":"credentials"}},"DestinationEncryptionContext":{{"purpose":"credentials"}}}}"#
        );
        let got = iam_actions("KMS", "ReEncrypt", "", Some(re.as_bytes()));
        assert_eq!(
            one(&got),
            [("kms:ReEncryptFrom", key), ("kms:ReEncryptTo", "alias/a")]
        );
        assert!(
            got.iter()
                .all(|p| p.conditions["kms:EncryptionContext:purpose"] == "credentials")
        );
        let opaque = br#"{"CiphertextBlob":"AAAA"}"#;
        assert_eq!(
            one(&iam_actions("KMS", "Decrypt", "", Some(opaque))),
            [("kms:Decrypt", "ciphertext")]
        );
    }

    #[test]
    fn secrets_by_their_id() {
        let b = br#"{"SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:s/AdminBootstrapSecret-AbCdEf","VersionStage":"AWSPREVIOUS"}"#;
        assert_eq!(
            one(&iam_actions(
                "Secrets Manager",
                "GetSecretValue",
                "",
                Some(b)
            )),
            [(
                "secretsmanager:GetSecretValue",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:s/AdminBootstrapSecret-AbCdEf"
            )]
        );
    }
}
