//! Creates the template's resources in the emulator. Supported types are the ones the template
//! uses; anything else that holds state fails loudly instead of being skipped, and the HTTP API,
//! functions and event-source mappings are emulated by [`crate::stack`] and [`crate::esm`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_norway::Value;

use crate::template::{Bindings, Template, resolve};

/// The repository's `template.yaml`.
pub fn template_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

/// What was created, and the environment of each function.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// Resolved intrinsics (`Ref` of each resource: table names, queue URLs, secret ARNs…).
    pub bindings: Bindings,
    /// Each function's resolved environment, by logical id.
    pub function_env: BTreeMap<String, BTreeMap<String, String>>,
}

/// The AWS clients provisioning needs.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// KMS.
    pub kms: aws_sdk_kms::Client,
    /// Secrets Manager.
    pub secrets: aws_sdk_secretsmanager::Client,
    /// S3 (path-style, as moto needs).
    pub s3: aws_sdk_s3::Client,
}

impl AwsClients {
    /// Clients from one SDK configuration.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            kms: aws_sdk_kms::Client::new(sdk),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
            s3: aws_sdk_s3::Client::from_conf(s3),
        }
    }
}

/// The ARN of the queue at `url`.
pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<String> {
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?;
    attrs
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .context("no queue ARN")
}

/// Creates every resource of `template` named after `stack` (a short unique prefix).
pub async fn provision(
    template: &Template,
    stack: &str,
    aws: &AwsClients,
) -> anyhow::Result<Provisioned> {
    let mut b = Bindings::default();
    b.refs.insert("AWS::StackName".into(), stack.into());
    b.refs.insert("AWS::Region".into(), "us-east-1".into());
    b.refs
        .insert("AWS::AccountId".into(), "123456789012".into());
    b.refs.insert("AWS::Partition".into(), "aws".into());
    b.refs
        .insert("AWS::URLSuffix".into(), "amazonaws.com".into());

    for (id, r) in template.of_kind("AWS::DynamoDB::Table") {
        let name = format!("{stack}-{id}");
        create_table(&aws.dynamodb, &name, &r.properties)
            .await
            .with_context(|| format!("table {id}"))?;
        b.refs.insert(id.clone(), name);
    }
    // Dead-letter queues first: a queue's redrive policy names its DLQ's ARN.
    let mut queues: Vec<_> = template.of_kind("AWS::SQS::Queue").collect();
    queues.sort_by_key(|(_, r)| !r.properties["RedrivePolicy"].is_null());
    for (id, r) in queues {
        let name = format!("{stack}-{id}");
        let mut req = aws.sqs.create_queue().queue_name(&name);
        for (prop, attr) in [
            ("VisibilityTimeout", QueueAttributeName::VisibilityTimeout),
            (
                "MessageRetentionPeriod",
                QueueAttributeName::MessageRetentionPeriod,
            ),
        ] {
            if let Some(v) = r.properties.get(prop) {
                req = req.attributes(attr, resolve(v, &b)?);
            }
        }
        if let Some(rp) = r.properties.get("RedrivePolicy") {
            let policy = serde_json::json!({
                "deadLetterTargetArn": resolve(&rp["deadLetterTargetArn"], &b)?,
                "maxReceiveCount": resolve(&rp["maxReceiveCount"], &b)?,
            });
            req = req.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        let url = req
            .send()
            .await
            .with_context(|| format!("queue {id}"))?
            .queue_url
            .context("no queue URL")?;
        let arn = queue_arn(&aws.sqs, &url).await?;
        b.attrs.insert(format!("{id}.Arn"), arn);
        b.attrs.insert(format!("{id}.QueueName"), name);
        b.refs.insert(id.clone(), url);
    }
    for (id, r) in template.of_kind("AWS::KMS::Key") {
        let key = aws
            .kms
            .create_key()
            .description(format!("{stack} {id}"))
            .send()
            .await?
            .key_metadata
            .context("no key")?;
        if r.properties
            .get("EnableKeyRotation")
            .and_then(Value::as_bool)
            == Some(true)
        {
            aws.kms
                .enable_key_rotation()
                .key_id(key.key_id())
                .send()
                .await?;
        }
        b.attrs
            .insert(format!("{id}.Arn"), key.arn.clone().context("no key ARN")?);
        b.refs.insert(id.clone(), key.key_id().to_owned());
    }
    for (id, r) in template.of_kind("AWS::KMS::Alias") {
        let alias = resolve(&r.properties["AliasName"], &b)?;
        let target = resolve(&r.properties["TargetKeyId"], &b)?;
        aws.kms
            .create_alias()
            .alias_name(&alias)
            .target_key_id(target)
            .send()
            .await?;
        b.refs.insert(id.clone(), alias);
    }
    for (id, r) in template.of_kind("AWS::SecretsManager::Secret") {
        let len = r.properties["GenerateSecretString"]["PasswordLength"]
            .as_u64()
            .unwrap_or(32) as usize;
        let out = aws
            .secrets
            .create_secret()
            .name(format!("{stack}/{id}"))
            .secret_string(random_alphanumeric(len))
            .send()
            .await
            .with_context(|| format!("secret {id}"))?;
        b.refs.insert(id.clone(), out.arn.context("no secret ARN")?);
    }
    for (id, _) in template.of_kind("AWS::S3::Bucket") {
        let name = format!("{stack}-{}", id.to_lowercase());
        aws.s3
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .with_context(|| format!("bucket {id}"))?;
        b.refs.insert(id.clone(), name);
    }
    for (id, r) in &template.resources {
        let handled = matches!(
            r.kind.as_str(),
            "AWS::DynamoDB::Table"
                | "AWS::SQS::Queue"
                | "AWS::KMS::Key"
                | "AWS::KMS::Alias"
                | "AWS::SecretsManager::Secret"
                | "AWS::S3::Bucket"
                | "AWS::Serverless::Function"
                | "AWS::Serverless::HttpApi"
                // Operations only: nothing the functions read or write goes through these
                // (logs, alarms and the dashboard watch the stack; the bucket policy refuses
                // plain HTTP, which moto would not enforce), so they are not created here.
                | "AWS::Logs::LogGroup"
                | "AWS::Logs::MetricFilter"
                | "AWS::SNS::Topic"
                | "AWS::SNS::Subscription"
                | "AWS::CloudWatch::Alarm"
                | "AWS::CloudWatch::Dashboard"
                | "AWS::S3::BucketPolicy"
        );
        if !handled {
            bail!(
                "resource {id} of type {} has no local emulation: add it to devstack::provision",
                r.kind
            );
        }
    }
    // For the least-privilege check: what each resource is called here, so the actions the
    // functions record (shared::aws::actions) map back to the template's resources.
    for (id, physical) in &b.refs {
        if !id.starts_with("AWS::") {
            shared::aws::actions::record_resource(id, physical);
        }
    }
    for (attr, physical) in &b.attrs {
        let id = attr.split_once('.').map_or(attr.as_str(), |(id, _)| id);
        shared::aws::actions::record_resource(id, physical);
    }
    let mut function_env = BTreeMap::new();
    for (id, _) in template.of_kind("AWS::Serverless::Function") {
        function_env.insert(id.clone(), template.function_env(id, &b)?);
    }
    Ok(Provisioned {
        bindings: b,
        function_env,
    })
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    p: &Value,
) -> anyhow::Result<()> {
    let key_schema = |v: &Value| -> anyhow::Result<Vec<KeySchemaElement>> {
        v.as_sequence()
            .context("KeySchema")?
            .iter()
            .map(|k| {
                Ok(KeySchemaElement::builder()
                    .attribute_name(k["AttributeName"].as_str().context("AttributeName")?)
                    .key_type(KeyType::from(k["KeyType"].as_str().context("KeyType")?))
                    .build()?)
            })
            .collect()
    };
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&p["KeySchema"])?));
    for a in p["AttributeDefinitions"]
        .as_sequence()
        .context("AttributeDefinitions")?
    {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(a["AttributeName"].as_str().context("AttributeName")?)
                .attribute_type(ScalarAttributeType::from(
                    a["AttributeType"].as_str().context("AttributeType")?,
                ))
                .build()?,
        );
    }
    if let Some(gsis) = p.get("GlobalSecondaryIndexes").and_then(Value::as_sequence) {
        for g in gsis {
            let projection =
                ProjectionType::from(g["Projection"]["ProjectionType"].as_str().unwrap_or("ALL"));
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(g["IndexName"].as_str().context("IndexName")?)
                    .set_key_schema(Some(key_schema(&g["KeySchema"])?))
                    .projection(Projection::builder().projection_type(projection).build())
                    .build()?,
            );
        }
    }
    req.send().await?;
    Ok(())
}

fn random_alphanumeric(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::iter::repeat_with(|| uuid::Uuid::new_v4().into_bytes())
        .flatten()
        .take(len)
        .map(|b| ALPHABET[b as usize % ALPHABET.len()] as char)
        .collect()
}
