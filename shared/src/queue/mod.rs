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

/// The body of a fan-out message: write the jobs of a group and enqueue them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FanOutMessage {
    /// The group.
    pub job_group_id: JobGroupId,
    /// Always `true`: tells the message apart from a [`JobMessage`].
    pub fan_out: bool,
}

/// Any message of the job queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum QueueMessage {
    /// Run a job.
    Job(JobMessage),
    /// Fan a group out.
    FanOut(FanOutMessage),
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

/// The longest delay SQS gives a message (15 minutes).
pub const MAX_DELAY: std::time::Duration = std::time::Duration::from_secs(900);

/// Enqueues job messages.
#[async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug {
    /// Sends every message; on error some may have been sent (consumers tolerate duplicates).
    async fn enqueue(&self, messages: &[JobMessage]) -> Result<(), QueueError>;
    /// Sends a fan-out message for `group`.
    async fn start_fan_out(&self, group: JobGroupId) -> Result<(), QueueError>;
    /// Sends copies of messages that become visible after their delays (each at most
    /// [`MAX_DELAY`]). Deferring by a copy rather than by the original's visibility keeps a
    /// deferral from counting as a receive toward the dead-letter queue.
    async fn enqueue_delayed(
        &self,
        messages: &[(JobMessage, std::time::Duration)],
    ) -> Result<(), QueueError>;
    /// Moves up to `max` messages from the dead-letter queue back; returns how many moved.
    async fn redrive(&self, max: usize) -> Result<usize, QueueError>;
}

/// An in-memory queue for tests.
#[cfg(feature = "test-util")]
#[derive(Debug, Default)]
pub struct MemoryJobQueue(
    /// Job messages sent.
    pub std::sync::Mutex<Vec<JobMessage>>,
    /// Fan-out messages sent.
    pub std::sync::Mutex<Vec<JobGroupId>>,
    /// Delayed copies sent, with their delays.
    pub std::sync::Mutex<Vec<(JobMessage, std::time::Duration)>>,
);

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

    async fn start_fan_out(&self, group: JobGroupId) -> Result<(), QueueError> {
        self.1.lock().unwrap_or_else(|e| e.into_inner()).push(group);
        Ok(())
    }

    async fn enqueue_delayed(
        &self,
        messages: &[(JobMessage, std::time::Duration)],
    ) -> Result<(), QueueError> {
        self.2
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(messages.iter().map(|(m, d)| (*m, (*d).min(MAX_DELAY))));
        Ok(())
    }

    async fn redrive(&self, _max: usize) -> Result<usize, QueueError> {
        // The fake has no dead-letter queue: nothing to move.
        Ok(0)
    }
}
