//! Why an attempt did not complete a job, classified once: a permanent failure fails the job,
//! a transient one spends one of its attempts, and a failure of our own storage (tables, raw
//! archive, the vault's reads) sends the message back without judging the job. Provider,
//! storage, archive and vault errors all become one [`Failure`] here, so no caller classifies
//! them a second way.

use shared::archive::ArchiveError;
use shared::crypto::CryptoError;
use shared::provider::{Disposition, ProviderError};
use shared::store::StoreError;
use shared::vault::VaultError;

/// Why an attempt did not complete the job.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Fails the job for good.
    Permanent(String),
    /// Worth another attempt; fails the job once attempts run out.
    Transient {
        message: String,
        once: bool,
        retry_after: Option<std::time::Duration>,
    },
    /// Our own storage failed: deliver again without judging the job.
    Infrastructure(StoreError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Permanent(message) | Failure::Transient { message, .. } => {
                f.write_str(message)
            }
            Failure::Infrastructure(e) => e.fmt(f),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Infrastructure(e)
    }
}

/// The raw archive is our storage as much as the tables are: when S3 fails, the job is not
/// judged (no attempt spent), its message comes back.
impl From<ArchiveError> for Failure {
    fn from(e: ArchiveError) -> Self {
        Failure::Infrastructure(StoreError::Unavailable(e.0))
    }
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Self {
        let message = e.to_string();
        match e.disposition() {
            Disposition::Fail => Failure::Permanent(message),
            Disposition::Retry => Failure::Transient {
                message,
                once: false,
                retry_after: None,
            },
            Disposition::RetryAfter(d) => Failure::Transient {
                message,
                once: false,
                retry_after: Some(d),
            },
            Disposition::RetryOnce => Failure::Transient {
                message,
                once: true,
                retry_after: None,
            },
        }
    }
}

/// What a vault failure means for the job.
impl From<VaultError> for Failure {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::Store(e) => Failure::Infrastructure(e),
            VaultError::Crypto(CryptoError::Unavailable(e)) => Failure::Transient {
                message: format!("key service: {e}"),
                once: false,
                retry_after: None,
            },
            VaultError::Crypto(e) => Failure::Permanent(format!(
                "stored credential cannot be opened ({e}): store it again"
            )),
            VaultError::Malformed => {
                Failure::Permanent("stored credential is malformed: store it again".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_answer_fails_the_job_with_its_message() {
        for e in [
            ProviderError::Redirected {
                status: 302,
                location: "`http://evil.example/steal`".into(),
            },
            ProviderError::InsecureUrl("`http://api.example` must use https".into()),
            ProviderError::BodyTooLarge { cap: 32 << 20 },
            ProviderError::RepeatedPageKey("k".into()),
        ] {
            let message = e.to_string();
            match Failure::from(e) {
                Failure::Permanent(m) => assert_eq!(m, message),
                other => panic!("{message}: {other:?}"),
            }
        }
    }
}
