//! Fidelity of the local AWS where our correctness depends on it. A cancelled
//! TransactWriteItems must change nothing, including writes other requests made meanwhile:
//! moto 5.2.5 restores the tables it copied before the transaction, so without
//! `infra/local/moto_serve.py`'s lock a concurrent write is undone (a fetcher's finished job
//! came back as a fresh pending item, its message gone, its group never ending). And the
//! SDK-level call counter the benchmarks read, on real requests.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TransactWriteItem, Update,
};
use integration_tests::{require_emulator, unique};

fn key(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [("pk".to_owned(), AttributeValue::S(pk.to_owned()))].into()
}

async fn create_table(db: &aws_sdk_dynamodb::Client, table: &str) {
    db.create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_cancelled_transaction_never_undoes_another_requests_write() {
    require_emulator();
    let sdk = shared::aws::load_sdk_config().await;
    let db = aws_sdk_dynamodb::Client::new(&sdk);
    let table = unique("fidelity");
    create_table(&db, &table).await;
    // The counter first, then a table big enough that plain moto's copy before each
    // transaction takes a while: an increment landing while the rest is copied is undone by
    // the rollback.
    db.put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("counter".into()))
        .item("n", AttributeValue::N("0".into()))
        .send()
        .await
        .unwrap();
    for chunk in (0..1500).collect::<Vec<_>>().chunks(25) {
        let puts = chunk.iter().map(|i| {
            let put = aws_sdk_dynamodb::types::PutRequest::builder()
                .item("pk", AttributeValue::S(format!("filler-{i}")))
                .item("blob", AttributeValue::S("x".repeat(200)))
                .build()
                .unwrap();
            aws_sdk_dynamodb::types::WriteRequest::builder()
                .put_request(put)
                .build()
        });
        db.batch_write_item()
            .request_items(&table, puts.collect())
            .send()
            .await
            .unwrap();
    }
    let counting = async {
        let tasks = (0..4).map(|_| {
            let (db, table) = (db.clone(), table.clone());
            tokio::spawn(async move {
                for _ in 0..50 {
                    db.update_item()
                        .table_name(&table)
                        .set_key(Some(key("counter")))
                        .update_expression("ADD n :one")
                        .expression_attribute_values(":one", AttributeValue::N("1".into()))
                        .send()
                        .await
                        .unwrap();
                }
            })
        });
        futures::future::join_all(tasks).await
    };
    let cancelling = async {
        let tasks = (0..4).map(|_| {
            let (db, table) = (db.clone(), table.clone());
            tokio::spawn(async move {
                let mut cancelled = 0;
                for _ in 0..30 {
                    let never = Update::builder()
                        .table_name(&table)
                        .set_key(Some(key("absent")))
                        .update_expression("SET x = :one")
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_values(":one", AttributeValue::N("1".into()))
                        .build()
                        .unwrap();
                    let r = db
                        .transact_write_items()
                        .transact_items(TransactWriteItem::builder().update(never).build())
                        .send()
                        .await;
                    cancelled += usize::from(r.is_err());
                }
                cancelled
            })
        });
        futures::future::join_all(tasks).await
    };
    let (_, cancelled) = tokio::join!(counting, cancelling);
    let cancelled: usize = cancelled.into_iter().map(Result::unwrap).sum();
    assert_eq!(cancelled, 120, "every transaction's condition fails");
    let item = db
        .get_item()
        .table_name(&table)
        .set_key(Some(key("counter")))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        item["n"],
        AttributeValue::N("200".into()),
        "every increment kept while transactions were cancelled"
    );
    assert!(
        db.get_item()
            .table_name(&table)
            .set_key(Some(key("absent")))
            .send()
            .await
            .unwrap()
            .item
            .is_none()
    );
}

#[tokio::test]
async fn the_call_counter_counts_operations_and_single_table_calls_by_table() {
    require_emulator();
    let sdk = shared::aws::load_sdk_config().await;
    let db = aws_sdk_dynamodb::Client::new(&sdk);
    let (a, b) = (unique("counted-a"), unique("counted-b"));
    create_table(&db, &a).await;
    create_table(&db, &b).await;
    let counter = shared::aws::CallCounter::default();
    let counted = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(counter.clone())
            .build(),
    );
    for table in [&a, &a, &b] {
        counted
            .put_item()
            .table_name(table)
            .item("pk", AttributeValue::S("x".into()))
            .send()
            .await
            .unwrap();
    }
    counted
        .get_item()
        .table_name(&b)
        .set_key(Some(key("x")))
        .send()
        .await
        .unwrap();
    let touch = |table: &str| {
        TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(table)
                    .set_key(Some(key("x")))
                    .update_expression("SET y = :one")
                    .expression_attribute_values(":one", AttributeValue::N("1".into()))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    counted
        .transact_write_items()
        .transact_items(touch(&a))
        .transact_items(touch(&b))
        .send()
        .await
        .unwrap();
    assert_eq!(
        counter.snapshot(),
        [
            ("DynamoDB.GetItem".to_owned(), 1),
            ("DynamoDB.PutItem".to_owned(), 3),
            ("DynamoDB.TransactWriteItems".to_owned(), 1),
        ]
        .into()
    );
    // A transaction spans tables: counted by operation only.
    assert_eq!(counter.by_table(), [(a, 2), (b, 2)].into());
    assert_eq!(counter.total(), 5);
}
