//! Pure mapping between DynamoDB items and domain values.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use crate::store::StoreError;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn ts(t: DateTime<Utc>) -> AttributeValue {
    AttributeValue::S(ts_text(t))
}

/// A time as stored: fixed-width UTC text with milliseconds, so times compare as text.
pub(crate) fn ts_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Typed reads from an item; a missing or mistyped attribute is [`StoreError::Corrupt`].
pub(crate) trait ItemExt {
    fn str(&self, k: &str) -> Result<&str, StoreError>;
    fn opt_str(&self, k: &str) -> Option<&str>;
    fn num<T: std::str::FromStr>(&self, k: &str) -> Result<T, StoreError>;
    fn bool(&self, k: &str) -> Result<bool, StoreError>;
    fn time(&self, k: &str) -> Result<DateTime<Utc>, StoreError>;
    fn opt_time(&self, k: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn parse<T, E: std::fmt::Display>(
        &self,
        k: &str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StoreError>;
}

fn corrupt(k: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("attribute `{k}`: {what}"))
}

impl ItemExt for Item {
    fn str(&self, k: &str) -> Result<&str, StoreError> {
        self.opt_str(k).ok_or_else(|| corrupt(k, "missing string"))
    }

    fn opt_str(&self, k: &str) -> Option<&str> {
        self.get(k).and_then(|v| v.as_s().ok()).map(String::as_str)
    }

    fn num<T: std::str::FromStr>(&self, k: &str) -> Result<T, StoreError> {
        self.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt(k, "missing number"))
    }

    fn bool(&self, k: &str) -> Result<bool, StoreError> {
        self.get(k)
            .and_then(|v| v.as_bool().ok())
            .copied()
            .ok_or_else(|| corrupt(k, "missing bool"))
    }

    fn time(&self, k: &str) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(k)?.ok_or_else(|| corrupt(k, "missing time"))
    }

    fn opt_time(&self, k: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_str(k)
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| corrupt(k, "bad time"))
            })
            .transpose()
    }

    fn parse<T, E: std::fmt::Display>(
        &self,
        k: &str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        f(self.str(k)?).map_err(|e| corrupt(k, &e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_reads_report_the_attribute() {
        let mut item = Item::new();
        item.insert("a".into(), s("x"));
        item.insert("b".into(), n(42));
        item.insert("t".into(), ts(DateTime::from_timestamp(0, 0).unwrap()));
        assert_eq!(item.str("a").unwrap(), "x");
        assert_eq!(item.num::<u32>("b").unwrap(), 42);
        assert_eq!(item.time("t").unwrap().timestamp(), 0);
        let err = item.num::<u32>("a").unwrap_err().to_string();
        assert!(err.contains("`a`"), "{err}");
        assert!(item.opt_time("missing").unwrap().is_none());
    }
}
