//! The stored form of a row: its natural key and its fields, whatever the dataset.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

/// Suffix of a field that holds a nested JSON object or array as text (the `FS` statement of
/// fins details, the `PubReason` flags of margin alerts): stores keep flat values only, and
/// [`Record::to_json`] nests the value back under the name without the suffix.
pub const JSON_FIELD_SUFFIX: &str = "#json";

/// A field value as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Text.
    Text(String),
    /// A number (prices, volumes).
    Number(f64),
    /// A flag.
    Bool(bool),
    /// A documented field the provider sent as null (no trade, undisclosed).
    Null,
}

/// A field's name: the row type's own (static) name, or an owned one for a field the type does
/// not name or a row read back from a store.
pub type FieldName = Cow<'static, str>;

/// One row: `partition` and `sort` form the dataset's natural key (for daily bars: code and
/// date), so storing the same row twice overwrites instead of duplicating.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// First part of the natural key.
    pub partition: String,
    /// Second part of the natural key (sortable: dates as `YYYY-MM-DD`).
    pub sort: String,
    /// The row's fields under the provider's names, in the provider's order.
    pub fields: Vec<(FieldName, FieldValue)>,
}

impl Record {
    /// The stored form of a typed row: its fields as the row serializes them (the provider's
    /// names and forms, wire order), under the natural key `partition`/`sort`.
    ///
    /// # Errors
    /// When the row does not serialize to an object with text keys.
    pub fn from_row<R: Serialize>(
        partition: String,
        sort: String,
        row: &R,
    ) -> Result<Self, String> {
        Self::from_row_and(partition, sort, row, BTreeMap::new())
    }

    /// [`Record::from_row`] followed by `extra` (fields the row type does not name), in name
    /// order.
    ///
    /// # Errors
    /// As [`Record::from_row`].
    pub fn from_row_and<R: Serialize>(
        partition: String,
        sort: String,
        row: &R,
        extra: BTreeMap<String, Value>,
    ) -> Result<Self, String> {
        let mut fields = super::fields::fields_of(row, extra.len()).map_err(|e| e.to_string())?;
        fields.extend(extra.into_iter().map(|(name, value)| untyped(name, value)));
        Ok(Self {
            partition,
            sort,
            fields,
        })
    }

    /// The row as the provider's JSON object.
    pub fn to_json(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|(k, v)| {
                if let Some(name) = k.strip_suffix(JSON_FIELD_SUFFIX)
                    && let FieldValue::Text(text) = v
                    && let Ok(nested) = serde_json::from_str::<Value>(text)
                {
                    return (name.to_owned(), nested);
                }
                let v = match v {
                    FieldValue::Text(s) => Value::String(s.clone()),
                    FieldValue::Number(n) => {
                        serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
                    }
                    FieldValue::Bool(b) => Value::Bool(*b),
                    FieldValue::Null => Value::Null,
                };
                (k.to_string(), v)
            })
            .collect()
    }
}

/// A field as its JSON value: scalars as they are, an object or array as JSON text under
/// `<name>#json`.
pub(super) fn untyped(name: String, value: Value) -> (FieldName, FieldValue) {
    match value {
        Value::Object(_) | Value::Array(_) => (
            format!("{name}{JSON_FIELD_SUFFIX}").into(),
            FieldValue::Text(value.to_string()),
        ),
        Value::String(s) => (name.into(), FieldValue::Text(s)),
        other => (name.into(), FieldValue::from(&other)),
    }
}

impl From<&Value> for FieldValue {
    fn from(v: &Value) -> Self {
        match v {
            Value::Null => FieldValue::Null,
            Value::Bool(b) => FieldValue::Bool(*b),
            Value::Number(n) => n.as_f64().map_or(FieldValue::Null, FieldValue::Number),
            Value::String(s) => FieldValue::Text(s.clone()),
            other => FieldValue::Text(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rows_keep_wire_order_and_nested_objects_round_trip() {
        let row = json!({"Z": 1.5, "A": "x", "N": null, "FS": {"Revenue": "10", "Empty": {}}});
        let rec = Record::from_row("p".into(), "s".into(), &row).unwrap();
        let names: Vec<&str> = rec.fields.iter().map(|(k, _)| k.as_ref()).collect();
        // The order written (serde_json keeps insertion order), kept as serialized.
        assert_eq!(names, ["Z", "A", "N", "FS#json"]);
        assert_eq!(Value::Object(rec.to_json()), row);
    }
}
