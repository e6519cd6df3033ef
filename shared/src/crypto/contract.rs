//! The contract suite of the key service: data keys generated, decrypted and re-wrapped under
//! their encryption context, refused under another.

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{self, CryptoError, EncryptionContext, KeyService};
use crate::domain::Envelope;
use crate::domain::{DataSourceId, UserId};

/// Envelopes open only under the context they were sealed with, and re-wrapped data keys
/// still open them.
pub async fn key_service(keys: &dyn KeyService) {
    let ctx = |user| EncryptionContext {
        user_id: user,
        data_source_id: DataSourceId::parse("jquants-v2").unwrap(),
        purpose: "credentials",
    };
    let (a, b) = (ctx(UserId::new()), ctx(UserId::new()));
    let secret = SecretString::from(r#"{"api_key":"sentinel-Zq9"}"#);
    let env = crypto::seal(keys, &secret, &a).await.unwrap();
    assert!(!String::from_utf8_lossy(&env.ciphertext).contains("sentinel-Zq9"));
    assert_eq!(env.key_arn, keys.current_key_arn().await.unwrap());
    assert_eq!(
        crypto::open(keys, &env, &a).await.unwrap().expose_secret(),
        secret.expose_secret()
    );
    assert!(
        matches!(
            crypto::open(keys, &env, &b).await,
            Err(CryptoError::Invalid)
        ),
        "moved to another user"
    );
    let other_purpose = EncryptionContext {
        purpose: "id_token",
        ..a.clone()
    };
    assert!(matches!(
        crypto::open(keys, &env, &other_purpose).await,
        Err(CryptoError::Invalid)
    ));
    let mut tampered = env.clone();
    tampered.ciphertext[0] ^= 1;
    assert!(matches!(
        crypto::open(keys, &tampered, &a).await,
        Err(CryptoError::Invalid)
    ));
    let (edk, arn) = keys.re_encrypt(&env.encrypted_data_key, &a).await.unwrap();
    let rewrapped = Envelope {
        encrypted_data_key: edk,
        key_arn: arn,
        ..env.clone()
    };
    assert_eq!(
        crypto::open(keys, &rewrapped, &a)
            .await
            .unwrap()
            .expose_secret(),
        secret.expose_secret()
    );
    assert!(
        keys.re_encrypt(&env.encrypted_data_key, &b).await.is_err(),
        "re-wrap checks the context"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::LocalKeys;

    #[tokio::test]
    async fn the_local_fake_keeps_the_contract() {
        key_service(&LocalKeys::default()).await;
    }
}
