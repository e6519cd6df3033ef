//! The contract suite of the row store: rows written, overwritten by natural key, read back
//! in key order within a range, per user and dataset.

use crate::dataset::{FieldValue, Record};
use crate::domain::UserId;
use crate::store::{RowScope, RowStore};

fn bar(code: &str, date: &str, close: Option<f64>) -> Record {
    Record {
        partition: code.into(),
        sort: date.into(),
        fields: vec![
            ("Code".into(), FieldValue::Text(code.into())),
            ("Date".into(), FieldValue::Text(date.into())),
            (
                "C".into(),
                close.map_or(FieldValue::Null, FieldValue::Number),
            ),
            ("UL".into(), FieldValue::Text("0".into())),
        ],
    }
}

/// Rows are keyed by owner, dataset and natural key; storing again overwrites.
pub async fn row_store(store: &dyn RowStore) {
    let scope = RowScope {
        user_id: UserId::new(),
        dataset: crate::dataset::DatasetKind::EqBarsDaily,
    };
    let other = RowScope {
        user_id: UserId::new(),
        ..scope
    };
    let rows: Vec<Record> = (1..=30)
        .map(|d| {
            bar(
                "72030",
                &format!("2024-01-{d:02}"),
                if d == 5 {
                    None
                } else {
                    Some(2000.5 + d as f64)
                },
            )
        })
        .collect();
    store.put_rows(scope, &rows).await.unwrap();
    store
        .put_rows(
            scope,
            &[
                bar("72030", "2024-01-02", Some(1.25)),
                bar("86970", "2024-01-02", Some(3.0)),
            ],
        )
        .await
        .unwrap();
    let got = store
        .query_rows(scope, "72030", Some("2024-01-02"), Some("2024-01-05"))
        .await
        .unwrap();
    let json: Vec<_> = got.iter().map(Record::to_json).collect();
    let want: Vec<_> = [
        bar("72030", "2024-01-02", Some(1.25)),
        bar("72030", "2024-01-03", Some(2003.5)),
        bar("72030", "2024-01-04", Some(2004.5)),
        bar("72030", "2024-01-05", None),
    ]
    .iter()
    .map(Record::to_json)
    .collect();
    assert_eq!(json, want);
    assert_eq!(
        store
            .query_rows(scope, "72030", None, None)
            .await
            .unwrap()
            .len(),
        30,
        "no duplicates"
    );
    assert!(
        store
            .query_rows(other, "72030", None, None)
            .await
            .unwrap()
            .is_empty(),
        "rows are per user"
    );
    assert_eq!(
        store
            .query_rows(scope, "86970", None, None)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::rows::MemoryRows;

    #[tokio::test]
    async fn the_memory_fake_keeps_the_contract() {
        row_store(&MemoryRows::default()).await;
    }
}
