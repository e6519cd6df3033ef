//! NDJSON rows (the API's export) → one Parquet file, with the `parquet` crate's low-level
//! writer (no Arrow: it would triple the CLI's compile time for one file format).
//!
//! Two passes over the rows: the first builds the schema from the export's columns (first-seen
//! order, each column the narrowest type that holds all its values, every column nullable),
//! the second ([`write_rows`]) writes row groups of [`ROW_GROUP_ROWS`], so memory holds one row
//! group however large the export. [`crate::schema`] chooses a dataset's schema differently
//! (dates, doubles, the rows' own column order) and writes with [`write_rows`] too.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use chrono::NaiveDate;
use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use serde_json::{Map, Value};

use crate::error::CliError;

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// A column's Parquet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Every value an integer that fits `i64`.
    Int64,
    /// Numbers, some not integers.
    Double,
    /// Every value `true` or `false`.
    Boolean,
    /// Text: strings, and any column whose values mix kinds (non-strings as their JSON).
    Text,
    /// Every value a `YYYY-MM-DD` string: a Parquet DATE (days since 1970-01-01). Chosen by
    /// [`crate::schema`] only.
    Date,
}

/// A column of the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    /// The field name, as in the export.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: Kind,
}

/// Which kinds of values a column has shown.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    int: bool,
    float: bool,
    boolean: bool,
    other: bool,
}

impl Seen {
    fn add(&mut self, v: &Value) {
        match v {
            Value::Null => {}
            Value::Bool(_) => self.boolean = true,
            Value::Number(n) if n.is_i64() => self.int = true,
            Value::Number(n) if n.is_f64() => self.float = true,
            _ => self.other = true,
        }
    }

    fn kind(self) -> Kind {
        let numeric = self.int || self.float;
        if self.other || (self.boolean && numeric) {
            Kind::Text
        } else if self.boolean {
            Kind::Boolean
        } else if self.float {
            Kind::Double
        } else if self.int {
            Kind::Int64
        } else {
            Kind::Text
        }
    }
}

/// The columns seen so far.
#[derive(Debug, Default)]
struct Columns {
    names: Vec<String>,
    seen: Vec<Seen>,
    index: HashMap<String, usize>,
}

impl Columns {
    fn add_row(&mut self, row: &Map<String, Value>) {
        for (name, value) in row {
            let i = *self.index.entry(name.clone()).or_insert_with(|| {
                self.names.push(name.clone());
                self.seen.push(Seen::default());
                self.names.len() - 1
            });
            self.seen[i].add(value);
        }
    }

    fn columns(&self) -> Vec<Column> {
        self.names
            .iter()
            .zip(&self.seen)
            .map(|(name, seen)| Column {
                name: name.clone(),
                kind: seen.kind(),
            })
            .collect()
    }
}

/// The columns of `rows`, in first-seen order.
pub fn infer_columns<'a>(rows: impl IntoIterator<Item = &'a Map<String, Value>>) -> Vec<Column> {
    let mut columns = Columns::default();
    for row in rows {
        columns.add_row(row);
    }
    columns.columns()
}

/// Writes the NDJSON in `ndjson` to `out` as Parquet; returns the number of rows.
///
/// # Errors
/// [`CliError::Io`] when reading fails, [`CliError::Unexpected`] for a line that is not a
/// JSON object or a writer failure.
pub fn convert<R: Read + Seek, W: Write + Send>(mut ndjson: R, out: W) -> Result<u64, CliError> {
    let mut columns = Columns::default();
    for_each_row(&mut ndjson, |row| {
        columns.add_row(&row);
        Ok(())
    })?;
    let columns = columns.columns();
    ndjson
        .seek(SeekFrom::Start(0))
        .map_err(CliError::io("rereading the export"))?;
    write_rows(ndjson, &columns, out)
}

/// Writes the NDJSON rows in `ndjson` to `out` as Parquet with exactly `columns` (a column a
/// row lacks is null there); returns the number of rows.
///
/// # Errors
/// As [`convert`]; [`CliError::Unexpected`] too for a row with a field `columns` lacks, or a
/// value its column's kind cannot hold.
pub fn write_rows<R: Read, W: Write + Send>(
    mut ndjson: R,
    columns: &[Column],
    out: W,
) -> Result<u64, CliError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(concat!("moomoo-cli ", env!("CARGO_PKG_VERSION")).into())
        .build();
    let mut writer = SerializedFileWriter::new(out, Arc::new(schema(columns)?), Arc::new(props))?;
    let mut batch = Batch::new(columns);
    let known: std::collections::HashSet<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let mut rows = 0;
    for_each_row(&mut ndjson, |row| {
        if let Some(extra) = row.keys().find(|k| !known.contains(k.as_str())) {
            return Err(CliError::Unexpected(format!(
                "writing Parquet: row {} has a field `{extra}` the schema lacks",
                rows + 1
            )));
        }
        batch.push(columns, &row)?;
        rows += 1;
        if batch.rows == ROW_GROUP_ROWS {
            batch.write(&mut writer)?;
        }
        Ok(())
    })?;
    if batch.rows > 0 {
        batch.write(&mut writer)?;
    }
    writer.close()?;
    Ok(rows)
}

fn for_each_row(
    ndjson: &mut impl Read,
    mut f: impl FnMut(Map<String, Value>) -> Result<(), CliError>,
) -> Result<(), CliError> {
    for (n, line) in BufReader::new(ndjson).lines().enumerate() {
        let line = line.map_err(CliError::io("reading the export"))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(Value::Object(row)) => f(row)?,
            _ => {
                return Err(CliError::Unexpected(format!(
                    "line {} of the export is not a JSON object",
                    n + 1
                )));
            }
        }
    }
    Ok(())
}

fn schema(columns: &[Column]) -> Result<Type, CliError> {
    let fields = columns
        .iter()
        .map(|c| {
            let (physical, logical) = match c.kind {
                Kind::Int64 => (PhysicalType::INT64, None),
                Kind::Double => (PhysicalType::DOUBLE, None),
                Kind::Boolean => (PhysicalType::BOOLEAN, None),
                Kind::Text => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
                Kind::Date => (PhysicalType::INT32, Some(LogicalType::Date)),
            };
            Type::primitive_type_builder(&c.name, physical)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
        })
        .collect::<Result<Vec<_>, ParquetError>>()?;
    Ok(Type::group_type_builder("schema")
        .with_fields(fields)
        .build()?)
}

impl From<ParquetError> for CliError {
    fn from(e: ParquetError) -> Self {
        CliError::Unexpected(format!("writing Parquet: {e}"))
    }
}

/// One row group's values, column by column.
struct Batch {
    rows: usize,
    columns: Vec<Buffer>,
}

/// A column's definition levels (1 = value, 0 = null) and its non-null values.
struct Buffer {
    defs: Vec<i16>,
    values: Values,
}

enum Values {
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Double(Vec<f64>),
    Boolean(Vec<bool>),
    Text(Vec<ByteArray>),
}

impl Batch {
    fn new(columns: &[Column]) -> Self {
        let columns = columns
            .iter()
            .map(|c| Buffer {
                defs: Vec::new(),
                values: match c.kind {
                    Kind::Int64 => Values::Int64(Vec::new()),
                    Kind::Double => Values::Double(Vec::new()),
                    Kind::Boolean => Values::Boolean(Vec::new()),
                    Kind::Text => Values::Text(Vec::new()),
                    Kind::Date => Values::Int32(Vec::new()),
                },
            })
            .collect();
        Self { rows: 0, columns }
    }

    fn push(&mut self, columns: &[Column], row: &Map<String, Value>) -> Result<(), CliError> {
        self.rows += 1;
        for (column, buffer) in columns.iter().zip(&mut self.columns) {
            let value = row.get(&column.name).filter(|v| !v.is_null());
            buffer.defs.push(i16::from(value.is_some()));
            let Some(v) = value else { continue };
            let misfit = || {
                CliError::Unexpected(format!(
                    "writing Parquet: `{v}` does not fit column {} ({:?})",
                    column.name, column.kind
                ))
            };
            match &mut buffer.values {
                Values::Int32(x) => x.push(days_since_epoch(v).ok_or_else(misfit)?),
                Values::Int64(x) => x.push(v.as_i64().ok_or_else(misfit)?),
                Values::Double(x) => x.push(v.as_f64().ok_or_else(misfit)?),
                Values::Boolean(x) => x.push(v.as_bool().ok_or_else(misfit)?),
                Values::Text(x) => x.push(match v {
                    Value::String(s) => ByteArray::from(s.as_str()),
                    other => ByteArray::from(other.to_string().into_bytes()),
                }),
            }
        }
        Ok(())
    }

    fn write<W: Write + Send>(
        &mut self,
        writer: &mut SerializedFileWriter<W>,
    ) -> Result<(), CliError> {
        let mut group = writer.next_row_group()?;
        let mut buffers = self.columns.iter_mut();
        while let Some(mut column) = group.next_column()? {
            let buffer = buffers
                .next()
                .ok_or_else(|| CliError::Unexpected("writing Parquet: a column too many".into()))?;
            let defs = Some(buffer.defs.as_slice());
            match &buffer.values {
                Values::Int32(v) => column.typed::<Int32Type>().write_batch(v, defs, None),
                Values::Int64(v) => column.typed::<Int64Type>().write_batch(v, defs, None),
                Values::Double(v) => column.typed::<DoubleType>().write_batch(v, defs, None),
                Values::Boolean(v) => column.typed::<BoolType>().write_batch(v, defs, None),
                Values::Text(v) => column.typed::<ByteArrayType>().write_batch(v, defs, None),
            }?;
            column.close()?;
            buffer.defs.clear();
            match &mut buffer.values {
                Values::Int32(v) => v.clear(),
                Values::Int64(v) => v.clear(),
                Values::Double(v) => v.clear(),
                Values::Boolean(v) => v.clear(),
                Values::Text(v) => v.clear(),
            }
        }
        group.close()?;
        self.rows = 0;
        Ok(())
    }
}

/// A `YYYY-MM-DD` value as a Parquet DATE: days since 1970-01-01.
fn days_since_epoch(v: &Value) -> Option<i32> {
    let date = parse_date(v.as_str()?)?;
    i32::try_from((date - NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days()).ok()
}

/// `text` as a date when it is exactly `YYYY-MM-DD` (not `2024-1-5`, not a timestamp).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    shape
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use parquet::file::reader::{FileReader, SerializedFileReader};
    use serde_json::json;

    use super::*;

    fn rows(values: &[Value]) -> Vec<Map<String, Value>> {
        values
            .iter()
            .map(|v| v.as_object().unwrap().clone())
            .collect()
    }

    #[test]
    fn each_column_gets_the_narrowest_type_that_holds_all_its_values() {
        // Keys in alphabetical order, so the order is the same whether or not serde_json
        // keeps the text's order (`preserve_order`).
        let rows = rows(&[
            json!({"Code": "72030", "Flag": true, "Gone": null, "Mixed": 1, "O": 3000.5, "Vo": 100}),
            json!({"Code": "67580", "Flag": false, "Mixed": "x", "New": [1], "O": 12, "Vo": null}),
        ]);
        let kinds: Vec<(String, Kind)> = infer_columns(&rows)
            .into_iter()
            .map(|c| (c.name, c.kind))
            .collect();
        let want = [
            ("Code", Kind::Text),
            ("Flag", Kind::Boolean),
            ("Gone", Kind::Text),
            ("Mixed", Kind::Text),
            ("O", Kind::Double),
            ("Vo", Kind::Int64),
            ("New", Kind::Text),
        ];
        assert_eq!(
            kinds,
            want.map(|(n, k)| (n.to_owned(), k)),
            "first-seen order"
        );
    }

    fn read_back(file: Vec<u8>) -> (Vec<String>, Vec<Value>) {
        let reader = SerializedFileReader::new(bytes::Bytes::from(file)).unwrap();
        let schema = reader.metadata().file_metadata().schema_descr();
        let columns = schema
            .columns()
            .iter()
            .map(|c| format!("{}:{}", c.name(), c.physical_type()))
            .collect();
        let rows = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_json_value())
            .collect();
        (columns, rows)
    }

    #[test]
    fn rows_round_trip_through_a_parquet_reader_with_nulls_kept() {
        let ndjson = "{\"C\":3000.5,\"Code\":\"72030\",\"Vo\":100}\n\
                      {\"C\":null,\"Code\":\"67580\",\"Extra\":\"e\",\"Vo\":7}\n";
        let mut out = Vec::new();
        let n = convert(Cursor::new(ndjson), &mut out).unwrap();
        assert_eq!(n, 2);
        let (columns, rows) = read_back(out);
        assert_eq!(
            columns,
            [
                "C:DOUBLE",
                "Code:BYTE_ARRAY",
                "Vo:INT64",
                "Extra:BYTE_ARRAY"
            ]
        );
        assert_eq!(
            rows,
            [
                json!({"C": 3000.5, "Code": "72030", "Vo": 100, "Extra": null}),
                json!({"C": null, "Code": "67580", "Vo": 7, "Extra": "e"}),
            ]
        );
    }

    #[test]
    fn many_rows_span_several_row_groups() {
        let ndjson: String = (0..ROW_GROUP_ROWS + 3)
            .map(|i| format!("{{\"i\":{i}}}\n"))
            .collect();
        let mut out = Vec::new();
        assert_eq!(
            convert(Cursor::new(ndjson), &mut out).unwrap(),
            ROW_GROUP_ROWS as u64 + 3
        );
        let reader = SerializedFileReader::new(bytes::Bytes::from(out)).unwrap();
        assert_eq!(reader.num_row_groups(), 2);
        assert_eq!(
            reader.metadata().file_metadata().num_rows(),
            ROW_GROUP_ROWS as i64 + 3
        );
    }

    #[test]
    fn an_empty_export_is_an_empty_file_and_garbage_is_refused() {
        let mut out = Vec::new();
        assert_eq!(convert(Cursor::new(""), &mut out).unwrap(), 0);
        assert_eq!(read_back(out).1, Vec::<Value>::new());
        let e = convert(Cursor::new("{}\n[1]\n"), Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "line 2 of the export is not a JSON object");
    }
}
