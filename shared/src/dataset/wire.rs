//! Serde helpers for J-Quants' wire conventions: dates in two formats, flags as `"0"`/`"1"`.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

use crate::catalog::parse_date;

/// A date given as `YYYY-MM-DD` or `YYYYMMDD`.
pub(crate) fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    parse_date(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a date")))
}

/// A flag sent as the string `"0"` or `"1"`; `""` or null means unknown.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let s = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some("0") => Ok(Some(false)),
        Some("1") => Ok(Some(true)),
        Some(other) => Err(serde::de::Error::custom(format!(
            "`{other}` is not a 0/1 flag"
        ))),
    }
}
