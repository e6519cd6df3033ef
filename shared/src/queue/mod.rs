//! The job queue: one message per job, carrying ids only (never a secret or a row).

mod control;
mod sqs;

#[cfg(feature = "test-util")]
pub use control::RecordingControl;
pub use control::{MAX_VISIBILITY, MessageControl, SqsMessageControl, redrive};
pub use sqs::SqsJobQueue;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::{JobGroupId, JobId};

/// The body of a job message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobMessage {
    /// The group.
    pub job_group_id: JobGroupId,
    /// The job in it.
    pub job_id: JobId,
}

/// Messages could not be enqueued.
#[derive(Debug, thiserror::Error)]
#[error("could not enqueue {failed} of {total} job messages")]
pub struct QueueError {
    /// Messages not accepted.
    pub failed: usize,
    /// Messages attempted.
    pub total: usize,
    /// The cause.
    #[source]
    pub source: anyhow::Error,
}

/// Enqueues job messages.
#[async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug {
    /// Sends every message; on error some may have been sent (consumers tolerate duplicates).
    async fn enqueue(&self, messages: &[JobMessage]) -> Result<(), QueueError>;
    /// Moves up to `max` messages from the dead-letter queue back; returns how many moved.
    async fn redrive(&self, max: usize) -> Result<usize, QueueError>;
}

/// An in-memory queue for tests.
#[cfg(feature = "test-util")]
#[derive(Debug, Default)]
pub struct MemoryJobQueue(pub std::sync::Mutex<Vec<JobMessage>>);

#[cfg(feature = "test-util")]
impl MemoryJobQueue {
    /// Takes every queued message.
    pub fn drain(&self) -> Vec<JobMessage> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(feature = "test-util")]
#[async_trait]
impl JobQueue for MemoryJobQueue {
    async fn enqueue(&self, messages: &[JobMessage]) -> Result<(), QueueError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(messages);
        Ok(())
    }

    async fn redrive(&self, _max: usize) -> Result<usize, QueueError> {
        // The fake has no dead-letter queue: nothing to move.
        Ok(0)
    }
}
