//! One response row with its keys in wire order, and the page that carries rows.
//!
//! `serde_json::Map` sorts its keys unless the `preserve_order` feature is on, so records keep
//! their own ordered list of entries and serialize it in the reference order.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// One row, its entries in wire order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Record(Vec<(&'static str, Value)>);

impl Record {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    pub(crate) fn push(&mut self, key: &'static str, value: impl Into<Value>) {
        self.0.push((key, value.into()));
    }

    /// Appends `keys` with `values`, pairwise.
    pub(crate) fn extend<const N: usize>(&mut self, keys: [&'static str; N], values: [Value; N]) {
        self.0.extend(keys.into_iter().zip(values));
    }

    /// A number, or `null` when absent.
    pub(crate) fn num(&mut self, key: &'static str, value: Option<f64>) {
        self.push(key, value.map_or(Value::Null, Value::from));
    }

    #[cfg(test)]
    pub(crate) fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|(k, _)| *k)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The same values under other names: `names[i]` replaces the i-th key (V1's long names).
    pub(crate) fn renamed(self, names: &[&'static str]) -> Self {
        Self(
            self.0
                .into_iter()
                .zip(names)
                .map(|((_, v), name)| (*name, v))
                .collect(),
        )
    }

    /// Keeps the first `n` entries.
    pub(crate) fn truncated(mut self, n: usize) -> Self {
        self.0.truncate(n);
        self
    }

    /// The row as a JSON object (key order is whatever `serde_json::Map` keeps).
    pub(crate) fn into_map(self) -> Map<String, Value> {
        self.0.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A response body: rows under `key` (`data` in V2), then `pagination_key` when more follow.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) key: &'static str,
    pub(crate) rows: Vec<Record>,
    pub(crate) pagination_key: Option<String>,
}

impl Serialize for Page {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = 1 + usize::from(self.pagination_key.is_some());
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry(self.key, &self.rows)?;
        if let Some(key) = &self.pagination_key {
            map.serialize_entry("pagination_key", key)?;
        }
        map.end()
    }
}

/// A string value.
pub(crate) fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

/// A date as `YYYY-MM-DD`.
pub(crate) fn day(date: chrono::NaiveDate) -> Value {
    Value::String(date.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_their_order_and_rename_pairwise() {
        let mut r = Record::default();
        r.push("Z", 1);
        r.push("A", "x");
        r.num("N", None);
        assert_eq!(
            serde_json::to_string(&r).ok().as_deref(),
            Some(r#"{"Z":1,"A":"x","N":null}"#)
        );
        let long = r.renamed(&["Zed", "Ay", "En"]);
        assert_eq!(long.keys().collect::<Vec<_>>(), ["Zed", "Ay", "En"]);
        let page = Page {
            key: "info",
            rows: vec![long.truncated(1)],
            pagination_key: Some("k".into()),
        };
        let text = serde_json::to_string(&page).expect("json");
        assert_eq!(text, r#"{"info":[{"Zed":1}],"pagination_key":"k"}"#);
    }
}
