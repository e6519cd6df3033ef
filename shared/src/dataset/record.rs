//! The stored form of a row: its natural key and its fields, whatever the dataset.

use serde_json::{Map, Value};

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

/// One row: `partition` and `sort` form the dataset's natural key (for daily bars: code and
/// date), so storing the same row twice overwrites instead of duplicating.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// First part of the natural key.
    pub partition: String,
    /// Second part of the natural key (sortable: dates as `YYYY-MM-DD`).
    pub sort: String,
    /// The row's fields under the provider's names, in the provider's order.
    pub fields: Vec<(String, FieldValue)>,
}

impl Record {
    /// The row as the provider's JSON object.
    pub fn to_json(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    FieldValue::Text(s) => Value::String(s.clone()),
                    FieldValue::Number(n) => {
                        serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
                    }
                    FieldValue::Bool(b) => Value::Bool(*b),
                    FieldValue::Null => Value::Null,
                };
                (k.clone(), v)
            })
            .collect()
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
