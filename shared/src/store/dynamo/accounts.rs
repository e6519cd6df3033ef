//! The accounts table: users, API keys, credentials and data sources.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | user, with its keys (`api_keys`, `keys_version`) | `USER#<user id>` | `USER` |
//! | active API key, as authentication finds it | `APIKEY#<hmac hex>` | `APIKEY` |
//! | credential | `USER#<user id>` | `CREDENTIAL#<data source id>` |
//! | data source | `DATASOURCE` | `<data source id>` |

use std::collections::HashSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::item::{Item, ItemExt, n, s, ts};
use super::unavailable;
use crate::domain::Envelope;
use crate::domain::{
    ApiKeyId, ApiVersion, DataSource, DataSourceCredential, DataSourceId, Plan, ProviderType, User,
    UserId,
};
use crate::store::{
    ApiKeyRecord, CredentialStore, DataSourceStore, KeyRefused, KeyRing, StoreError, UserStore,
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
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }
}

fn user_item(u: &User) -> Item {
    Item::from([
        ("pk".into(), s(format!("USER#{}", u.id))),
        ("sk".into(), s("USER")),
        ("name".into(), s(&u.name)),
        ("is_admin".into(), AttributeValue::Bool(u.is_admin)),
        ("created_at".into(), ts(u.created_at)),
    ])
}

fn user_from(item: &Item) -> Result<User, StoreError> {
    Ok(User {
        id: item.parse("pk", |pk| UserId::parse(pk.trim_start_matches("USER#")))?,
        name: item.str("name")?.to_owned(),
        is_admin: item.bool("is_admin")?,
        created_at: item.time("created_at")?,
    })
}

fn key_item(k: &ApiKeyRecord, owner: &User) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(format!("APIKEY#{}", k.hash))),
        ("sk".into(), s("APIKEY")),
        ("key_id".into(), s(k.id.to_string())),
        ("user_id".into(), s(k.user_id.to_string())),
        ("display_prefix".into(), s(&k.display_prefix)),
        ("created_at".into(), ts(k.created_at)),
        // The owner, copied so authentication is one read.
        ("user_name".into(), s(&owner.name)),
        ("user_is_admin".into(), AttributeValue::Bool(owner.is_admin)),
        ("user_created_at".into(), ts(owner.created_at)),
    ]);
    if let Some(name) = &k.name {
        item.insert("name".into(), s(name));
    }
    item
}

fn key_from(item: &Item) -> Result<(ApiKeyRecord, User), StoreError> {
    let key = ApiKeyRecord {
        id: item.parse("key_id", ApiKeyId::parse)?,
        user_id: item.parse("user_id", UserId::parse)?,
        hash: item.str("pk")?.trim_start_matches("APIKEY#").to_owned(),
        display_prefix: item.str("display_prefix")?.to_owned(),
        name: item.opt_str("name").map(str::to_owned),
        created_at: item.time("created_at")?,
        // Revoking a key deletes this item.
        revoked_at: None,
    };
    let user = User {
        id: key.user_id,
        name: item.str("user_name")?.to_owned(),
        is_admin: item.bool("user_is_admin")?,
        created_at: item.time("user_created_at")?,
    };
    Ok((key, user))
}

/// A key as its owner's user item lists it (`api_keys`: a list of maps).
fn ring_entry(k: &ApiKeyRecord) -> AttributeValue {
    let mut m = Item::from([
        ("key_id".into(), s(k.id.to_string())),
        ("hash".into(), s(&k.hash)),
        ("display_prefix".into(), s(&k.display_prefix)),
        ("created_at".into(), ts(k.created_at)),
    ]);
    if let Some(name) = &k.name {
        m.insert("name".into(), s(name));
    }
    if let Some(t) = k.revoked_at {
        m.insert("revoked_at".into(), ts(t));
    }
    AttributeValue::M(m)
}

/// The keys listed in a user item and their version (0 before the first change).
fn ring_from(user: UserId, item: &Item) -> Result<(KeyRing, u64), StoreError> {
    let version = match item.get("keys_version") {
        Some(_) => item.num("keys_version")?,
        None => 0,
    };
    let Some(list) = item.get("api_keys") else {
        return Ok((KeyRing::default(), version));
    };
    let list = list
        .as_l()
        .map_err(|_| StoreError::Corrupt("`api_keys` is not a list".into()))?;
    let keys = list
        .iter()
        .map(|entry| {
            let m: &Item = entry
                .as_m()
                .map_err(|_| StoreError::Corrupt("an `api_keys` entry is not a map".into()))?;
            Ok(ApiKeyRecord {
                id: m.parse("key_id", ApiKeyId::parse)?,
                user_id: user,
                hash: m.str("hash")?.to_owned(),
                display_prefix: m.str("display_prefix")?.to_owned(),
                name: m.opt_str("name").map(str::to_owned),
                created_at: m.time("created_at")?,
                revoked_at: m.opt_time("revoked_at")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((KeyRing::new(keys), version))
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

#[async_trait]
impl UserStore for DynamoAccounts {
    async fn create_user(&self, user: &User, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let mut with_keys = user_item(user);
        with_keys.insert("api_keys".into(), AttributeValue::L(vec![ring_entry(key)]));
        with_keys.insert("keys_version".into(), n(1));
        let res = self
            .client
            .transact_write_items()
            .transact_items(put_new(&self.table, with_keys))
            .transact_items(put_new(&self.table, key_item(key, user)))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_transaction_canceled_exception()) =>
            {
                Err(StoreError::AlreadyExists)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.get(format!("USER#{id}"), "USER".into())
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<(ApiKeyRecord, User)>, StoreError> {
        self.get(format!("APIKEY#{hash}"), "APIKEY".into())
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
            items.push(self.keys_update(user, &changed, version));
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

    /// Writes the user item's keys over `version` (the one read).
    fn keys_update(&self, user: UserId, ring: &KeyRing, version: u64) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(format!("USER#{user}")))
            .key("sk", s("USER"))
            .update_expression("SET api_keys = :keys, keys_version = :next")
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

/// Enum fields are stored in their serde text form.
fn enum_text<T: serde::Serialize>(v: &T) -> AttributeValue {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(text)) => s(text),
        _ => unreachable!("unit enum variants serialize to strings"),
    }
}

fn ds_item(d: &DataSource) -> Item {
    Item::from([
        ("pk".into(), s("DATASOURCE")),
        ("sk".into(), s(d.id.as_str())),
        ("name".into(), s(&d.name)),
        ("description".into(), s(&d.description)),
        ("provider_type".into(), enum_text(&d.provider_type)),
        ("is_enabled".into(), AttributeValue::Bool(d.is_enabled)),
        ("base_url".into(), s(&d.base_url)),
        ("api_version".into(), enum_text(&d.api_version)),
        ("rate_limit_per_minute".into(), n(d.rate_limit_per_minute)),
        ("rate_limit_per_hour".into(), n(d.rate_limit_per_hour)),
        ("rate_limit_per_day".into(), n(d.rate_limit_per_day)),
    ])
}

fn enum_from<T: serde::de::DeserializeOwned>(item: &Item, k: &str) -> Result<T, StoreError> {
    item.parse(k, |v| {
        serde_json::from_value::<T>(serde_json::Value::String(v.to_owned()))
    })
}

fn ds_from(item: &Item) -> Result<DataSource, StoreError> {
    Ok(DataSource {
        id: item.parse("sk", DataSourceId::parse)?,
        name: item.str("name")?.to_owned(),
        description: item.str("description")?.to_owned(),
        provider_type: enum_from::<ProviderType>(item, "provider_type")?,
        is_enabled: item.bool("is_enabled")?,
        base_url: item.str("base_url")?.to_owned(),
        api_version: enum_from::<ApiVersion>(item, "api_version")?,
        rate_limit_per_minute: item.num("rate_limit_per_minute")?,
        rate_limit_per_hour: item.num("rate_limit_per_hour")?,
        rate_limit_per_day: item.num("rate_limit_per_day")?,
    })
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

fn envelope_value(e: &Envelope) -> AttributeValue {
    AttributeValue::M(Item::from([
        ("v".into(), n(e.version)),
        ("key_arn".into(), s(&e.key_arn)),
        (
            "edk".into(),
            AttributeValue::B(Blob::new(e.encrypted_data_key.clone())),
        ),
        (
            "nonce".into(),
            AttributeValue::B(Blob::new(e.nonce.to_vec())),
        ),
        (
            "ct".into(),
            AttributeValue::B(Blob::new(e.ciphertext.clone())),
        ),
    ]))
}

fn envelope_from(item: &Item, k: &str) -> Result<Option<Envelope>, StoreError> {
    let Some(v) = item.get(k) else {
        return Ok(None);
    };
    let m = v
        .as_m()
        .map_err(|_| StoreError::Corrupt(format!("`{k}` is not a map")))?;
    let bytes = |f: &str| {
        m.get(f)
            .and_then(|v| v.as_b().ok())
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| StoreError::Corrupt(format!("`{k}.{f}` missing")))
    };
    let m_item: Item = m.clone();
    Ok(Some(Envelope {
        version: m_item.num("v")?,
        key_arn: m_item.str("key_arn")?.to_owned(),
        encrypted_data_key: bytes("edk")?,
        nonce: bytes("nonce")?
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("`{k}.nonce` length")))?,
        ciphertext: bytes("ct")?,
    }))
}

fn credential_item(c: &DataSourceCredential) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(format!("USER#{}", c.user_id))),
        ("sk".into(), s(format!("CREDENTIAL#{}", c.data_source_id))),
        ("gsi1pk".into(), s("CREDENTIALS")),
        (
            "gsi1sk".into(),
            s(format!("{}#{}", c.user_id, c.data_source_id)),
        ),
        ("plan".into(), s(c.plan.as_str())),
        (
            "encrypted_credentials".into(),
            envelope_value(&c.encrypted_credentials),
        ),
        ("created_at".into(), ts(c.created_at)),
        ("updated_at".into(), ts(c.updated_at)),
        ("version".into(), n(c.version)),
    ]);
    for (k, v) in [
        ("refresh_token", &c.refresh_token),
        ("id_token", &c.id_token),
    ] {
        if let Some(e) = v {
            item.insert(k.into(), envelope_value(e));
        }
    }
    for (k, v) in [
        ("refresh_token_expired_at", c.refresh_token_expired_at),
        ("id_token_expired_at", c.id_token_expired_at),
    ] {
        if let Some(t) = v {
            item.insert(k.into(), ts(t));
        }
    }
    item
}

fn credential_from(item: &Item) -> Result<DataSourceCredential, StoreError> {
    Ok(DataSourceCredential {
        user_id: item.parse("pk", |pk| UserId::parse(pk.trim_start_matches("USER#")))?,
        data_source_id: item.parse("sk", |sk| {
            DataSourceId::parse(sk.trim_start_matches("CREDENTIAL#"))
        })?,
        plan: item.parse("plan", str::parse::<Plan>)?,
        encrypted_credentials: envelope_from(item, "encrypted_credentials")?
            .ok_or_else(|| StoreError::Corrupt("`encrypted_credentials` missing".into()))?,
        refresh_token: envelope_from(item, "refresh_token")?,
        refresh_token_expired_at: item.opt_time("refresh_token_expired_at")?,
        id_token: envelope_from(item, "id_token")?,
        id_token_expired_at: item.opt_time("id_token_expired_at")?,
        created_at: item.time("created_at")?,
        updated_at: item.time("updated_at")?,
        version: item.num("version")?,
    })
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
