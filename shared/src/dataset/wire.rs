//! Serde helpers for J-Quants' wire conventions: dates in two formats, flags as `"0"`/`"1"`,
//! booleans as `"true"`/`"false"`, numbers sent as text, and `""` for "no value".
//!
//! Each helper reads the provider's form into a typed value and writes the provider's form
//! back, so a row serialized for storage reads like the source (dates normalised to
//! `YYYY-MM-DD`). Text is read borrowed from the page where it holds no escapes, so reading a
//! flag or a date allocates nothing.

use std::borrow::Cow;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::de::{Error as _, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::parse_date;

/// A date as `YYYY-MM-DD`, the form keys and stored rows use.
pub(crate) fn day(d: NaiveDate) -> String {
    with_day(d, str::to_owned)
}

/// `f` of the date as `YYYY-MM-DD`, written on the stack (chrono's formatting, for years
/// beyond four digits, takes an allocation and a format-string parse).
fn with_day<T>(d: NaiveDate, f: impl FnOnce(&str) -> T) -> T {
    let Ok(year @ 0..=9999) = u32::try_from(d.year()) else {
        return f(&d.format("%Y-%m-%d").to_string());
    };
    let digit = |n: u32| b'0' + u8::try_from(n % 10).unwrap_or(0);
    let (m, dd) = (d.month(), d.day());
    let text = [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(dd / 10),
        digit(dd),
    ];
    f(std::str::from_utf8(&text).expect("ASCII digits"))
}

/// A date given as `YYYY-MM-DD` or `YYYYMMDD`: plain digits read directly, anything else as
/// [`parse_date`] reads it.
fn read_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let parts = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => num(0..4).zip(num(5..7)).zip(num(8..10)),
        8 => num(0..4).zip(num(4..6)).zip(num(6..8)),
        _ => None,
    };
    parts
        .and_then(|((y, m), d)| NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d))
        .or_else(|| parse_date(s))
}

/// Text as sent: borrowed from the page unless it holds escapes. (Serde's own `Cow<str>`
/// always copies.)
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(TextVisitor)
    }
}

/// Text that may be null.
fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(<Option<Text<'de>>>::deserialize(d)?.map(|t| t.0))
}

/// A date given as `YYYY-MM-DD` or `YYYYMMDD`, written as `YYYY-MM-DD`.
pub(crate) mod date {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let Text(s) = Text::deserialize(d)?;
        read_date(&s).ok_or_else(|| D::Error::custom(format!("`{s}` is not a date")))
    }

    pub(crate) fn serialize<S: Serializer>(v: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        with_day(*v, |text| s.serialize_str(text))
    }
}

/// A date that may be `""` (or null): `None`, written back as `""`.
pub(crate) mod opt_date {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        match opt_text(d)?.as_deref() {
            None | Some("") => Ok(None),
            Some(s) => read_date(s)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("`{s}` is not a date"))),
        }
    }

    #[allow(
        clippy::ref_option,
        reason = "serde's `with` passes a reference to the field"
    )]
    pub(crate) fn serialize<S: Serializer>(v: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => with_day(*d, |text| s.serialize_str(text)),
            None => s.serialize_str(""),
        }
    }
}

/// A flag sent as `"0"` or `"1"`; `""` or null means unknown and is written back as `""`.
pub(crate) mod flag {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match opt_text(d)?.as_deref() {
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
        match opt_text(d)?.as_deref() {
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

    struct NumOrBlank;

    impl<'de> Visitor<'de> for NumOrBlank {
        type Value = Option<f64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number or \"\"")
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Option<f64>, E> {
            Ok(Some(v))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Option<f64>, E> {
            Ok(Some(v as f64))
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Option<f64>, E> {
            Ok(Some(v as f64))
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Option<f64>, E> {
            if v.is_empty() {
                Ok(None)
            } else {
                Err(E::custom(format!("`{v}` is neither a number nor blank")))
            }
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<f64>, E> {
            Ok(None)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        d.deserialize_any(NumOrBlank)
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
        Self::parse_owned(Cow::Borrowed(text))
    }

    fn parse_owned(text: Cow<'_, str>) -> Result<Self, String> {
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
            text: text.into_owned(),
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
        let text = opt_text(d)?.unwrap_or_default();
        Self::parse_owned(text).map_err(D::Error::custom)
    }
}

impl Serialize for NumText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::{NumText, day, num_or_blank, parse_date, read_date};

    #[test]
    fn dates_read_and_write_as_chrono_does() {
        for s in [
            "2023-03-24",
            "20201001",
            "0001-01-01",
            "9999-12-31",
            "2024-02-29",
            "2023-02-29",
            "2023-13-01",
            "2023-1-012",
            "+2023-01-1",
            "2023/01/01",
            "2023-03-2x",
            "",
        ] {
            assert_eq!(read_date(s), parse_date(s), "{s}");
        }
        for (y, m, d) in [
            (1, 1, 1),
            (2023, 3, 24),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 1, 1),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(day(date), date.format("%Y-%m-%d").to_string());
        }
    }

    #[test]
    fn a_number_or_blank_reads_numbers_blanks_and_nulls_only() {
        let read = |s: &str| num_or_blank::deserialize(&mut serde_json::Deserializer::from_str(s));
        assert_eq!(read("1.5").unwrap(), Some(1.5));
        assert_eq!(read("-2").unwrap(), Some(-2.0));
        assert_eq!(read(r#""""#).unwrap(), None);
        assert_eq!(read("null").unwrap(), None);
        assert!(read(r#""1.5""#).is_err());
        assert!(read("true").is_err());
    }

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
