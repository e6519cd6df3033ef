//! The market-data table: one item per row, keyed by owner, dataset and the row's natural key.
//!
//! | pk | sk | attributes |
//! |---|---|---|
//! | `<user id>#<dataset>#<partition>` (e.g. `usr_…#eq-bars-daily#72030`) | `<sort>` (e.g. `2024-01-04`) | `fields` (map of the provider's fields) |
//!
//! Kept apart from the jobs table: it grows with every fetch, and the per-job transactions
//! must not pay for its size.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};

use crate::dataset::{FieldName, FieldValue, Record};
use crate::store::dynamo::item::{Item, n, s};
use crate::store::dynamo::{batch_write, unavailable};
use crate::store::{RowScope, RowStore, StoreError};

/// The market-data table.
#[derive(Debug, Clone)]
pub struct DynamoRows {
    client: Client,
    table: String,
}

impl DynamoRows {
    /// The adapter over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn pk(scope: RowScope, partition: &str) -> String {
    format!("{}#{}#{partition}", scope.user_id, scope.dataset.as_str())
}

fn value(v: &FieldValue) -> AttributeValue {
    match v {
        FieldValue::Text(t) => s(t),
        FieldValue::Number(x) => n(x),
        FieldValue::Bool(b) => AttributeValue::Bool(*b),
        FieldValue::Null => AttributeValue::Null(true),
    }
}

fn field(v: &AttributeValue) -> Result<FieldValue, StoreError> {
    Ok(match v {
        AttributeValue::S(t) => FieldValue::Text(t.clone()),
        AttributeValue::N(x) => FieldValue::Number(
            x.parse()
                .map_err(|_| StoreError::Corrupt(format!("number `{x}`")))?,
        ),
        AttributeValue::Bool(b) => FieldValue::Bool(*b),
        AttributeValue::Null(_) => FieldValue::Null,
        other => return Err(StoreError::Corrupt(format!("unexpected field {other:?}"))),
    })
}

fn record_from(item: &Item) -> Result<Record, StoreError> {
    let partition = item
        .get("pk")
        .and_then(|v| v.as_s().ok())
        .and_then(|pk| pk.rsplit('#').next())
        .ok_or_else(|| StoreError::Corrupt("row without pk".into()))?
        .to_owned();
    let sort = item
        .get("sk")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Corrupt("row without sk".into()))?
        .clone();
    let Some(AttributeValue::M(map)) = item.get("fields") else {
        return Err(StoreError::Corrupt("row without fields".into()));
    };
    let mut fields = map
        .iter()
        .map(|(k, v)| Ok((FieldName::from(k.clone()), field(v)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Record {
        partition,
        sort,
        fields,
    })
}

#[async_trait]
impl RowStore for DynamoRows {
    async fn put_rows(&self, scope: RowScope, rows: &[Record]) -> Result<(), StoreError> {
        for chunk in rows.chunks(25) {
            // One BatchWriteItem may not carry two puts of the same key: the last row wins.
            let mut by_key: HashMap<(&str, &str), &Record> = HashMap::new();
            for r in chunk {
                by_key.insert((&r.partition, &r.sort), r);
            }
            let pending: Vec<WriteRequest> = by_key
                .values()
                .map(|r| {
                    let fields = r
                        .fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), value(v)))
                        .collect();
                    let item = Item::from([
                        ("pk".into(), s(pk(scope, &r.partition))),
                        ("sk".into(), s(&r.sort)),
                        ("fields".into(), AttributeValue::M(fields)),
                    ]);
                    let put = PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("item set");
                    WriteRequest::builder().put_request(put).build()
                })
                .collect();
            batch_write(&self.client, &self.table, pending).await?;
        }
        Ok(())
    }

    async fn query_rows(
        &self,
        scope: RowScope,
        partition: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<Record>, StoreError> {
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(pk(scope, partition)));
        q = match (from, to) {
            (Some(f), Some(t)) => q
                .key_condition_expression("pk = :pk AND sk BETWEEN :f AND :t")
                .expression_attribute_values(":f", s(f))
                .expression_attribute_values(":t", s(t)),
            (Some(f), None) => q
                .key_condition_expression("pk = :pk AND sk >= :f")
                .expression_attribute_values(":f", s(f)),
            (None, Some(t)) => q
                .key_condition_expression("pk = :pk AND sk <= :t")
                .expression_attribute_values(":t", s(t)),
            (None, None) => q.key_condition_expression("pk = :pk"),
        };
        let items: Vec<Item> = q
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(unavailable)?;
        items.iter().map(record_from).collect()
    }
}
