//! The field writer against serde_json's own reading, on every dataset of the catalog.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Value, json};

use super::*;
use crate::dataset::{JSON_FIELD_SUFFIX, Row};

/// The fields as the stored form was first built: the row, `extra` flattened after its
/// typed fields, written as JSON text and read back entry by entry, nested values folded
/// into JSON text.
pub(crate) fn via_json_text<R: Serialize>(
    row: &R,
    extra: &BTreeMap<String, Value>,
) -> Vec<(String, FieldValue)> {
    #[derive(Serialize)]
    struct Flattened<'a, R> {
        #[serde(flatten)]
        row: &'a R,
        #[serde(flatten)]
        extra: &'a BTreeMap<String, Value>,
    }
    struct Fields(Vec<(String, FieldValue)>);
    impl<'de> Deserialize<'de> for Fields {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Entries;
            impl<'de> Visitor<'de> for Entries {
                type Value = Fields;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                    let mut fields = Vec::new();
                    while let Some((name, value)) = map.next_entry::<String, Value>()? {
                        fields.push(match value {
                            Value::Object(_) | Value::Array(_) => (
                                format!("{name}{JSON_FIELD_SUFFIX}"),
                                FieldValue::Text(value.to_string()),
                            ),
                            other => (name, FieldValue::from(&other)),
                        });
                    }
                    Ok(Fields(fields))
                }
            }
            d.deserialize_map(Entries)
        }
    }
    let text = serde_json::to_string(&Flattened { row, extra }).unwrap();
    serde_json::from_str::<Fields>(&text).unwrap().0
}

fn owned(fields: Vec<(FieldName, FieldValue)>) -> Vec<(String, FieldValue)> {
    fields
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v))
        .collect()
}

/// Checks every row of `data` gives the same fields both ways; run on every dataset's
/// reference sample by `dataset::tests::round_trips`.
pub(crate) fn same_as_json_text<R: Row>(data: &serde_json::value::RawValue) {
    let checked = crate::dataset::rows::read(data.get(), |row: R| {
        let old = via_json_text(&row, row.extra());
        assert_eq!(owned(row.into_record().fields), old);
    })
    .unwrap();
    assert!(!checked.is_empty());
}

/// One sandbox page of every dataset of the catalog gives the same fields both ways.
#[tokio::test]
async fn every_dataset_gives_the_fields_the_json_text_path_gave() {
    use std::collections::HashMap;

    use serde_json::value::RawValue;

    use crate::catalog::ENDPOINTS;
    use crate::dataset::*;

    let sb = sandbox::Sandbox::start(sandbox::SandboxConfig {
        keys: vec![sandbox::ApiKeySpec {
            key: "k".into(),
            plan: sandbox::Plan::Premium,
        }],
        page_size: 200,
        today: chrono::NaiveDate::from_ymd_opt(2025, 5, 9),
    })
    .await;
    let http = reqwest::Client::new();
    let v1_token = v1_id_token(&sb, &http).await;
    let day = [("date", "2025-05-08")];
    let april = [("from", "2025-04-01"), ("to", "2025-04-30")];
    let april_7203 = [
        ("code", "7203"),
        ("from", "2025-04-01"),
        ("to", "2025-04-30"),
    ];
    let query = |kind: DatasetKind| -> &[(&str, &str)] {
        match kind {
            DatasetKind::EqMaster | DatasetKind::V1ListedInfo => &[("date", "2025-05-01")],
            DatasetKind::EqBarsDaily
            | DatasetKind::MktMarginInterest
            | DatasetKind::MktBreakdown
            | DatasetKind::V1DailyQuotes => &april_7203,
            DatasetKind::EqBarsMinute => &[("code", "7203"), ("date", "2025-05-08")],
            DatasetKind::EqInvestorTypes => &[("from", "2025-01-01"), ("to", "2025-03-31")],
            DatasetKind::FinDividend => &[
                ("code", "8697"),
                ("from", "2015-01-01"),
                ("to", "2025-05-09"),
            ],
            DatasetKind::MktCal
            | DatasetKind::IdxBarsDailyTopix
            | DatasetKind::V1TradingCalendar => &april,
            DatasetKind::MktShortSaleReport => &[("disc_date", "2025-05-08")],
            DatasetKind::IdxBarsDaily => &[
                ("code", "0000"),
                ("from", "2025-04-01"),
                ("to", "2025-04-30"),
            ],
            DatasetKind::EqBarsDailyAm | DatasetKind::EqEarningsCal => &[],
            _ => &day,
        }
    };
    // Yahoo answers are charts and quote objects, not row arrays: their rows are built by
    // the Yahoo client (tested in `yahoo::pages`).
    for endpoint in ENDPOINTS.iter().filter(|e| e.data_source != "yahoo") {
        let request = if endpoint.data_source == "jquants-v1" {
            http.get(format!("{}{}", sb.v1_base_url(), endpoint.path))
                .bearer_auth(&v1_token)
        } else {
            http.get(format!("{}{}", sb.base_url(), endpoint.path))
                .header("x-api-key", "k")
        };
        let query = query(endpoint.dataset);
        let body = request.query(query).send().await.unwrap();
        let body = body.text().await.unwrap();
        let page: HashMap<&str, &RawValue> = serde_json::from_str(&body).unwrap();
        let rows = page
            .get(endpoint.dataset.data_key())
            .unwrap_or_else(|| panic!("{}: {body}", endpoint.id));
        by_kind!(endpoint.dataset, same_as_json_text, rows);
    }
}

/// An id token of a new V1 user of the sandbox (on the Premium plan).
async fn v1_id_token(sb: &sandbox::Sandbox, http: &reqwest::Client) -> String {
    sb.add_v1_user("fields@example.com", "pw", sandbox::Plan::Premium);
    let v1 = sb.v1_base_url();
    let refresh: Value = http
        .post(format!("{v1}/token/auth_user"))
        .json(&json!({"mailaddress": "fields@example.com", "password": "pw"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id: Value = http
        .post(format!("{v1}/token/auth_refresh"))
        .query(&[("refreshtoken", refresh["refreshToken"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    id["idToken"].as_str().unwrap().to_owned()
}

#[derive(Serialize)]
struct Odd {
    unit: (),
    int: u64,
    neg: i32,
    small: f32,
    nan: f64,
    ch: char,
    list: Vec<u8>,
    tuple: (u8, &'static str),
    bytes: Bytes,
    variant: Kind,
    newtype: Kind,
    none: Option<bool>,
    some: Option<bool>,
}

#[derive(Serialize)]
enum Kind {
    Plain,
    Wrapped(u8),
}

struct Bytes;

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(b"ab")
    }
}

#[test]
fn every_value_form_reads_as_its_json_text_would() {
    let row = Odd {
        unit: (),
        int: 7,
        neg: -3,
        small: 0.1,
        nan: f64::NAN,
        ch: 'x',
        list: vec![1, 2],
        tuple: (1, "a"),
        bytes: Bytes,
        variant: Kind::Plain,
        newtype: Kind::Wrapped(4),
        none: None,
        some: Some(true),
    };
    let none = BTreeMap::new();
    assert_eq!(
        owned(fields_of(&row, 0).unwrap()),
        via_json_text(&row, &none)
    );
    let map = json!({"A": [1, {"b": null}], "B": {"z": 1, "a": 2}, "C": 1.5});
    assert_eq!(
        owned(fields_of(&map, 0).unwrap()),
        via_json_text(&map, &none)
    );
}

#[test]
fn only_objects_with_text_names_are_rows() {
    assert!(matches!(fields_of(&1.5, 0), Err(Error::NotAnObject)));
    assert!(matches!(fields_of(&[1, 2], 0), Err(Error::NotAnObject)));
    let numbered: BTreeMap<u8, u8> = [(1, 2)].into();
    assert!(matches!(fields_of(&numbered, 0), Err(Error::NameNotText)));
}
