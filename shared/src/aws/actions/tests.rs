//! The actions and resources read from requests of each service.

use base64::Engine as _;

use super::*;

fn one(actions: &[Performed]) -> Vec<(&str, &str)> {
    actions
        .iter()
        .map(|p| (p.action.as_str(), p.resource.as_str()))
        .collect()
}

#[test]
fn a_transaction_needs_each_items_action_on_its_table() {
    let body = br#"{"TransactItems":[
        {"Update":{"TableName":"s-JobsTable","Key":{}}},
        {"Put":{"TableName":"s-JobsTable","Item":{}}},
        {"ConditionCheck":{"TableName":"s-AccountsTable","Key":{}}},
        {"Update":{"TableName":"s-JobsTable","Key":{}}},
        {"Delete":{"TableName":"s-RateLimitsTable","Key":{}}}]}"#;
    let got = iam_actions("DynamoDB", "TransactWriteItems", "http://x/", Some(body));
    assert_eq!(
        one(&got),
        [
            ("dynamodb:UpdateItem", "s-JobsTable"),
            ("dynamodb:PutItem", "s-JobsTable"),
            ("dynamodb:ConditionCheckItem", "s-AccountsTable"),
            ("dynamodb:DeleteItem", "s-RateLimitsTable"),
        ]
    );
    let get = br#"{"TransactItems":[{"Get":{"TableName":"t","Key":{}}}]}"#;
    assert_eq!(
        one(&iam_actions("DynamoDB", "TransactGetItems", "", Some(get))),
        [("dynamodb:GetItem", "t")]
    );
}

#[test]
fn dynamodb_names_the_table_or_its_index() {
    let q = br#"{"TableName":"s-JobsTable","IndexName":"active","KeyConditionExpression":"x"}"#;
    assert_eq!(
        one(&iam_actions("DynamoDB", "Query", "", Some(q))),
        [("dynamodb:Query", "s-JobsTable/index/active")]
    );
    let g = br#"{"TableName":"s-AccountsTable","Key":{}}"#;
    assert_eq!(
        one(&iam_actions("DynamoDB", "GetItem", "", Some(g))),
        [("dynamodb:GetItem", "s-AccountsTable")]
    );
    let b = br#"{"RequestItems":{"a":{"Keys":[]},"b":{"Keys":[]}}}"#;
    assert_eq!(
        one(&iam_actions("DynamoDB", "BatchGetItem", "", Some(b))),
        [
            ("dynamodb:BatchGetItem", "a"),
            ("dynamodb:BatchGetItem", "b")
        ]
    );
}

#[test]
fn dynamodb_leading_keys_are_the_partition_keys_named() {
    let keys = |p: &Performed| p.conditions.get("dynamodb:LeadingKeys").cloned();
    let g = br#"{"TableName":"t","Key":{"pk":{"S":"USER#u1"},"sk":{"S":"USER"}}}"#;
    let got = iam_actions("DynamoDB", "GetItem", "", Some(g));
    assert_eq!(keys(&got[0]), Some(serde_json::json!(["USER#u1"])));
    let put = br#"{"TableName":"t","Item":{"pk":{"S":"DATASOURCE"},"sk":{"S":"x"}}}"#;
    let got = iam_actions("DynamoDB", "PutItem", "", Some(put));
    assert_eq!(keys(&got[0]), Some(serde_json::json!(["DATASOURCE"])));
    let q = br#"{"TableName":"t","KeyConditionExpression":"pk = :pk AND begins_with(sk, :s)","ExpressionAttributeValues":{":pk":{"S":"GROUP#g"},":s":{"S":"JOB#"}}}"#;
    let got = iam_actions("DynamoDB", "Query", "", Some(q));
    assert_eq!(keys(&got[0]), Some(serde_json::json!(["GROUP#g"])));
    let gsi = br#"{"TableName":"t","IndexName":"gsi1","KeyConditionExpression":"gsi1pk = :p","ExpressionAttributeValues":{":p":{"S":"USERS"}}}"#;
    let got = iam_actions("DynamoDB", "Query", "", Some(gsi));
    assert_eq!(keys(&got[0]), None, "an index's key is not the table's");
    let batch = br#"{"RequestItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"GROUP#b"}}}},{"PutRequest":{"Item":{"pk":{"S":"GROUP#a"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"GROUP#a"}}}}]}}"#;
    let got = iam_actions("DynamoDB", "BatchWriteItem", "", Some(batch));
    assert_eq!(
        keys(&got[0]),
        Some(serde_json::json!(["GROUP#a", "GROUP#b"]))
    );
    let tx = br#"{"TransactItems":[{"Update":{"TableName":"t","Key":{"pk":{"S":"USER#u"}}}},{"Put":{"TableName":"t","Item":{"pk":{"S":"APIKEY#h"}}}}]}"#;
    let got = iam_actions("DynamoDB", "TransactWriteItems", "", Some(tx));
    assert_eq!(keys(&got[0]), Some(serde_json::json!(["USER#u"])));
    assert_eq!(keys(&got[1]), Some(serde_json::json!(["APIKEY#h"])));
}

#[test]
fn sqs_batches_are_their_single_actions() {
    let b = br#"{"QueueUrl":"http://127.0.0.1:1/123456789012/s-JobsQueue","Entries":[]}"#;
    for (op, action) in [
        ("SendMessageBatch", "sqs:SendMessage"),
        ("DeleteMessageBatch", "sqs:DeleteMessage"),
        (
            "ChangeMessageVisibilityBatch",
            "sqs:ChangeMessageVisibility",
        ),
        ("ReceiveMessage", "sqs:ReceiveMessage"),
    ] {
        assert_eq!(
            one(&iam_actions("SQS", op, "", Some(b))),
            [(action, "http://127.0.0.1:1/123456789012/s-JobsQueue")]
        );
    }
}

#[test]
fn s3_objects_buckets_and_prefixes() {
    let put = "http://127.0.0.1:5000/s-rawpayloadbucket/raw/u/g/j/0001.json.gz?x-id=PutObject";
    assert_eq!(
        one(&iam_actions("S3", "PutObject", put, None)),
        [("s3:PutObject", "s-rawpayloadbucket/raw/u/g/j/0001.json.gz")]
    );
    let part = "http://h:1/b/exports/a%20b.csv?partNumber=2&uploadId=x&x-id=UploadPart";
    assert_eq!(
        one(&iam_actions("S3", "UploadPart", part, None)),
        [("s3:PutObject", "b/exports/a b.csv")]
    );
    let hosted = "https://b.s3.ap-northeast-1.amazonaws.com/exports/x.csv?X-Amz-Signature=1";
    assert_eq!(
        one(&iam_actions("S3", "GetObject", hosted, None)),
        [("s3:GetObject", "b/exports/x.csv")]
    );
    let list = "http://h:1/b?list-type=2&prefix=raw%2Fu%2F";
    let got = iam_actions("S3", "ListObjectsV2", list, None);
    assert_eq!(one(&got), [("s3:ListBucket", "b")]);
    assert_eq!(got[0].conditions["s3:prefix"], "raw/u/");
    let delete = b"<Delete><Object><Key>raw/a&amp;b</Key></Object><Object><Key>raw/c</Key></Object><Quiet>true</Quiet></Delete>";
    assert_eq!(
        one(&iam_actions(
            "S3",
            "DeleteObjects",
            "http://h:1/b?delete",
            Some(delete)
        )),
        [
            ("s3:DeleteObject", "b/raw/a&b"),
            ("s3:DeleteObject", "b/raw/c")
        ]
    );
}

#[test]
fn kms_keys_and_encryption_context() {
    let gen_key = br#"{"KeyId":"alias/s-credentials","KeySpec":"AES_256","EncryptionContext":{"user_id":"u1","purpose":"credentials","data_source_id":"jquants-v2"}}"#;
    let got = iam_actions("KMS", "GenerateDataKey", "", Some(gen_key));
    assert_eq!(one(&got), [("kms:GenerateDataKey", "alias/s-credentials")]);
    assert_eq!(
        got[0].conditions["kms:EncryptionContextKeys"],
        serde_json::json!(["data_source_id", "purpose", "user_id"])
    );
    assert_eq!(
        got[0].conditions["kms:EncryptionContext:purpose"],
        "credentials"
    );

    // moto's ciphertext blob starts with the key id.
    let key = "0b1f3c6e-8f1a-4b7e-9c1d-2a3b4c5d6e7f";
    let mut blob = key.as_bytes().to_vec();
    blob.extend([0u8; 40]);
    let blob = base64::engine::general_purpose::STANDARD.encode(blob);
    let decrypt =
        format!(r#"{{"CiphertextBlob":"{blob}","EncryptionContext":{{"purpose":"id_token"}}}}"#);
    let got = iam_actions("KMS", "Decrypt", "", Some(decrypt.as_bytes()));
    assert_eq!(one(&got), [("kms:Decrypt", key)]);
    let re = format!(
        r#"{{"CiphertextBlob":"{blob}","DestinationKeyId":"alias/a","SourceEncryptionContext":{{"purpose":"credentials"}},"DestinationEncryptionContext":{{"purpose":"credentials"}}}}"#
    );
    let got = iam_actions("KMS", "ReEncrypt", "", Some(re.as_bytes()));
    assert_eq!(
        one(&got),
        [("kms:ReEncryptFrom", key), ("kms:ReEncryptTo", "alias/a")]
    );
    assert!(
        got.iter()
            .all(|p| p.conditions["kms:EncryptionContext:purpose"] == "credentials")
    );
    let opaque = br#"{"CiphertextBlob":"AAAA"}"#;
    assert_eq!(
        one(&iam_actions("KMS", "Decrypt", "", Some(opaque))),
        [("kms:Decrypt", "ciphertext")]
    );
}

#[test]
fn secrets_by_their_id() {
    let b = br#"{"SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:s/AdminBootstrapSecret-AbCdEf","VersionStage":"AWSPREVIOUS"}"#;
    assert_eq!(
        one(&iam_actions(
            "Secrets Manager",
            "GetSecretValue",
            "",
            Some(b)
        )),
        [(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:s/AdminBootstrapSecret-AbCdEf"
        )]
    );
}
