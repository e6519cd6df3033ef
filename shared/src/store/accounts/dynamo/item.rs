//! The accounts table's items: users, API keys and their ring, data sources and credentials to
//! DynamoDB attributes and back.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::Envelope;
use crate::domain::{
    ApiKeyId, ApiVersion, DataSource, DataSourceCredential, DataSourceId, Plan, ProviderType, User,
    UserId,
};
use crate::store::StoreError;
use crate::store::accounts::{ApiKeyRecord, KeyRing};
use crate::store::dynamo::item::{Item, ItemExt, n, s, ts};

pub(super) fn user_item(u: &User) -> Item {
    Item::from([
        ("pk".into(), s(format!("USER#{}", u.id))),
        ("sk".into(), s("USER")),
        ("name".into(), s(&u.name)),
        ("is_admin".into(), AttributeValue::Bool(u.is_admin)),
        ("created_at".into(), ts(u.created_at)),
        ("disabled".into(), AttributeValue::Bool(u.disabled)),
        // The users listing (index gsi1), in id order.
        ("gsi1pk".into(), s(USERS_GSI_PK)),
        ("gsi1sk".into(), s(u.id.to_string())),
    ])
}

/// The `gsi1pk` of user items: one partition listing every user (a few thousand small keys
/// at most; read only by the administrators' listing).
pub(super) const USERS_GSI_PK: &str = "USERS";

/// A flag absent from items written before it existed reads `false`.
fn flag(item: &Item, k: &str) -> bool {
    item.get(k)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .unwrap_or(false)
}

pub(super) fn user_from(item: &Item) -> Result<User, StoreError> {
    Ok(User {
        id: item.parse("pk", |pk| UserId::parse(pk.trim_start_matches("USER#")))?,
        name: item.str("name")?.to_owned(),
        is_admin: item.bool("is_admin")?,
        created_at: item.time("created_at")?,
        disabled: flag(item, "disabled"),
    })
}

pub(super) fn key_item(k: &ApiKeyRecord, owner: &User) -> Item {
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
        ("user_disabled".into(), AttributeValue::Bool(owner.disabled)),
    ]);
    if let Some(name) = &k.name {
        item.insert("name".into(), s(name));
    }
    item
}

pub(super) fn key_from(item: &Item) -> Result<(ApiKeyRecord, User), StoreError> {
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
        disabled: flag(item, "user_disabled"),
    };
    Ok((key, user))
}

/// A key as its owner's user item lists it (`api_keys`: a list of maps).
pub(super) fn ring_entry(k: &ApiKeyRecord) -> AttributeValue {
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
pub(super) fn ring_from(user: UserId, item: &Item) -> Result<(KeyRing, u64), StoreError> {
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

/// Enum fields are stored in their serde text form.
pub(super) fn enum_text<T: serde::Serialize>(v: &T) -> AttributeValue {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(text)) => s(text),
        _ => unreachable!("unit enum variants serialize to strings"),
    }
}

pub(super) fn ds_item(d: &DataSource) -> Item {
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

pub(super) fn enum_from<T: serde::de::DeserializeOwned>(
    item: &Item,
    k: &str,
) -> Result<T, StoreError> {
    item.parse(k, |v| {
        serde_json::from_value::<T>(serde_json::Value::String(v.to_owned()))
    })
}

pub(super) fn ds_from(item: &Item) -> Result<DataSource, StoreError> {
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

pub(super) fn envelope_value(e: &Envelope) -> AttributeValue {
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

pub(super) fn envelope_from(item: &Item, k: &str) -> Result<Option<Envelope>, StoreError> {
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

pub(super) fn credential_item(c: &DataSourceCredential) -> Item {
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

pub(super) fn credential_from(item: &Item) -> Result<DataSourceCredential, StoreError> {
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
