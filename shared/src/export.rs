//! Exports of any size leave through object storage, not through the API's answer: a Lambda
//! behind API Gateway can answer at most 6 MB (and HTTP APIs cannot stream), while a group's
//! rows run to tens of MB. The API writes the export as one object, part by part (S3 multipart
//! upload: parts of 8 MiB, so memory holds one part), and answers with a short-lived presigned
//! link to it. An export that fails halfway is aborted and no link is given: a user never gets
//! a short file that looks whole.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use chrono::{DateTime, Utc};

use crate::archive::ArchiveError;

/// Size of each part but the last (S3 asks at least 5 MiB).
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// How long a link stays valid.
pub const LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// A finished export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportLink {
    /// Where to `GET` it, without credentials.
    pub url: String,
    /// Until when the link works.
    pub expires_at: DateTime<Utc>,
    /// Its size.
    pub bytes: u64,
}

/// An export being written: bytes buffered up to a part, the parts sent so far.
#[derive(Debug)]
pub struct Upload {
    key: String,
    content_type: &'static str,
    buffer: Vec<u8>,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
    bytes: u64,
}

impl Upload {
    /// An upload to `key`.
    pub fn new(key: String, content_type: &'static str) -> Self {
        Self {
            key,
            content_type,
            buffer: Vec::new(),
            upload_id: None,
            parts: Vec::new(),
            bytes: 0,
        }
    }
}

/// Where exports are written.
#[async_trait]
pub trait ExportStore: Send + Sync + std::fmt::Debug {
    /// Appends `bytes`, sending a part whenever a whole one is buffered.
    async fn write(&self, upload: &mut Upload, bytes: &[u8]) -> Result<(), ArchiveError>;
    /// Sends what is buffered and makes the object; its link.
    async fn finish(&self, upload: Upload, now: DateTime<Utc>) -> Result<ExportLink, ArchiveError>;
    /// Gives an unfinished upload up (its parts are deleted). Best effort.
    async fn abort(&self, upload: Upload);
}

/// Exports in an S3 bucket (under `exports/`), linked by presigned `GET` URLs.
#[derive(Debug, Clone)]
pub struct S3Exports {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Exports {
    /// Exports in `bucket`.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str) -> Self {
        Self {
            client,
            bucket: bucket.to_owned(),
        }
    }

    async fn send_part(&self, upload: &mut Upload) -> Result<(), ArchiveError> {
        let id = match &upload.upload_id {
            Some(id) => id.clone(),
            None => {
                let out = self
                    .client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&upload.key)
                    .content_type(upload.content_type)
                    .send()
                    .await
                    .map_err(|e| ArchiveError(e.into()))?;
                let id = out
                    .upload_id
                    .ok_or_else(|| ArchiveError(anyhow::anyhow!("no upload id")))?;
                upload.upload_id = Some(id.clone());
                id
            }
        };
        let number = upload.parts.len() as i32 + 1;
        let body = std::mem::take(&mut upload.buffer);
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&upload.key)
            .upload_id(id)
            .part_number(number)
            .body(body.into())
            .send()
            .await
            .map_err(|e| ArchiveError(e.into()))?;
        upload.parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag)
                .build(),
        );
        Ok(())
    }
}

#[async_trait]
impl ExportStore for S3Exports {
    async fn write(&self, upload: &mut Upload, bytes: &[u8]) -> Result<(), ArchiveError> {
        upload.buffer.extend_from_slice(bytes);
        upload.bytes += bytes.len() as u64;
        if upload.buffer.len() >= PART_BYTES {
            self.send_part(upload).await?;
        }
        Ok(())
    }

    async fn finish(
        &self,
        mut upload: Upload,
        now: DateTime<Utc>,
    ) -> Result<ExportLink, ArchiveError> {
        if upload.upload_id.is_none() {
            // Small enough for one request.
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&upload.key)
                .content_type(upload.content_type)
                .body(std::mem::take(&mut upload.buffer).into())
                .send()
                .await
                .map_err(|e| ArchiveError(e.into()))?;
        } else {
            if !upload.buffer.is_empty() {
                self.send_part(&mut upload).await?;
            }
            self.client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(&upload.key)
                .set_upload_id(upload.upload_id.clone())
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(std::mem::take(&mut upload.parts)))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| ArchiveError(e.into()))?;
        }
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&upload.key)
            .presigned(
                PresigningConfig::builder()
                    .start_time(now.into())
                    .expires_in(LINK_TTL)
                    .build()
                    .map_err(|e| ArchiveError(e.into()))?,
            )
            .await
            .map_err(|e| ArchiveError(e.into()))?;
        Ok(ExportLink {
            url: presigned.uri().to_owned(),
            expires_at: now + chrono::TimeDelta::from_std(LINK_TTL).unwrap_or_default(),
            bytes: upload.bytes,
        })
    }

    async fn abort(&self, upload: Upload) {
        if let Some(id) = upload.upload_id
            && let Err(e) = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&upload.key)
                .upload_id(id)
                .send()
                .await
        {
            tracing::warn!(error = %e, "could not abort an export's upload; the bucket's lifecycle rule removes it");
        }
    }
}
