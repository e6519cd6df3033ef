//! A job: one fetch inside a group, with its retry bookkeeping.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{IssueCode, JobGroupId, JobId, TransitionError};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a fetcher.
    Pending,
    /// A fetcher took it (it may have died since: a redelivery starts it again).
    Running,
    /// Rows stored.
    Completed,
    /// Failed for good.
    Failed,
}

impl JobStatus {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    /// Completed or failed.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// What a completed job fetched: a summary, never the rows themselves (those are stored as
/// items of the market-data table, out of the 400 KB item limit's way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseData {
    /// Rows stored.
    pub rows: u64,
    /// Provider pages read.
    pub pages: u32,
    /// Where the raw pages are archived (`s3://bucket/prefix/`, one compressed object per
    /// page), so nothing is cut by DynamoDB's 400 KB item limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    /// The range the job fetched whole, added to its owner's holdings when it ends (not part
    /// of the job's own item).
    #[serde(skip)]
    pub held: Option<super::holding::Held>,
}

impl ResponseData {
    /// Counts without an archive pointer.
    pub fn summary(rows: u64, pages: u32) -> Self {
        Self {
            rows,
            pages,
            archive: None,
            held: None,
        }
    }
}

/// A job (data-model.md "Job").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The group it belongs to.
    pub job_group_id: JobGroupId,
    /// Its position in the group.
    pub id: JobId,
    /// The issue code, when the endpoint takes one.
    pub symbol: Option<IssueCode>,
    /// The trading day, in a group split per trading day (every issue of that day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// Life-cycle status.
    pub status: JobStatus,
    /// First start.
    pub started_at: Option<DateTime<Utc>>,
    /// When it became terminal.
    pub completed_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// What it fetched.
    pub response_data: Option<ResponseData>,
    /// Starts after the first one.
    pub retry_count: u32,
    /// When the last retry started.
    pub last_retry_at: Option<DateTime<Utc>>,
    /// Until when the fetcher that started it holds it. A second delivery of the same job
    /// (SQS delivers at least once, sometimes to two fetchers at a time) waits for the lease
    /// instead of fetching the same pages again; a fetcher that dies simply lets it lapse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<DateTime<Utc>>,
    /// The pages already stored by an attempt that stopped part-way: the next attempt goes on
    /// from there instead of fetching them again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    /// Stopped part-way because the rate limiter said wait, not because anything failed: the
    /// next start is not a retry.
    #[serde(default)]
    pub paused: bool,
    /// Waiting for a limit that frees later than a queue can delay a message (a day quota):
    /// the scheduler sends it again then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked_until: Option<DateTime<Utc>>,
}

/// How far a job got: where to go on, and what is already stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The provider's key of the next page.
    pub next_page: String,
    /// Pages stored so far.
    pub pages: u32,
    /// Rows stored so far.
    pub rows: u64,
}

/// Why a running job gives its lease up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    /// A transient failure: the next start is a retry, from the checkpoint if there is one.
    Failed(Option<Checkpoint>),
    /// The rate limiter (or the provider's 429) deferred the next request: the next start goes
    /// on from the checkpoint, if any pages were stored, and is not a retry.
    Paused(Option<Checkpoint>),
}

/// Why a job cannot be started now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartRefused {
    /// It is completed or failed.
    Terminal,
    /// Another fetcher holds it until then.
    Leased(DateTime<Utc>),
}

impl Job {
    /// A new pending job.
    pub fn new(job_group_id: JobGroupId, id: JobId, symbol: Option<IssueCode>) -> Self {
        Self {
            job_group_id,
            id,
            symbol,
            date: None,
            status: JobStatus::Pending,
            started_at: None,
            completed_at: None,
            error_message: None,
            response_data: None,
            retry_count: 0,
            last_retry_at: None,
            lease_until: None,
            checkpoint: None,
            paused: false,
            parked_until: None,
        }
    }

    /// A new pending job for every issue of one trading day.
    pub fn for_day(job_group_id: JobGroupId, id: JobId, date: NaiveDate) -> Self {
        Self {
            date: Some(date),
            ..Self::new(job_group_id, id, None)
        }
    }

    /// A fetcher takes the job for `lease`. Starting a running job whose lease was released or
    /// has lapsed is a retry: the previous attempt failed transiently or its fetcher died.
    pub fn start(&mut self, now: DateTime<Utc>, lease: TimeDelta) -> Result<(), StartRefused> {
        match self.status {
            JobStatus::Pending => {
                self.status = JobStatus::Running;
                self.started_at = Some(now);
            }
            JobStatus::Running => {
                if let Some(until) = self.lease_until
                    && until > now
                {
                    return Err(StartRefused::Leased(until));
                }
                if !std::mem::take(&mut self.paused) {
                    self.retry_count += 1;
                    self.last_retry_at = Some(now);
                }
            }
            JobStatus::Completed | JobStatus::Failed => return Err(StartRefused::Terminal),
        }
        self.lease_until = Some(now + lease);
        Ok(())
    }

    /// The fetcher gives the job up, so its next delivery starts it at once instead of waiting
    /// for the lease.
    pub fn release(&mut self, why: Release) -> Result<(), TransitionError> {
        if self.status != JobStatus::Running {
            return Err(self.refuse("release", self.status));
        }
        self.lease_until = None;
        (self.checkpoint, self.paused) = match why {
            Release::Failed(checkpoint) => (checkpoint, false),
            Release::Paused(checkpoint) => (checkpoint, true),
        };
        Ok(())
    }

    fn end(&mut self, now: DateTime<Utc>) {
        self.completed_at = Some(now);
        self.lease_until = None;
        self.checkpoint = None;
        self.paused = false;
        self.parked_until = None;
    }

    /// The fetch succeeded and its rows are stored.
    pub fn complete(
        &mut self,
        now: DateTime<Utc>,
        data: ResponseData,
    ) -> Result<(), TransitionError> {
        if self.status != JobStatus::Running {
            return Err(self.refuse("complete", self.status));
        }
        self.status = JobStatus::Completed;
        self.end(now);
        self.response_data = Some(data);
        self.error_message = None;
        Ok(())
    }

    /// The job failed for good (permanent error, or attempts exhausted).
    pub fn fail(&mut self, now: DateTime<Utc>, message: String) -> Result<(), TransitionError> {
        if self.status.is_terminal() {
            return Err(self.refuse("fail", self.status));
        }
        self.status = JobStatus::Failed;
        self.end(now);
        self.error_message = Some(message);
        Ok(())
    }

    /// A failed job is queued again by a retry of its group.
    pub fn reset_for_retry(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if self.status != JobStatus::Failed {
            return Err(self.refuse("retry", self.status));
        }
        self.status = JobStatus::Pending;
        self.completed_at = None;
        self.error_message = None;
        self.response_data = None;
        self.retry_count += 1;
        self.last_retry_at = Some(now);
        Ok(())
    }

    fn refuse(&self, action: &'static str, from: JobStatus) -> TransitionError {
        TransitionError {
            entity: "job",
            action,
            from: from.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: TimeDelta = TimeDelta::seconds(90);

    fn job() -> Job {
        Job::new(
            JobGroupId::new(),
            JobId::new(0),
            Some(IssueCode::parse("7203").unwrap()),
        )
    }

    #[test]
    fn happy_path_runs_then_completes() {
        let mut j = job();
        let now = Utc::now();
        j.start(now, LEASE).unwrap();
        assert_eq!(
            (j.status, j.started_at, j.retry_count),
            (JobStatus::Running, Some(now), 0)
        );
        j.complete(now, ResponseData::summary(3, 1)).unwrap();
        assert_eq!(j.status, JobStatus::Completed);
        assert_eq!(j.response_data.as_ref().map(|d| d.rows), Some(3));
    }

    #[test]
    fn a_start_after_the_lease_lapsed_is_a_retry() {
        let mut j = job();
        let t0 = Utc::now();
        let t1 = t0 + LEASE + TimeDelta::seconds(1);
        j.start(t0, LEASE).unwrap();
        j.start(t1, LEASE).unwrap();
        assert_eq!(
            (j.started_at, j.retry_count, j.last_retry_at, j.lease_until),
            (Some(t0), 1, Some(t1), Some(t1 + LEASE))
        );
    }

    #[test]
    fn a_held_lease_refuses_a_second_fetcher_until_released() {
        let mut j = job();
        let t0 = Utc::now();
        j.start(t0, LEASE).unwrap();
        let t1 = t0 + TimeDelta::seconds(2);
        assert_eq!(j.start(t1, LEASE), Err(StartRefused::Leased(t0 + LEASE)));
        assert_eq!(j.retry_count, 0, "a refused start is not a retry");
        j.release(Release::Failed(None)).unwrap();
        j.start(t1, LEASE).unwrap();
        assert_eq!((j.retry_count, j.lease_until), (1, Some(t1 + LEASE)));
        j.complete(t1, ResponseData::summary(1, 1)).unwrap();
        assert_eq!(j.lease_until, None);
        assert!(
            j.release(Release::Failed(None)).is_err(),
            "only a running job is released"
        );
    }

    #[test]
    fn a_paused_job_goes_on_from_its_checkpoint_without_counting_a_retry() {
        let mut j = job();
        let t0 = Utc::now();
        j.start(t0, LEASE).unwrap();
        let cp = Checkpoint {
            next_page: "k2".into(),
            pages: 2,
            rows: 40,
        };
        j.release(Release::Paused(Some(cp.clone()))).unwrap();
        j.start(t0, LEASE).unwrap();
        assert_eq!(
            (j.retry_count, j.paused, j.checkpoint.clone()),
            (0, false, Some(cp))
        );
        j.release(Release::Failed(None)).unwrap();
        j.start(t0, LEASE).unwrap();
        assert_eq!((j.retry_count, j.checkpoint.clone()), (1, None));
        j.complete(t0, ResponseData::summary(60, 3)).unwrap();
        assert_eq!((j.checkpoint.clone(), j.paused), (None, false));
    }

    #[test]
    fn terminal_jobs_stay_terminal() {
        let mut j = job();
        j.start(Utc::now(), LEASE).unwrap();
        j.fail(Utc::now(), "403".into()).unwrap();
        assert_eq!(j.start(Utc::now(), LEASE), Err(StartRefused::Terminal));
        assert!(j.complete(Utc::now(), ResponseData::summary(0, 0)).is_err());
        assert!(j.fail(Utc::now(), "again".into()).is_err());
    }

    #[test]
    fn only_a_failed_job_is_reset_for_retry() {
        let mut j = job();
        assert!(j.reset_for_retry(Utc::now()).is_err());
        j.fail(Utc::now(), "500".into()).unwrap();
        let t = Utc::now();
        j.reset_for_retry(t).unwrap();
        assert_eq!(
            (
                j.status,
                j.error_message.clone(),
                j.retry_count,
                j.last_retry_at
            ),
            (JobStatus::Pending, None, 1, Some(t))
        );
    }

    #[test]
    fn only_a_running_job_completes() {
        let mut j = job();
        assert!(j.complete(Utc::now(), ResponseData::summary(0, 0)).is_err());
        assert!(
            j.fail(Utc::now(), "bad request".into()).is_ok(),
            "a pending job can fail"
        );
    }
}
