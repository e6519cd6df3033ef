//! Rate-limit state: one item per scope, `{pk, ver, state, expires_at}`, in a table of its own
//! that only the limiter touches. Every write is a `PutItem` conditioned on the version read,
//! so two fetchers can never both spend the same permit.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;

use super::LimiterStore;
use crate::limiter::ScopeState;
use crate::store::StoreError;
use crate::store::dynamo::item::{ItemExt, n, s};
use crate::store::dynamo::unavailable;

/// An idle scope's item expires (DynamoDB TTL) after two days: by then every window is over.
const IDLE_EXPIRY_SECS: i64 = 2 * 86_400;

/// The limiter state table.
#[derive(Debug, Clone)]
pub struct DynamoLimits {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoLimits {
    /// An adapter over `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: &str) -> Self {
        Self {
            client,
            table: table.to_owned(),
        }
    }
}

#[async_trait]
impl LimiterStore for DynamoLimits {
    async fn load_scope(&self, scope: &str) -> Result<(ScopeState, u64), StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(scope))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else {
            return Ok((ScopeState::default(), 0));
        };
        let state = serde_json::from_str(item.str("state")?)
            .map_err(|e| StoreError::Corrupt(format!("limiter state of {scope}: {e}")))?;
        Ok((state, item.num("ver")?))
    }

    async fn save_scope(
        &self,
        scope: &str,
        state: &ScopeState,
        version: u64,
    ) -> Result<bool, StoreError> {
        let text = serde_json::to_string(state)
            .map_err(|e| StoreError::Corrupt(format!("limiter state: {e}")))?;
        let expires = chrono::Utc::now().timestamp() + IDLE_EXPIRY_SECS;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(scope))
            .item("ver", n(version + 1))
            .item("state", AttributeValue::S(text))
            .item("expires_at", n(expires));
        let put = if version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("ver = :ver")
                .expression_attribute_values(":ver", n(version))
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(false),
                _ => Err(unavailable(e)),
            },
        }
    }
}
