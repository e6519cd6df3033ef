//! The IAM actions of a DynamoDB request: each item's action on its table or index, with the
//! partition keys it names as `dynamodb:LeadingKeys`.

use serde_json::Value;

use super::Performed;

/// The tables' partition key attribute (`infra/TABLES.md`): its values are IAM's
/// `dynamodb:LeadingKeys`.
const PARTITION_KEY: &str = "pk";

pub(super) fn actions(op: &str, body: &Value) -> Vec<Performed> {
    let table = |v: &Value| -> String {
        let name = v["TableName"].as_str().unwrap_or("*");
        match v["IndexName"].as_str() {
            Some(index) => format!("{name}/index/{index}"),
            None => name.to_owned(),
        }
    };
    let leading = |mut p: Performed, keys: Vec<&Value>| -> Performed {
        let mut values: Vec<&str> = keys
            .into_iter()
            .filter_map(|k| k[PARTITION_KEY]["S"].as_str())
            .collect();
        values.sort_unstable();
        values.dedup();
        if !values.is_empty() {
            p.conditions
                .insert("dynamodb:LeadingKeys".into(), serde_json::json!(values));
        }
        p
    };
    // An item request names its item by `Key`, or by `Item` for a put.
    let item_key = |v: &Value| -> Value {
        if v["Key"].is_null() {
            v["Item"].clone()
        } else {
            v["Key"].clone()
        }
    };
    let action = |op: &str| format!("dynamodb:{op}");
    match op {
        "TransactWriteItems" | "TransactGetItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|item| {
                [
                    ("Put", "PutItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                    ("ConditionCheck", "ConditionCheckItem"),
                    ("Get", "GetItem"),
                ]
                .into_iter()
                .filter(|(k, _)| !item[*k].is_null())
                .map(|(k, a)| {
                    let v = &item[k];
                    leading(Performed::new(action(a), table(v)), vec![&item_key(v)])
                })
            })
            .collect(),
        "BatchGetItem" | "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(t, req)| {
                let keys: Vec<Value> = match req["Keys"].as_array() {
                    Some(keys) => keys.clone(),
                    None => req
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|w| {
                            if w["PutRequest"].is_null() {
                                w["DeleteRequest"]["Key"].clone()
                            } else {
                                w["PutRequest"]["Item"].clone()
                            }
                        })
                        .collect(),
                };
                leading(Performed::new(action(op), t.clone()), keys.iter().collect())
            })
            .collect(),
        "Query" => {
            // `pk = :v` in the key condition of a table (not an index) query.
            let expr = body["KeyConditionExpression"].as_str().unwrap_or("");
            let value = body["IndexName"]
                .is_null()
                .then(|| {
                    let rest = expr.strip_prefix(PARTITION_KEY)?.trim_start();
                    let name = rest.strip_prefix('=')?.split_whitespace().next()?;
                    Some(serde_json::json!({ PARTITION_KEY: body["ExpressionAttributeValues"][name] }))
                })
                .flatten();
            vec![leading(
                Performed::new(action(op), table(body)),
                value.iter().collect(),
            )]
        }
        "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem" => {
            let key = item_key(body);
            vec![leading(Performed::new(action(op), table(body)), vec![&key])]
        }
        _ => vec![Performed::new(action(op), table(body))],
    }
}
