//! A serde [`Serializer`] that writes a row straight into a record's fields, with no JSON text in
//! between: each field gives the [`FieldValue`] its JSON form would read back as (numbers as
//! `f64`, non-finite numbers and units as null), and a nested object or array is kept as JSON
//! text under `<name>#json` (see [`JSON_FIELD_SUFFIX`](super::JSON_FIELD_SUFFIX)).

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, SerializeStruct, Serializer};

use super::record::{FieldName, FieldValue, untyped};

/// A row's fields in the order it serializes them, with room for `more`.
///
/// # Errors
/// When the row does not serialize as a struct or a map with text keys, or a field fails to
/// serialize.
pub(super) fn fields_of<R: Serialize + ?Sized>(
    row: &R,
    more: usize,
) -> Result<Vec<(FieldName, FieldValue)>, Error> {
    row.serialize(RowSerializer { more })
}

/// Why a row gave no fields.
#[derive(Debug)]
pub(super) enum Error {
    /// The row is not an object.
    NotAnObject,
    /// A field name is not text.
    NameNotText,
    /// A value is an object or an array: the caller stores it as JSON text.
    Nested,
    /// A field's own serialization failed.
    Custom(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotAnObject => f.write_str("a row must serialize to an object"),
            Error::NameNotText => f.write_str("a row's field names must be text"),
            Error::Nested => f.write_str("a nested object or array"),
            Error::Custom(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Custom(msg.to_string())
    }
}

/// The fields being collected, and the name of a map entry whose value is still to come.
struct Fields {
    fields: Vec<(FieldName, FieldValue)>,
    name: Option<FieldName>,
}

impl Fields {
    fn push<T: Serialize + ?Sized>(&mut self, name: FieldName, value: &T) -> Result<(), Error> {
        let field = match value.serialize(ValueSerializer) {
            Ok(v) => (name, v),
            Err(Error::Nested) => nested(name, value)?,
            Err(e) => return Err(e),
        };
        self.fields.push(field);
        Ok(())
    }
}

/// A compound value through `serde_json::Value`, exactly as the value's JSON text reads back.
fn nested<T: Serialize + ?Sized>(
    name: FieldName,
    value: &T,
) -> Result<(FieldName, FieldValue), Error> {
    let value = serde_json::to_value(value).map_err(|e| Error::Custom(e.to_string()))?;
    Ok(untyped(name.into_owned(), value))
}

impl SerializeStruct for Fields {
    type Ok = Vec<(FieldName, FieldValue)>;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.push(FieldName::Borrowed(key), value)
    }

    fn end(self) -> Result<Self::Ok, Error> {
        Ok(self.fields)
    }
}

impl SerializeMap for Fields {
    type Ok = Vec<(FieldName, FieldValue)>;
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        match key.serialize(ValueSerializer) {
            Ok(FieldValue::Text(name)) => {
                self.name = Some(name.into());
                Ok(())
            }
            _ => Err(Error::NameNotText),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let name = self.name.take().ok_or(Error::NameNotText)?;
        self.push(name, value)
    }

    fn end(self) -> Result<Self::Ok, Error> {
        Ok(self.fields)
    }
}

/// Serializes a row: a struct, or a map with text keys.
struct RowSerializer {
    more: usize,
}

impl RowSerializer {
    fn fields(self, len: Option<usize>) -> Fields {
        Fields {
            fields: Vec::with_capacity(len.unwrap_or(0) + self.more),
            name: None,
        }
    }
}

/// `Serializer` methods that take only plain values, each returning `Err($err)`.
macro_rules! refuse {
    ($err:expr; $($method:ident($($arg:ident: $t:ty),*)),* $(,)?) => {
        $(
            fn $method(self, $(_: $t),*) -> Result<Self::Ok, Error> {
                Err($err)
            }
        )*
    };
}

impl Serializer for RowSerializer {
    type Ok = Vec<(FieldName, FieldValue)>;
    type Error = Error;
    type SerializeSeq = Impossible<Self::Ok, Error>;
    type SerializeTuple = Impossible<Self::Ok, Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Error>;
    type SerializeMap = Fields;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Impossible<Self::Ok, Error>;

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Fields, Error> {
        Ok(self.fields(Some(len)))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Fields, Error> {
        Ok(self.fields(len))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Error> {
        value.serialize(self)
    }

    refuse!(Error::NotAnObject;
        serialize_bool(v: bool), serialize_i8(v: i8), serialize_i16(v: i16),
        serialize_i32(v: i32), serialize_i64(v: i64), serialize_u8(v: u8), serialize_u16(v: u16),
        serialize_u32(v: u32), serialize_u64(v: u64), serialize_f32(v: f32), serialize_f64(v: f64),
        serialize_char(v: char), serialize_str(v: &str), serialize_bytes(v: &[u8]),
        serialize_none(), serialize_unit(), serialize_unit_struct(name: &'static str),
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Self::Ok, Error> {
        Err(Error::NotAnObject)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, Error> {
        Err(Error::NotAnObject)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Error::NotAnObject)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Error::NotAnObject)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error::NotAnObject)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error::NotAnObject)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error::NotAnObject)
    }
}

/// Serializes one field's value; a compound value is [`Error::Nested`].
struct ValueSerializer;

fn number(n: f64) -> FieldValue {
    // JSON has no NaN or infinity: serde_json writes them as null.
    if n.is_finite() {
        FieldValue::Number(n)
    } else {
        FieldValue::Null
    }
}

impl Serializer for ValueSerializer {
    type Ok = FieldValue;
    type Error = Error;
    type SerializeSeq = Impossible<FieldValue, Error>;
    type SerializeTuple = Impossible<FieldValue, Error>;
    type SerializeTupleStruct = Impossible<FieldValue, Error>;
    type SerializeTupleVariant = Impossible<FieldValue, Error>;
    type SerializeMap = Impossible<FieldValue, Error>;
    type SerializeStruct = Impossible<FieldValue, Error>;
    type SerializeStructVariant = Impossible<FieldValue, Error>;

    fn serialize_bool(self, v: bool) -> Result<FieldValue, Error> {
        Ok(FieldValue::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<FieldValue, Error> {
        Ok(FieldValue::Number(v.into()))
    }

    fn serialize_i16(self, v: i16) -> Result<FieldValue, Error> {
        Ok(FieldValue::Number(v.into()))
    }

    fn serialize_i32(self, v: i32) -> Result<FieldValue, Error> {
        Ok(FieldValue::Number(v.into()))
    }

    fn serialize_i64(self, v: i64) -> Result<FieldValue, Error> {
        Ok(FieldValue::Number(v as f64))
    }

    fn serialize_i128(self, v: i128) -> Result<FieldValue, Error> {
        Ok(FieldValue::Number(v as f64))
    }

    fn serialize_u8(self, v: u8) -> Result<FieldValue, Error> {
        Ok(FieldValue::Number(v.into()))
    }

    fn serialize_u16(self, v: u16) -> Result<FieldValue, Error> {
        Ok(FieldValue::Number(v.into()))
    }

    fn serialize_u32(self, v: u32) -> Result<FieldValue, Error> {
        Ok(FieldValue::Number(v.into()))
    }

    fn serialize_u64(self, v: u64) -> Result<FieldValue, Error> {
        Ok(FieldValue::Number(v as f64))
    }

    fn serialize_u128(self, v: u128) -> Result<FieldValue, Error> {
        Ok(FieldValue::Number(v as f64))
    }

    fn serialize_f32(self, v: f32) -> Result<FieldValue, Error> {
        // As its JSON text (the shortest that reads back as this f32) reads back as an f64.
        Ok(v.to_string().parse().map_or(FieldValue::Null, number))
    }

    fn serialize_f64(self, v: f64) -> Result<FieldValue, Error> {
        Ok(number(v))
    }

    fn serialize_char(self, v: char) -> Result<FieldValue, Error> {
        Ok(FieldValue::Text(v.to_string()))
    }

    fn serialize_str(self, v: &str) -> Result<FieldValue, Error> {
        Ok(FieldValue::Text(v.to_owned()))
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<FieldValue, Error> {
        Err(Error::Nested)
    }

    fn serialize_none(self) -> Result<FieldValue, Error> {
        Ok(FieldValue::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<FieldValue, Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<FieldValue, Error> {
        Ok(FieldValue::Null)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<FieldValue, Error> {
        Ok(FieldValue::Null)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<FieldValue, Error> {
        Ok(FieldValue::Text(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<FieldValue, Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<FieldValue, Error> {
        Err(Error::Nested)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Error::Nested)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Error::Nested)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error::Nested)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error::Nested)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error::Nested)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(Error::Nested)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error::Nested)
    }
}

#[cfg(test)]
pub(crate) mod tests;
