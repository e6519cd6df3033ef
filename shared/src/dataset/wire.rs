//! Serde helpers for J-Quants' wire conventions: dates in two formats, flags as `"0"`/`"1"`,
//! booleans as `"true"`/`"false"`, numbers sent as text, and `""` for "no value".
//!
//! Each helper reads the provider's form into a typed value and writes the provider's form
//! back, so a row serialized for storage reads like the source (dates normalised to
//! `YYYY-MM-DD`).

use std::borrow::Cow;
use std::fmt;

use chrono::NaiveDate;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::catalog::parse_date;

/// A date as `YYYY-MM-DD`, the form keys and stored rows use.
pub(crate) fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A date given as `YYYY-MM-DD` or `YYYYMMDD`, written as `YYYY-MM-DD`.
pub(crate) mod date {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        parse_date(&s).ok_or_else(|| D::Error::custom(format!("`{s}` is not a date")))
    }

    pub(crate) fn serialize<S: Serializer>(v: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&day(*v))
    }
}

/// A date that may be `""` (or null): `None`, written back as `""`.
pub(crate) mod opt_date {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        match <Option<Cow<'de, str>>>::deserialize(d)?.as_deref() {
            None | Some("") => Ok(None),
            Some(s) => parse_date(s)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("`{s}` is not a date"))),
        }
    }

    #[allow(
        clippy::ref_option,
        reason = "serde's `with` passes a reference to the field"
    )]
    pub(crate) fn serialize<S: Serializer>(v: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.map(day).unwrap_or_default())
    }
}

/// A flag sent as `"0"` or `"1"`; `""` or null means unknown and is written back as `""`.
pub(crate) mod flag {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match <Option<Cow<'de, str>>>::deserialize(d)?.as_deref() {
            None | Some("") => Ok(None),
            Some("0") => Ok(Some(false)),
            Some("1") => Ok(Some(true)),
            Some(other) => Err(D::Error::custom(format!("`{other}` is not a 0/1 flag"))),
        }
    }

    #[allow(
        clippy::ref_option,
        reason = "serde's `with` passes a reference to the field"
    )]
    pub(crate) fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match v {
            Some(true) => "1",
            Some(false) => "0",
            None => "",
        })
    }
}

/// A boolean sent as `"true"` or `"false"`; `""` or null means not reported, written as `""`.
pub(crate) mod bool_text {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match <Option<Cow<'de, str>>>::deserialize(d)?.as_deref() {
            None | Some("") => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(D::Error::custom(format!("`{other}` is not true/false"))),
        }
    }

    #[allow(
        clippy::ref_option,
        reason = "serde's `with` passes a reference to the field"
    )]
    pub(crate) fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match v {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        })
    }
}

/// A JSON number that may instead be `""` (derivatives' morning session after 2016-07-19,
/// short-sale reports without a previous report). `""` and null read as `None`, written `""`.
pub(crate) mod num_or_blank {
    use super::*;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Number(f64),
        Text(String),
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        match <Option<Wire>>::deserialize(d)? {
            None => Ok(None),
            Some(Wire::Number(n)) => Ok(Some(n)),
            Some(Wire::Text(t)) if t.is_empty() => Ok(None),
            Some(Wire::Text(t)) => Err(D::Error::custom(format!(
                "`{t}` is neither a number nor blank"
            ))),
        }
    }

    #[allow(
        clippy::ref_option,
        reason = "serde's `with` passes a reference to the field"
    )]
    pub(crate) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.serialize_f64(*n),
            None => s.serialize_str(""),
        }
    }
}

/// A field some rows carry and others omit (Premium-only columns, newer columns): the outer
/// `None` means the key was absent and is skipped when written, `Some(None)` means null.
/// Use with `#[serde(default, skip_serializing_if = "Option::is_none")]`.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Builds `present_<base>`: `<base>` for a field some rows omit (see [`present`]). Use with
/// `#[serde(default, with = "...", skip_serializing_if = "Option::is_none")]`.
macro_rules! present {
    ($name:ident, $base:ident, $t:ty) => {
        #[doc = concat!("[`", stringify!($base), "`] for a field some rows omit.")]
        pub(crate) mod $name {
            use super::*;

            pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
                d: D,
            ) -> Result<Option<$t>, D::Error> {
                $base::deserialize(d).map(Some)
            }

            #[allow(
                clippy::ref_option,
                reason = "serde's `with` passes a reference to the field"
            )]
            pub(crate) fn serialize<S: Serializer>(
                v: &Option<$t>,
                s: S,
            ) -> Result<S::Ok, S::Error> {
                $base::serialize(&v.flatten(), s)
            }
        }
    };
}

present!(present_flag, flag, Option<bool>);
present!(present_bool_text, bool_text, Option<bool>);
present!(present_opt_date, opt_date, Option<NaiveDate>);

/// A number J-Quants sends as text (financial statement values, dividend amounts): `""` (or
/// `"-"`) when not reported. The text is kept as sent, so `"26.0"` is stored as `"26.0"`, not
/// re-formatted; [`NumText::value`] gives the number.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NumText {
    text: String,
    value: Option<f64>,
}

impl NumText {
    /// Parses the provider's text: a decimal number, or `""`/`"-"` for no value.
    ///
    /// # Errors
    /// When the text is neither.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value = match text.trim() {
            "" | "-" => None,
            t => Some(
                t.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("`{text}` is not a number"))?,
            ),
        };
        Ok(Self {
            text: text.to_owned(),
            value,
        })
    }

    /// The number; `None` when the provider reported none.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for NumText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for NumText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <Option<Cow<'de, str>>>::deserialize(d)?.unwrap_or_default();
        Self::parse(&text).map_err(D::Error::custom)
    }
}

impl Serialize for NumText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::NumText;

    #[test]
    fn numeric_text_keeps_its_form_and_parses() {
        let n: NumText = serde_json::from_str(r#""26.0""#).unwrap();
        assert_eq!((n.value(), n.as_str()), (Some(26.0), "26.0"));
        assert_eq!(serde_json::to_string(&n).unwrap(), r#""26.0""#);
        let blank: NumText = serde_json::from_str(r#""""#).unwrap();
        assert_eq!(blank.value(), None);
        assert_eq!(NumText::parse("-").unwrap().value(), None);
        assert!(serde_json::from_str::<NumText>(r#""12a""#).is_err());
        assert!(NumText::parse("NaN").is_err());
    }
}
