//! The accounts table: users, API keys, credentials and data sources.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | user, with its keys (`api_keys`, `keys_version`) and `disabled`; gsi1 `USERS` / `<user id>` | `USER#<user id>` | `USER` |
//! | active API key, as authentication finds it (owner's fields copied, `user_disabled` too) | `APIKEY#<hmac hex>` | `APIKEY` |
//! | the first administrator's bootstrap, done | `BOOTSTRAP` | `BOOTSTRAP` |
//! | credential | `USER#<user id>` | `CREDENTIAL#<data source id>` |
//! | data source | `DATASOURCE` | `<data source id>` |

mod item;

use std::collections::HashSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use crate::domain::{ApiKeyId, DataSource, DataSourceCredential, DataSourceId, User, UserId};
use crate::store::StoreError;
use crate::store::accounts::{
    ApiKeyRecord, CredentialStore, DataSourceStore, KeyRefused, KeyRing, UserStore,
};
use crate::store::dynamo::item::{Item, n, s};
use crate::store::dynamo::unavailable;

use item::{
    USERS_GSI_PK, credential_from, credential_item, ds_from, ds_item, key_from, key_item,
    ring_entry, ring_from, user_from, user_item,
};

/// Attempts of a change of a user's keys that lost a race with another change of them.
const KEY_CHANGE_ATTEMPTS: usize = 5;

/// The accounts table.
#[derive(Debug, Clone)]
pub struct DynamoAccounts {
    client: Client,
    table: String,
}

impl DynamoAccounts {
    /// The adapter over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        self.read(pk, sk, false).await
    }

    /// A strongly consistent read: what authentication and the kill switches rely on (a key
    /// revoked or a user disabled a moment ago is seen so).
    async fn get_consistent(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        self.read(pk, sk, true).await
    }

    async fn read(
        &self,
        pk: String,
        sk: String,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }
}

fn put_new(table: &str, item: Item) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
}

impl DynamoAccounts {
    /// Writes a new user with its first key, and (`bootstrap`) the marker of the first
    /// administrator's bootstrap, in one transaction. `Ok(false)` when the marker existed.
    async fn put_user(
        &self,
        user: &User,
        key: &ApiKeyRecord,
        bootstrap: bool,
    ) -> Result<bool, StoreError> {
        let mut with_keys = user_item(user);
        with_keys.insert("api_keys".into(), AttributeValue::L(vec![ring_entry(key)]));
        with_keys.insert("keys_version".into(), n(1));
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(put_new(&self.table, with_keys))
            .transact_items(put_new(&self.table, key_item(key, user)));
        if bootstrap {
            let marker = Item::from([
                ("pk".into(), s("BOOTSTRAP")),
                ("sk".into(), s("BOOTSTRAP")),
                ("user_id".into(), s(user.id.to_string())),
                (
                    "created_at".into(),
                    crate::store::dynamo::item::ts(user.created_at),
                ),
            ]);
            tx = tx.transact_items(put_new(&self.table, marker));
        }
        match tx.send().await {
            Ok(_) => Ok(true),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    let failed = |i: usize| {
                        c.cancellation_reasons().get(i).and_then(|r| r.code())
                            == Some("ConditionalCheckFailed")
                    };
                    if bootstrap && failed(2) {
                        Ok(false)
                    } else if failed(0) || failed(1) {
                        Err(StoreError::AlreadyExists)
                    } else {
                        Err(unavailable(e))
                    }
                }
                _ => Err(unavailable(e)),
            },
        }
    }
}

#[async_trait]
impl UserStore for DynamoAccounts {
    async fn create_user(&self, user: &User, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.put_user(user, key, false).await.map(|_| ())
    }

    async fn create_first_admin(
        &self,
        user: &User,
        key: &ApiKeyRecord,
    ) -> Result<bool, StoreError> {
        self.put_user(user, key, true).await
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.get_consistent(format!("USER#{id}"), "USER".into())
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn list_users(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<(Vec<User>, Option<UserId>), StoreError> {
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s(USERS_GSI_PK))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        if let Some(id) = after {
            q = q.set_exclusive_start_key(Some(Item::from([
                ("pk".into(), s(format!("USER#{id}"))),
                ("sk".into(), s("USER")),
                ("gsi1pk".into(), s(USERS_GSI_PK)),
                ("gsi1sk".into(), s(id.to_string())),
            ])));
        }
        let out = q.send().await.map_err(unavailable)?;
        let page = out
            .items
            .unwrap_or_default()
            .iter()
            .map(user_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match out.last_evaluated_key {
            Some(_) => page.last().map(|u| u.id),
            None => None,
        };
        Ok((page, next))
    }

    async fn set_disabled(&self, id: UserId, disabled: bool) -> Result<Option<User>, StoreError> {
        for _ in 0..KEY_CHANGE_ATTEMPTS {
            let Some((mut user, ring, version)) = self.user_with_keys(id).await? else {
                return Ok(None);
            };
            user.disabled = disabled;
            let mut items: Vec<TransactWriteItem> = ring
                .keys()
                .iter()
                .filter(|k| k.revoked_at.is_none())
                .map(|k| {
                    let update = Update::builder()
                        .table_name(&self.table)
                        .key("pk", s(format!("APIKEY#{}", k.hash)))
                        .key("sk", s("APIKEY"))
                        .update_expression("SET user_disabled = :d")
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_values(":d", AttributeValue::Bool(disabled))
                        .build()
                        .expect("table, key and expression are set");
                    TransactWriteItem::builder().update(update).build()
                })
                .collect();
            items.push(self.user_update(id, &ring, version, Some(disabled)));
            let res = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            match res {
                Ok(_) => return Ok(Some(user)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_transaction_canceled_exception()) => {}
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(StoreError::Unavailable(anyhow::anyhow!(
            "the keys of user {id} kept changing during {KEY_CHANGE_ATTEMPTS} attempts"
        )))
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<(ApiKeyRecord, User)>, StoreError> {
        self.get_consistent(format!("APIKEY#{hash}"), "APIKEY".into())
            .await?
            .as_ref()
            .map(key_from)
            .transpose()
    }

    async fn list_api_keys(&self, user: UserId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        Ok(match self.user_with_keys(user).await? {
            Some((_, ring, _)) => ring.into_keys(),
            None => Vec::new(),
        })
    }

    async fn add_api_key(&self, key: &ApiKeyRecord) -> Result<Result<(), KeyRefused>, StoreError> {
        self.change_keys(key.user_id, |ring| ring.add(key.clone()))
            .await
    }

    async fn revoke_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<Result<ApiKeyRecord, KeyRefused>, StoreError> {
        self.change_keys(user, |ring| ring.revoke(id, now)).await
    }

    async fn rotate_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        new: &ApiKeyRecord,
        now: DateTime<Utc>,
    ) -> Result<Result<ApiKeyRecord, KeyRefused>, StoreError> {
        self.change_keys(user, |ring| ring.rotate(id, new.clone(), now))
            .await
    }

    async fn revoke_all_api_keys(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Result<usize, KeyRefused>, StoreError> {
        self.change_keys(user, |ring| Ok(ring.revoke_all(now)))
            .await
    }

    async fn rehash_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        hash: &str,
    ) -> Result<Result<(), KeyRefused>, StoreError> {
        self.change_keys(user, |ring| ring.rehash(id, hash)).await
    }
}

impl DynamoAccounts {
    /// The user item (consistent), with its keys and their version.
    async fn user_with_keys(
        &self,
        user: UserId,
    ) -> Result<Option<(User, KeyRing, u64)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("USER#{user}")))
            .key("sk", s("USER"))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let (ring, version) = ring_from(user, &item)?;
        Ok(Some((user_from(&item)?, ring, version)))
    }

    /// Reads the user's keys, applies `change` ([`KeyRing`]'s rules) and writes the result in
    /// one transaction: the user item's `api_keys` over the version read, a `Put` for each
    /// key that became active, a `Delete` for each that stopped being active (so revoking is
    /// immediate: authentication reads only these items). At most three items (a rotation),
    /// all in the small accounts table. A lost race reads again.
    async fn change_keys<T>(
        &self,
        user: UserId,
        change: impl Fn(&mut KeyRing) -> Result<T, KeyRefused> + Send,
    ) -> Result<Result<T, KeyRefused>, StoreError> {
        for _ in 0..KEY_CHANGE_ATTEMPTS {
            let Some((owner, ring, version)) = self.user_with_keys(user).await? else {
                return Ok(Err(KeyRefused::NotFound));
            };
            let mut changed = ring.clone();
            let out = match change(&mut changed) {
                Ok(out) => out,
                Err(refused) => return Ok(Err(refused)),
            };
            let active = |r: &KeyRing| -> HashSet<String> {
                r.keys()
                    .iter()
                    .filter(|k| k.revoked_at.is_none())
                    .map(|k| k.hash.clone())
                    .collect()
            };
            let (before, after) = (active(&ring), active(&changed));
            let mut items: Vec<TransactWriteItem> = changed
                .keys()
                .iter()
                .filter(|k| after.contains(&k.hash) && !before.contains(&k.hash))
                .map(|k| put_new(&self.table, key_item(k, &owner)))
                .collect();
            for hash in before.difference(&after) {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .key("pk", s(format!("APIKEY#{hash}")))
                    .key("sk", s("APIKEY"))
                    .build()
                    .expect("table and key are set");
                items.push(TransactWriteItem::builder().delete(delete).build());
            }
            let new_keys = items.len();
            items.push(self.user_update(user, &changed, version, None));
            let res = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            let reasons: Vec<Option<String>> = match res {
                Ok(_) => return Ok(Ok(out)),
                Err(e) => match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => c
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().map(str::to_owned))
                        .collect(),
                    _ => return Err(unavailable(e)),
                },
            };
            if reasons
                .iter()
                .take(new_keys)
                .any(|r| r.as_deref() == Some("ConditionalCheckFailed"))
            {
                return Err(StoreError::AlreadyExists);
            }
        }
        Err(StoreError::Unavailable(anyhow::anyhow!(
            "the keys of user {user} kept changing during {KEY_CHANGE_ATTEMPTS} attempts"
        )))
    }

    /// Writes the user item's keys (and `disabled`, when given) over `version` (the one
    /// read): a change of the keys and a change of the flag never pass each other, so a key
    /// added while its owner is being disabled carries the flag too.
    fn user_update(
        &self,
        user: UserId,
        ring: &KeyRing,
        version: u64,
        disabled: Option<bool>,
    ) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(format!("USER#{user}")))
            .key("sk", s("USER"))
            .update_expression(if disabled.is_some() {
                "SET api_keys = :keys, keys_version = :next, disabled = :d"
            } else {
                "SET api_keys = :keys, keys_version = :next"
            })
            .condition_expression(if version == 0 {
                "attribute_exists(pk) AND attribute_not_exists(keys_version)"
            } else {
                "keys_version = :read"
            })
            .expression_attribute_values(
                ":keys",
                AttributeValue::L(ring.keys().iter().map(ring_entry).collect()),
            )
            .expression_attribute_values(":next", n(version + 1));
        let update = match disabled {
            Some(d) => update.expression_attribute_values(":d", AttributeValue::Bool(d)),
            None => update,
        };
        let update = if version == 0 {
            update
        } else {
            update.expression_attribute_values(":read", n(version))
        };
        TransactWriteItem::builder()
            .update(update.build().expect("table, key and expression are set"))
            .build()
    }
}

#[async_trait]
impl DataSourceStore for DynamoAccounts {
    async fn put_data_source(&self, ds: &DataSource) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(ds_item(ds)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get_data_source(&self, id: &DataSourceId) -> Result<Option<DataSource>, StoreError> {
        self.get("DATASOURCE".into(), id.to_string())
            .await?
            .as_ref()
            .map(ds_from)
            .transpose()
    }

    async fn list_data_sources(&self) -> Result<Vec<DataSource>, StoreError> {
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s("DATASOURCE"))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(unavailable)?;
        items.iter().map(ds_from).collect()
    }
}

#[async_trait]
impl CredentialStore for DynamoAccounts {
    async fn put_credential(&self, c: &DataSourceCredential) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(credential_item(c)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get_credential(
        &self,
        user: UserId,
        ds: &DataSourceId,
    ) -> Result<Option<DataSourceCredential>, StoreError> {
        self.get(format!("USER#{user}"), format!("CREDENTIAL#{ds}"))
            .await?
            .as_ref()
            .map(credential_from)
            .transpose()
    }

    async fn delete_credential(&self, user: UserId, ds: &DataSourceId) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("USER#{user}")))
            .key("sk", s(format!("CREDENTIAL#{ds}")))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn replace_credential(
        &self,
        c: &DataSourceCredential,
        expected_version: u64,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(credential_item(c)))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(expected_version))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn list_credentials(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<DataSourceCredential>, Option<String>), StoreError> {
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s("CREDENTIALS"))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        if let Some(c) = cursor {
            let (user, ds) = c
                .split_once('#')
                .ok_or_else(|| StoreError::Corrupt("bad cursor".into()))?;
            q = q.set_exclusive_start_key(Some(Item::from([
                ("pk".into(), s(format!("USER#{user}"))),
                ("sk".into(), s(format!("CREDENTIAL#{ds}"))),
                ("gsi1pk".into(), s("CREDENTIALS")),
                ("gsi1sk".into(), s(c)),
            ])));
        }
        let out = q.send().await.map_err(unavailable)?;
        let page = out
            .items
            .unwrap_or_default()
            .iter()
            .map(credential_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key
            .and_then(|k| k.get("gsi1sk").and_then(|v| v.as_s().ok()).cloned());
        Ok((page, next))
    }
}
