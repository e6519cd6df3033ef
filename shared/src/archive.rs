//! The raw payload archive: every page a provider returned, exactly as received, compressed,
//! one object per page under the job's prefix (`raw/<user>/<group>/<job>/<page>.json.gz`).
//! A page is archived as it arrives, so memory holds one page, a paused or resumed job keeps
//! the pages it already has, and results can be rebuilt from what was fetched.

use std::io::{Read, Write};

use async_trait::async_trait;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::domain::{JobGroupId, JobId, UserId};

/// The archive failed: retry later.
#[derive(Debug, thiserror::Error)]
#[error("raw payload archive unavailable")]
pub struct ArchiveError(#[source] pub anyhow::Error);

/// Where one job's pages live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPrefix(String);

impl JobPrefix {
    /// The prefix of `job`'s pages.
    pub fn new(user: UserId, group: JobGroupId, job: JobId) -> Self {
        Self(format!("raw/{user}/{group}/{:08}/", job.index()))
    }

    /// The key of page `index` (0-based).
    pub fn page(&self, index: u32) -> String {
        format!("{}{index:05}.json.gz", self.0)
    }

    /// The prefix text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Compressed page storage.
#[async_trait]
pub trait RawArchive: Send + Sync + std::fmt::Debug {
    /// Stores `body` (compressed) under `key`; returns the archive's URI of the prefix's
    /// container (`s3://bucket/`).
    async fn put(&self, key: &str, body: &[u8]) -> Result<(), ArchiveError>;
    /// The page under `key`, decompressed; `None` when absent.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ArchiveError>;
    /// `s3://bucket/` + `prefix`, as a job's `response_data` points to it.
    fn uri(&self, prefix: &JobPrefix) -> String;
    /// Deletes every object whose key starts with `prefix` (any prefix of the bucket: a
    /// job's pages, a user's archive, a user's exports); how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, ArchiveError>;
}

/// Gzip at the default level: about a tenth of the JSON's size for market data.
pub fn compress(body: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::with_capacity(body.len() / 8), Compression::default());
    gz.write_all(body).expect("writing to memory");
    gz.finish().expect("writing to memory")
}

/// Reverses [`compress`].
pub fn decompress(gz: &[u8]) -> Result<Vec<u8>, ArchiveError> {
    let mut out = Vec::with_capacity(gz.len() * 8);
    GzDecoder::new(gz)
        .read_to_end(&mut out)
        .map_err(|e| ArchiveError(e.into()))?;
    Ok(out)
}

/// The archive in an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Archive {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Archive {
    /// An archive in `bucket`.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str) -> Self {
        Self {
            client,
            bucket: bucket.to_owned(),
        }
    }
}

#[async_trait]
impl RawArchive for S3Archive {
    async fn put(&self, key: &str, body: &[u8]) -> Result<(), ArchiveError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .content_encoding("gzip")
            .body(compress(body).into())
            .send()
            .await
            .map_err(|e| ArchiveError(e.into()))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ArchiveError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Ok(None);
            }
            Err(e) => return Err(ArchiveError(e.into())),
        };
        let gz = out
            .body
            .collect()
            .await
            .map_err(|e| ArchiveError(e.into()))?
            .into_bytes();
        decompress(&gz).map(Some)
    }

    fn uri(&self, prefix: &JobPrefix) -> String {
        format!("s3://{}/{}", self.bucket, prefix.as_str())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, ArchiveError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        let mut deleted = 0;
        loop {
            // Listed afresh after each deletion: at most a thousand keys a round.
            let listed = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .send()
                .await
                .map_err(|e| ArchiveError(e.into()))?;
            let keys: Vec<ObjectIdentifier> = listed
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .filter_map(|k| ObjectIdentifier::builder().key(k).build().ok())
                .collect();
            if keys.is_empty() {
                return Ok(deleted);
            }
            let n = keys.len() as u64;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(
                    Delete::builder()
                        .set_objects(Some(keys))
                        .quiet(true)
                        .build()
                        .map_err(|e| ArchiveError(e.into()))?,
                )
                .send()
                .await
                .map_err(|e| ArchiveError(e.into()))?;
            if let Some(e) = out.errors().first() {
                return Err(ArchiveError(anyhow::anyhow!(
                    "could not delete {}: {}",
                    e.key().unwrap_or_default(),
                    e.message().unwrap_or_default()
                )));
            }
            deleted += n;
        }
    }
}

/// The archive in memory (compressed like the real one).
#[cfg(feature = "test-util")]
#[derive(Debug, Default)]
pub struct MemoryArchive(pub std::sync::Mutex<std::collections::BTreeMap<String, Vec<u8>>>);

#[cfg(feature = "test-util")]
#[async_trait]
impl RawArchive for MemoryArchive {
    async fn put(&self, key: &str, body: &[u8]) -> Result<(), ArchiveError> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key.to_owned(), compress(body));
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ArchiveError> {
        let gz = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned();
        gz.map(|g| decompress(&g)).transpose()
    }

    fn uri(&self, prefix: &JobPrefix) -> String {
        format!("memory://{}", prefix.as_str())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, ArchiveError> {
        let mut all = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = all.len();
        all.retain(|k, _| !k.starts_with(prefix));
        Ok((before - all.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_trip_compressed_and_keys_sort_in_page_order() {
        let body = br#"{"data":[{"Code":"72030","Date":"2026-01-05","O":1.0}]}"#.repeat(50);
        let gz = compress(&body);
        assert!(gz.len() * 5 < body.len(), "{} of {}", gz.len(), body.len());
        assert_eq!(decompress(&gz).unwrap(), body);
        let p = JobPrefix::new(UserId::new(), JobGroupId::new(), JobId::new(7));
        assert!(p.page(9) < p.page(10));
        assert!(p.page(0).starts_with(p.as_str()) && p.as_str().ends_with("/00000007/"));
    }
}
