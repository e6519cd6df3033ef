//! The IAM actions of a KMS request: the key named (or the one a ciphertext names) and the
//! encryption context as condition keys.

use base64::Engine as _;
use serde_json::Value;

use super::Performed;

pub(super) fn actions(op: &str, body: &Value) -> Vec<Performed> {
    // A ciphertext names its key only to KMS. The emulator's (moto's) blobs start with the
    // key id, which is what KMS authorizes a Decrypt or ReEncrypt against.
    let key_of_ciphertext = || -> String {
        body["CiphertextBlob"]
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| {
                let head = std::str::from_utf8(b.get(..36)?).ok()?;
                uuid::Uuid::parse_str(head).ok().map(|_| head.to_owned())
            })
            .unwrap_or_else(|| "ciphertext".to_owned())
    };
    let with_context = |mut p: Performed, ctx: &Value| -> Performed {
        if let Some(ctx) = ctx.as_object() {
            let mut keys: Vec<&String> = ctx.keys().collect();
            keys.sort();
            p.conditions
                .insert("kms:EncryptionContextKeys".into(), serde_json::json!(keys));
            for (k, v) in ctx {
                p.conditions
                    .insert(format!("kms:EncryptionContext:{k}"), v.clone());
            }
        }
        p
    };
    let key = |field: &str| body[field].as_str().map(str::to_owned);
    match op {
        "ReEncrypt" => vec![
            with_context(
                Performed::new(
                    "kms:ReEncryptFrom",
                    key("SourceKeyId").unwrap_or_else(key_of_ciphertext),
                ),
                &body["SourceEncryptionContext"],
            ),
            with_context(
                Performed::new(
                    "kms:ReEncryptTo",
                    key("DestinationKeyId").unwrap_or_else(|| "*".into()),
                ),
                &body["DestinationEncryptionContext"],
            ),
        ],
        "Decrypt" => vec![with_context(
            Performed::new(
                "kms:Decrypt",
                key("KeyId").unwrap_or_else(key_of_ciphertext),
            ),
            &body["EncryptionContext"],
        )],
        _ => vec![with_context(
            Performed::new(
                format!("kms:{op}"),
                key("KeyId").unwrap_or_else(|| "*".into()),
            ),
            &body["EncryptionContext"],
        )],
    }
}
