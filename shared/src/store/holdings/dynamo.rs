//! Holdings on DynamoDB: `pk = USER#<user id>`, `sk = HOLD#<data source>#<series>#<symbol>`,
//! the pieces a list of maps appended by each completed job, each corporate action an
//! attribute `ev_<day>` holding when it was first seen.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Update};
use chrono::NaiveDate;

use super::HoldingStore;
use crate::domain::{DataSourceId, JobGroupId, UserId};
use crate::holdings::{Coverage, Held, HoldingKey, Piece};
use crate::store::StoreError;
use crate::store::dynamo::item::{Item, ItemExt, n, s, ts};
use crate::store::dynamo::unavailable;
use crate::store::jobs::DynamoJobs;

const EVENT_PREFIX: &str = "ev_";

fn sort_key(key: &HoldingKey) -> String {
    format!("HOLD#{}#{}#{}", key.data_source, key.series, key.symbol)
}

fn item_key(key: &HoldingKey) -> Item {
    Item::from([
        ("pk".into(), s(format!("USER#{}", key.user))),
        ("sk".into(), s(sort_key(key))),
    ])
}

fn piece_value(p: &Piece) -> AttributeValue {
    AttributeValue::M(
        [
            ("f".to_owned(), s(p.from.to_string())),
            ("t".to_owned(), s(p.to.to_string())),
            ("g".to_owned(), s(p.group.to_string())),
            ("j".to_owned(), n(p.job)),
            ("p".to_owned(), n(p.pages)),
            ("r".to_owned(), n(p.rows)),
            ("b".to_owned(), n(p.bytes)),
            ("a".to_owned(), ts(p.at)),
        ]
        .into(),
    )
}

fn piece_from(v: &AttributeValue) -> Result<Piece, StoreError> {
    let m: Item = v
        .as_m()
        .map_err(|_| StoreError::Corrupt("a piece is not a map".into()))?
        .clone();
    let day = |k: &str| m.parse(k, |v| v.parse::<NaiveDate>());
    Ok(Piece {
        from: day("f")?,
        to: day("t")?,
        group: m.parse("g", JobGroupId::parse)?,
        job: m.num("j")?,
        pages: m.num("p")?,
        rows: m.num("r")?,
        bytes: m.num("b")?,
        at: m.time("a")?,
    })
}

fn coverage_from(item: &Item) -> Result<Coverage, StoreError> {
    let key = HoldingKey {
        user: item.parse("user", UserId::parse)?,
        data_source: item.parse("ds", DataSourceId::parse)?,
        series: item.str("series")?.to_owned(),
        symbol: item.str("symbol")?.to_owned(),
    };
    let pieces = match item.get("pieces") {
        Some(AttributeValue::L(list)) => list.iter().map(piece_from).collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let mut events = BTreeMap::new();
    for name in item.keys() {
        if let Some(day) = name.strip_prefix(EVENT_PREFIX) {
            let day = day
                .parse::<NaiveDate>()
                .map_err(|_| StoreError::Corrupt(format!("event attribute `{name}`")))?;
            events.insert(day, item.time(name)?);
        }
    }
    Ok(Coverage {
        key,
        pieces,
        events,
    })
}

fn coverage_item(c: &Coverage) -> Item {
    let mut item = item_key(&c.key);
    item.insert("user".into(), s(c.key.user.to_string()));
    item.insert("ds".into(), s(c.key.data_source.to_string()));
    item.insert("series".into(), s(&c.key.series));
    item.insert("symbol".into(), s(&c.key.symbol));
    item.insert(
        "pieces".into(),
        AttributeValue::L(c.pieces.iter().map(piece_value).collect()),
    );
    for (day, seen) in &c.events {
        item.insert(format!("{EVENT_PREFIX}{day}"), ts(*seen));
    }
    item
}

/// The update that adds a completed job's piece (and the actions it saw) to its holding, for
/// the transaction that ends the job.
pub(crate) fn held_update(table: &str, held: &Held) -> Update {
    let mut expression = String::from(
        "SET #user = :user, ds = :ds, series = :series, symbol = :symbol, \
         pieces = list_append(if_not_exists(pieces, :empty), :piece)",
    );
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(item_key(&held.key)))
        .expression_attribute_names("#user", "user")
        .expression_attribute_values(":user", s(held.key.user.to_string()))
        .expression_attribute_values(":ds", s(held.key.data_source.to_string()))
        .expression_attribute_values(":series", s(&held.key.series))
        .expression_attribute_values(":symbol", s(&held.key.symbol))
        .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
        .expression_attribute_values(":piece", AttributeValue::L(vec![piece_value(&held.piece)]));
    if !held.events.is_empty() {
        update = update.expression_attribute_values(":seen", ts(held.piece.at));
    }
    for (i, day) in held.events.iter().enumerate() {
        expression.push_str(&format!(", #e{i} = if_not_exists(#e{i}, :seen)"));
        update =
            update.expression_attribute_names(format!("#e{i}"), format!("{EVENT_PREFIX}{day}"));
    }
    update
        .update_expression(expression)
        .build()
        .expect("key and expression set")
}

#[async_trait]
impl HoldingStore for DynamoJobs {
    async fn holdings(&self, keys: &[HoldingKey]) -> Result<Vec<Coverage>, StoreError> {
        let mut found: BTreeMap<String, Coverage> = BTreeMap::new();
        for chunk in keys.chunks(100) {
            let mut want = KeysAndAttributes::builder().consistent_read(true);
            for k in chunk {
                want = want.keys(item_key(k));
            }
            let mut request = Some(
                want.build()
                    .map_err(|e| StoreError::Unavailable(e.into()))?,
            );
            while let Some(r) = request.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, r)
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in out
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    let c = coverage_from(&item)?;
                    found.insert(sort_key(&c.key), c);
                }
                request = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|u| !u.keys.is_empty());
            }
        }
        Ok(keys
            .iter()
            .map(|k| {
                found
                    .remove(&sort_key(k))
                    .unwrap_or_else(|| Coverage::empty(k.clone()))
            })
            .collect())
    }

    async fn user_holdings(&self, user: UserId) -> Result<Vec<Coverage>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :hold)")
                .expression_attribute_values(":pk", s(format!("USER#{user}")))
                .expression_attribute_values(":hold", s("HOLD#"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                out.push(coverage_from(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    async fn replace(&self, coverage: &Coverage) -> Result<(), StoreError> {
        if coverage.pieces.is_empty() {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(item_key(&coverage.key)))
                .send()
                .await
                .map_err(unavailable)?;
        } else {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(coverage_item(coverage)))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coverage_survives_its_item() {
        let c = Coverage {
            key: HoldingKey {
                user: UserId::new(),
                data_source: DataSourceId::parse("jquants-v2").unwrap(),
                series: "eq-bars-daily".into(),
                symbol: "72030".into(),
            },
            pieces: vec![Piece {
                from: "2024-01-01".parse().unwrap(),
                to: "2024-01-31".parse().unwrap(),
                group: JobGroupId::new(),
                job: 3,
                pages: 2,
                rows: 20,
                bytes: 999,
                at: "2025-01-01T00:00:00.123Z".parse().unwrap(),
            }],
            events: [(
                "2024-01-15".parse().unwrap(),
                "2025-01-01T00:00:00.123Z".parse().unwrap(),
            )]
            .into(),
        };
        assert_eq!(coverage_from(&coverage_item(&c)).unwrap(), c);
    }
}
