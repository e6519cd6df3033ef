//! A dataset's Parquet schema, as `moomoo data get --format parquet` and `moomoo data sync`
//! write it: the columns in the order the rows give them (the API puts `Date` and `Code` first,
//! then the provider's documented order; never alphabetical), typed as an analyst reads them:
//! a text column whose every value is `YYYY-MM-DD` is a DATE, numbers are DOUBLE (a page of
//! whole prices stays DOUBLE, so every file of a dataset agrees), flags BOOLEAN, other text
//! (issue codes such as `72030`) STRING.
//!
//! A synced dataset has one schema across its partitions: [`merge`] gives a column all null in
//! a partition the type the dataset already has, places a new column after its neighbour in
//! the rows, and turns a column whose values disagree into STRING.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::error::CliError;
use crate::to_parquet::{Column, Kind, parse_date, write_rows};

/// What a file of rows shows of its columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observed {
    /// The columns in the rows' order, each with the kind its non-null values share (`None`
    /// when every value is null).
    pub columns: Vec<(String, Option<Kind>)>,
    /// Rows read.
    pub rows: u64,
}

/// Reads the NDJSON rows in `ndjson` for their columns.
///
/// # Errors
/// [`CliError::Io`] when reading fails, [`CliError::Unexpected`] for a line that is not a
/// JSON object.
pub fn observe<R: Read>(ndjson: R) -> Result<Observed, CliError> {
    let mut layout = Layout::default();
    let mut rows = 0;
    for (n, line) in BufReader::new(ndjson).lines().enumerate() {
        let line = line.map_err(CliError::io("reading the rows"))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: OrderedRow = serde_json::from_str(&line).map_err(|_| {
            CliError::Unexpected(format!("line {} of the rows is not a JSON object", n + 1))
        })?;
        layout.add(
            row.0
                .iter()
                .map(|(name, value)| (name.as_str(), kind_of(value))),
        );
        rows += 1;
    }
    Ok(Observed {
        columns: layout.names.into_iter().zip(layout.kinds).collect(),
        rows,
    })
}

/// The schema that holds `prior` (a dataset's schema so far, whose files exist) and every
/// `observed` file: `prior`'s columns and order kept, new columns placed after the column
/// before them in the rows, a type unknown so far (all null) taken from the others, a
/// disagreement made [`Kind::Text`], and a column never seen with a value [`Kind::Text`].
pub fn merge(prior: &[Column], observed: &[&Observed]) -> Vec<Column> {
    let mut layout = Layout::default();
    layout.add(prior.iter().map(|c| (c.name.as_str(), Some(c.kind))));
    for o in observed {
        layout.add(o.columns.iter().map(|(name, kind)| (name.as_str(), *kind)));
    }
    layout
        .names
        .into_iter()
        .zip(layout.kinds)
        .map(|(name, kind)| Column {
            name,
            kind: kind.unwrap_or(Kind::Text),
        })
        .collect()
}

/// Writes the NDJSON rows in `ndjson` to `out` as Parquet with the schema they show alone;
/// returns the number of rows.
///
/// # Errors
/// As [`observe`] and [`write_rows`].
pub fn convert<R: Read + Seek, W: Write + Send>(mut ndjson: R, out: W) -> Result<u64, CliError> {
    let observed = observe(&mut ndjson)?;
    let columns = merge(&[], &[&observed]);
    ndjson
        .seek(SeekFrom::Start(0))
        .map_err(CliError::io("rereading the rows"))?;
    write_rows(ndjson, &columns, out)
}

/// The kind of one value (`None` for null).
fn kind_of(v: &Value) -> Option<Kind> {
    match v {
        Value::Null => None,
        Value::Bool(_) => Some(Kind::Boolean),
        Value::Number(_) => Some(Kind::Double),
        Value::String(s) if parse_date(s).is_some() => Some(Kind::Date),
        _ => Some(Kind::Text),
    }
}

/// The kind that holds values of both.
fn join(a: Option<Kind>, b: Option<Kind>) -> Option<Kind> {
    match (a, b) {
        (None, k) | (k, None) => k,
        (Some(x), Some(y)) if x == y => Some(x),
        _ => Some(Kind::Text),
    }
}

/// Columns in order with their kinds so far.
#[derive(Debug, Default)]
struct Layout {
    names: Vec<String>,
    kinds: Vec<Option<Kind>>,
    index: HashMap<String, usize>,
}

impl Layout {
    /// Adds one row's (or schema's) columns, in its order.
    fn add<'a>(&mut self, fields: impl Iterator<Item = (&'a str, Option<Kind>)>) {
        let mut before: Option<usize> = None;
        for (name, kind) in fields {
            let i = match self.index.get(name) {
                Some(&i) => i,
                None => self.insert(before.map_or(0, |b| b + 1), name),
            };
            self.kinds[i] = join(self.kinds[i], kind);
            before = Some(i);
        }
    }

    fn insert(&mut self, at: usize, name: &str) -> usize {
        self.names.insert(at, name.to_owned());
        self.kinds.insert(at, None);
        // Rare (a new column), so the index is rebuilt rather than shifted in place.
        self.index = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        at
    }
}

/// A JSON object's fields in their order in the text (`serde_json::Map` sorts them).
struct OrderedRow(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = OrderedRow;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedRow, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(field) = map.next_entry::<String, Value>()? {
                    fields.push(field);
                }
                Ok(OrderedRow(fields))
            }
        }
        d.deserialize_map(Fields)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use parquet::basic::{LogicalType, Type as PhysicalType};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use serde_json::json;

    use super::*;

    fn col(name: &str, kind: Kind) -> Column {
        Column {
            name: name.to_owned(),
            kind,
        }
    }

    /// A column of a file read back: name, physical type, logical type.
    type Described = (String, PhysicalType, Option<LogicalType>);

    /// Each column of the file, and its rows as JSON.
    fn read_back(file: Vec<u8>) -> (Vec<Described>, Vec<Value>) {
        let reader = SerializedFileReader::new(bytes::Bytes::from(file)).unwrap();
        let schema = reader.metadata().file_metadata().schema_descr();
        let columns = schema
            .columns()
            .iter()
            .map(|c| {
                (
                    c.name().to_owned(),
                    c.physical_type(),
                    c.logical_type_ref().cloned(),
                )
            })
            .collect();
        let rows = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_json_value())
            .collect();
        (columns, rows)
    }

    const BARS: &str = "\
{\"Date\":\"2024-01-04\",\"Code\":\"72030\",\"O\":2500,\"C\":2510.5,\"Vo\":1200,\"Halt\":false,\"AdjFactor\":1}
{\"Date\":\"2024-01-05\",\"Code\":\"67580\",\"O\":13000,\"C\":13010,\"Vo\":null,\"Halt\":true,\"AdjFactor\":1}
";

    #[test]
    fn dates_are_dates_numbers_doubles_codes_strings_in_the_rows_order() {
        let mut out = Vec::new();
        assert_eq!(convert(Cursor::new(BARS), &mut out).unwrap(), 2);
        let (columns, rows) = read_back(out);
        let text = Some(LogicalType::String);
        assert_eq!(
            columns,
            [
                (
                    "Date".to_owned(),
                    PhysicalType::INT32,
                    Some(LogicalType::Date)
                ),
                ("Code".to_owned(), PhysicalType::BYTE_ARRAY, text),
                ("O".to_owned(), PhysicalType::DOUBLE, None),
                ("C".to_owned(), PhysicalType::DOUBLE, None),
                ("Vo".to_owned(), PhysicalType::DOUBLE, None),
                ("Halt".to_owned(), PhysicalType::BOOLEAN, None),
                ("AdjFactor".to_owned(), PhysicalType::DOUBLE, None),
            ],
            "whole prices and volumes stay DOUBLE; the rows' order, not alphabetical"
        );
        assert_eq!(rows[0]["Date"], "2024-01-04", "{rows:?}");
        assert_eq!(rows[0]["Code"], "72030");
        assert_eq!(rows[1]["C"], 13010.0);
        assert_eq!(rows[1]["Vo"], Value::Null);
    }

    #[test]
    fn a_date_is_exactly_yyyy_mm_dd() {
        let kinds = |values: &[Value]| {
            let ndjson: String = values.iter().map(|v| format!("{{\"x\":{v}}}\n")).collect();
            observe(Cursor::new(ndjson)).unwrap().columns[0].1
        };
        assert_eq!(kinds(&[json!("2024-02-29"), Value::Null]), Some(Kind::Date));
        for odd in [
            "2023-02-29",
            "2024-2-29",
            "2024-02-29T00:00:00",
            "20240229",
            "72030",
        ] {
            assert_eq!(
                kinds(&[json!("2024-01-04"), json!(odd)]),
                Some(Kind::Text),
                "{odd}"
            );
        }
        assert_eq!(kinds(&[json!(1), json!("1")]), Some(Kind::Text));
        assert_eq!(kinds(&[json!(1), json!(true)]), Some(Kind::Text));
        assert_eq!(kinds(&[Value::Null]), None);
    }

    #[test]
    fn a_column_all_null_in_a_partition_takes_the_datasets_type() {
        let dataset = [
            col("Date", Kind::Date),
            col("Code", Kind::Text),
            col("Div", Kind::Double),
        ];
        let ndjson = "{\"Date\":\"2023-01-04\",\"Code\":\"72030\",\"Div\":null}\n";
        let observed = observe(Cursor::new(ndjson)).unwrap();
        assert_eq!(observed.columns[2], ("Div".to_owned(), None));
        let schema = merge(&dataset, &[&observed]);
        assert_eq!(schema, dataset, "nothing changes");
        let mut out = Vec::new();
        write_rows(Cursor::new(ndjson), &schema, &mut out).unwrap();
        let (columns, rows) = read_back(out);
        assert_eq!(columns[2].1, PhysicalType::DOUBLE);
        assert_eq!(
            rows,
            [json!({"Date": "2023-01-04", "Code": "72030", "Div": null})]
        );
        assert_eq!(
            merge(&[], &[&observed])[2],
            col("Div", Kind::Text),
            "with no type known, a column of nulls is text"
        );
    }

    #[test]
    fn partitions_merge_into_one_schema() {
        let seen = |ndjson: &str| observe(Cursor::new(ndjson.to_owned())).unwrap();
        let y2023 = seen("{\"Date\":\"2023-01-04\",\"Code\":\"72030\",\"C\":null}\n");
        let y2024 = seen("{\"Date\":\"2024-01-04\",\"Code\":\"72030\",\"C\":1.5,\"Vo\":3}\n");
        assert_eq!(
            merge(&[], &[&y2023, &y2024]),
            [
                col("Date", Kind::Date),
                col("Code", Kind::Text),
                col("C", Kind::Double),
                col("Vo", Kind::Double),
            ],
            "2023's C has its type from 2024's"
        );
        let prior = merge(&[], &[&y2024]);
        let new_column =
            seen("{\"Date\":\"2025-01-06\",\"Code\":\"72030\",\"O\":1,\"C\":2,\"Vo\":3}\n");
        let names: Vec<String> = merge(&prior, &[&new_column])
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["Date", "Code", "O", "C", "Vo"], "O after Code");
        let conflict = seen("{\"Date\":\"2025-01-06\",\"Code\":\"72030\",\"C\":\"n/a\"}\n");
        assert_eq!(
            merge(&prior, &[&conflict])[2],
            col("C", Kind::Text),
            "widened"
        );
    }

    #[test]
    fn rows_the_schema_cannot_hold_are_refused() {
        let schema = [col("Date", Kind::Date)];
        let e = write_rows(Cursor::new("{\"Date\":\"soon\"}\n"), &schema, Vec::new()).unwrap_err();
        assert!(e.to_string().contains("does not fit column Date"), "{e}");
        let e = write_rows(Cursor::new("{\"X\":1}\n"), &schema, Vec::new()).unwrap_err();
        assert!(e.to_string().contains("field `X` the schema lacks"), "{e}");
        let e = observe(Cursor::new("{}\n[1]\n")).unwrap_err();
        assert_eq!(e.to_string(), "line 2 of the rows is not a JSON object");
    }
}
