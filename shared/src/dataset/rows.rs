//! Reading a page's rows through their derived `Deserialize` while keeping the fields a row type
//! does not name, without `#[serde(flatten)]`: flatten makes the derive buffer every field of
//! every row before it reads one. Here the derive reads the known fields straight from the JSON
//! and a thin layer takes the others (which the derive would skip) into the row's `extra` map.
//!
//! The JSON is read by sonic-rs's serde deserializer rather than serde_json's: on a 4,400-row
//! Premium daily-bars page it reads the same rows about a tenth faster (SIMD string and
//! whitespace scanning, correctly rounded numbers), and this is the fetcher's hot path. Only
//! its deserializer is used; everything else speaks serde_json.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{StrDeserializer, U64Deserializer, UnitDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Value;

use super::Row;

/// Each row of `data` (a JSON array) read as `R` and handed to `each`, in order.
///
/// # Errors
/// The first row that does not fit `R`, or `data` not being an array, as text.
pub(super) fn read<R: Row, T>(data: &str, each: impl FnMut(R) -> T) -> Result<Vec<T>, String> {
    let mut de = sonic_rs::Deserializer::from_str(data);
    let out = (&mut de)
        .deserialize_seq(Rows::new(each, data.len()))
        .and_then(|out| de.end().map(|()| out));
    out.map_err(|e| message(&e))
}

/// A response body's rows (the array under `data_key`, `None` when absent or null), each read
/// as `R` and handed to `each`, and its `pagination_key`; in one pass over the body.
///
/// # Errors
/// As [`read`], or the body not being a JSON object in UTF-8; [`PageError::Truncated`] when
/// the text ends before the JSON does.
pub(super) fn read_page<R: Row, T>(
    body: &[u8],
    data_key: &str,
    each: impl FnMut(R) -> T,
) -> Result<(Option<Vec<T>>, Option<String>), PageError> {
    // Checked as a whole once, so the parser can take it as text. A body cut inside a
    // multi-byte character is cut all the same.
    let text = std::str::from_utf8(body).map_err(|e| match e.error_len() {
        None => PageError::Truncated(e.to_string()),
        Some(_) => PageError::Invalid(e.to_string()),
    })?;
    let mut de = sonic_rs::Deserializer::from_str(text);
    let page = Page {
        data_key,
        rows: Rows::new(each, text.len()),
    };
    let out = (&mut de)
        .deserialize_map(page)
        .and_then(|out| de.end().map(|()| out));
    out.map_err(|e| {
        if e.is_eof() {
            PageError::Truncated(message(&e))
        } else {
            PageError::Invalid(message(&e))
        }
    })
}

/// Why a response body could not be read as a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The text ends before its JSON does: the body was cut in transit (a dropped connection,
    /// a proxy's limit), a transport fault that another request may not repeat.
    #[error("truncated body: {0}")]
    Truncated(String),
    /// Complete, but not the page this endpoint returns.
    #[error("{0}")]
    Invalid(String),
}

/// The parser's error on one line: its first (what and where); sonic-rs goes on to quote the
/// text around the fault, which belongs neither in a job's error nor in a log line.
fn message(e: &sonic_rs::Error) -> String {
    let text = e.to_string();
    match text.split_once('\n') {
        Some((first, _)) => first.to_owned(),
        None => text,
    }
}

struct Page<'k, R, F> {
    data_key: &'k str,
    rows: Rows<R, F>,
}

impl<'de, R: Row, T, F: FnMut(R) -> T> Visitor<'de> for Page<'_, R, F> {
    type Value = (Option<Vec<T>>, Option<String>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with a `{}` array", self.data_key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut rows, mut seen, mut next) = (Some(self.rows), None, None);
        while let Some(name) = map.next_key::<Name<'de>>()? {
            match name.as_str() {
                n if n == self.data_key => match rows.take() {
                    Some(r) => seen = map.next_value_seed(OptionalRows(r))?,
                    None => {
                        let key = self.data_key;
                        return Err(de::Error::custom(format!("duplicate field `{key}`")));
                    }
                },
                "pagination_key" => next = map.next_value()?,
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok((seen, next))
    }
}

/// The rows array, or null.
struct OptionalRows<R, F>(Rows<R, F>);

impl<'de, R: Row, T, F: FnMut(R) -> T> DeserializeSeed<'de> for OptionalRows<R, F> {
    type Value = Option<Vec<T>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, R: Row, T, F: FnMut(R) -> T> Visitor<'de> for OptionalRows<R, F> {
    type Value = Option<Vec<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self.0).map(Some)
    }
}

struct Rows<R, F> {
    each: F,
    /// How many rows to make room for at first.
    expected: usize,
    row: PhantomData<R>,
}

impl<R, F> Rows<R, F> {
    /// The parser tells no array's length: room for a row per 128 bytes of `text` at first.
    /// Daily bars, the longest pages, run from about 200 bytes a row (Free to Standard) to
    /// about 530 (Premium), so their vector never grows (each growth copies it: about 5% of a
    /// Standard page's time at a row per 512 bytes). Room reserved in vain is address space,
    /// not memory: pages no row is written to are never touched.
    fn new(each: F, text: usize) -> Self {
        Self {
            each,
            expected: text / 128,
            row: PhantomData,
        }
    }
}

impl<'de, R: Row, T, F: FnMut(R) -> T> Visitor<'de> for Rows<R, F> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(self.expected));
        let mut extra = BTreeMap::new();
        while let Some(mut row) = seq.next_element_seed(RowSeed::<R> {
            extra: &mut extra,
            row: PhantomData,
        })? {
            // Rows seldom carry unnamed fields; setting the map only then spares copying each
            // row once more.
            if !extra.is_empty() {
                *row.extra_mut() = std::mem::take(&mut extra);
            }
            out.push((self.each)(row));
        }
        Ok(out)
    }
}

/// One row; the fields its type does not name go to `extra`.
struct RowSeed<'a, R> {
    extra: &'a mut BTreeMap<String, Value>,
    row: PhantomData<R>,
}

impl<'de, R: Row> DeserializeSeed<'de> for RowSeed<'_, R> {
    type Value = R;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<R, D::Error> {
        R::deserialize(KeepUnknown {
            inner: d,
            extra: self.extra,
        })
    }
}

/// A deserializer that passes a struct's known fields through and keeps the others.
struct KeepUnknown<'a, D> {
    inner: D,
    extra: &'a mut BTreeMap<String, Value>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeepUnknown<'_, D> {
    type Error = D::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(StructVisitor {
            visitor,
            fields,
            extra: self.extra,
        })
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

struct StructVisitor<'a, V> {
    visitor: V,
    fields: &'static [&'static str],
    extra: &'a mut BTreeMap<String, Value>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for StructVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(Entries {
            map,
            fields: self.fields,
            next: 0,
            extra: self.extra,
            unknown: None,
        })
    }
}

/// The row's entries as the derive sees them; an entry it does not name is given to it as a
/// unit (which it skips) and its value kept in `extra`.
struct Entries<'a, A> {
    map: A,
    fields: &'static [&'static str],
    /// Where the next name is looked for first: rows mostly come in the declared order.
    next: usize,
    extra: &'a mut BTreeMap<String, Value>,
    unknown: Option<String>,
}

/// `a == b` for the short names of row fields, compared in place: `==` on `str` calls out to
/// `memcmp`, once for every field of every row.
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Entries<'_, A> {
    type Error = A::Error;

    // Inlined: called for every field of every row, and outlined calls were a fifth of the
    // time spent reading a page.
    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.map.next_key_seed(KeySeed {
            seed,
            fields: self.fields,
            next: &mut self.next,
            unknown: &mut self.unknown,
        })
    }

    #[inline]
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        match self.unknown.take() {
            None => self.map.next_value_seed(seed),
            Some(name) => {
                let value: Value = self.map.next_value()?;
                self.extra.insert(name, value);
                seed.deserialize(UnitDeserializer::new())
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// Reads an entry's name and gives the derive's `seed` the field's index, or for a name the row
/// type does not have, the name itself (the derive then skips the value) and keeps the name in
/// `unknown` for [`Entries::next_value_seed`].
struct KeySeed<'e, K> {
    seed: K,
    fields: &'static [&'static str],
    next: &'e mut usize,
    unknown: &'e mut Option<String>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, K> {
    type Value = K::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for KeySeed<'_, K> {
    type Value = K::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    // Called for every field of every row; reading the name here, where it is used, rather than
    // handing it out first was a tenth of a page's time under sonic-rs.
    #[inline]
    fn visit_str<E: de::Error>(self, name: &str) -> Result<K::Value, E> {
        let next = *self.next;
        let at = if self.fields.get(next).is_some_and(|f| same(f, name)) {
            Some(next)
        } else {
            self.fields.iter().position(|f| same(f, name))
        };
        if let Some(i) = at {
            *self.next = i + 1;
            // The derive numbers its fields in `fields` order: the index spares it matching
            // the name again against each of its field names in turn.
            return self.seed.deserialize(U64Deserializer::new(i as u64));
        }
        *self.unknown = Some(name.to_owned());
        self.seed.deserialize(StrDeserializer::new(name))
    }
}

/// A field name, borrowed from the page when it holds no escapes.
enum Name<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Name<'_> {
    fn as_str(&self) -> &str {
        match self {
            Name::Borrowed(s) => s,
            Name::Owned(s) => s,
        }
    }
}

impl<'de> de::Deserialize<'de> for Name<'de> {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name::Owned(v))
            }
        }
        d.deserialize_str(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;

    use crate::dataset::fields::tests::same_as_json_text;
    use crate::dataset::{CalendarDay, DatasetKind, PageError, read_typed_page};

    #[test]
    fn unnamed_fields_are_kept_wherever_they_come() {
        let page = RawValue::from_string(
            r#"[{"New\u0041": 1, "HolDiv": "1", "Nest": {"b": [1]}, "Date": "20250102",
                 "Arr": [], "Zed": "z"},
                {"Date": "2025-01-03", "HolDiv": "0"}]"#
                .into(),
        )
        .unwrap();
        let untyped = DatasetKind::MktCal.untyped_fields(&page).unwrap();
        assert_eq!(
            untyped.iter().map(String::as_str).collect::<Vec<_>>(),
            ["Arr", "Nest", "NewA", "Zed"]
        );
        same_as_json_text::<CalendarDay>(&page);
        let records = DatasetKind::MktCal.parse_rows(&page).unwrap();
        let names: Vec<&str> = records[0].fields.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(
            names,
            ["Date", "HolDiv", "Arr#json", "Nest#json", "NewA", "Zed"]
        );
        assert_eq!(records[1].fields.len(), 2);
    }

    #[test]
    fn a_body_gives_its_rows_and_pagination_key_in_one_pass() {
        let body = br#"{"pagination_key": "k1", "other": {"data": 1},
            "data": [{"Date": "2025-01-02", "HolDiv": "1"}, {"Date": "20250103", "HolDiv": "0"}]}"#;
        let page = DatasetKind::MktCal.parse_page(body).unwrap();
        let records = page.records.unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].sort, "2025-01-03");
        assert_eq!(page.pagination_key.as_deref(), Some("k1"));
        for body in [&br#"{"message": "x"}"#[..], br#"{"data": null}"#] {
            let page = DatasetKind::MktCal.parse_page(body).unwrap();
            assert_eq!((page.records, page.pagination_key), (None, None));
        }
        for body in [
            &br#"[]"#[..],
            br#"{"data": []} x"#,
            br#"{"data": [], "data": []}"#,
            br#"{"data": [{"Date": "x", "HolDiv": "1"}]}"#,
            br#"{"data": [], "pagination_key": 1}"#,
        ] {
            let text = String::from_utf8_lossy(body);
            let Err(error) = DatasetKind::MktCal.parse_page(body) else {
                panic!("{text} read as a page");
            };
            // One line that says where, without quoting the page.
            let error = error.to_string();
            assert!(
                error.contains(" at line 1 column ") && !error.contains('\n'),
                "{text}: {error}"
            );
            assert!(!error.starts_with("truncated"), "{text}: {error}");
        }
    }

    #[test]
    fn a_body_cut_short_is_told_apart_from_a_wrong_one() {
        let whole = "{\"data\": [{\"Date\": \"2026-01-05\", \"HolDiv\": \"1\"}, {\"Date\": \"2026-01-06\", \"HolDiv\": \"1\"}], \"pagination_key\": \"k\u{e9}\"}";
        assert!(DatasetKind::MktCal.parse_page(whole.as_bytes()).is_ok());
        // Cut anywhere, even right after a complete row or inside a multi-byte character.
        for end in 1..whole.len() {
            let body = &whole.as_bytes()[..end];
            match DatasetKind::MktCal.parse_page(body) {
                Err(PageError::Truncated(_)) => {}
                other => panic!("cut at {end}: {other:?}"),
            }
        }
    }

    #[test]
    fn typed_rows_come_with_their_unnamed_fields_and_the_pagination_key() {
        let body = br#"{"data": [{"Date": "20250102", "HolDiv": "1", "New": [1]},
            {"Date": "2025-01-03", "HolDiv": "0"}], "pagination_key": "k2"}"#;
        let (rows, next) = read_typed_page::<CalendarDay>(body, "data").unwrap();
        let rows = rows.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].date.to_string(), "2025-01-02");
        assert_eq!(rows[1].hol_div, "0");
        assert_eq!(rows[0].extra["New"], serde_json::json!([1]));
        assert!(rows[1].extra.is_empty());
        assert_eq!(next.as_deref(), Some("k2"));
        assert!(read_typed_page::<CalendarDay>(br#"{"data": [{"Date": 1}]}"#, "data").is_err());
    }

    #[test]
    fn a_page_that_is_not_an_array_of_rows_is_an_error() {
        for text in [
            r#"{"Date": "2025-01-02", "HolDiv": "1"}"#,
            r#"[{"Date": "2025-01-02", "HolDiv": "1", "Date": "2025-01-03"}]"#,
            r#"[["2025-01-02", "1"]]"#,
        ] {
            let page = RawValue::from_string(text.into()).unwrap();
            assert!(DatasetKind::MktCal.parse_rows(&page).is_err(), "{text}");
        }
    }
}
