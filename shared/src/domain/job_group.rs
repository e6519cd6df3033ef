//! A job group: one request for one endpoint over many symbols, and its exact progress.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DataSourceId, JobGroupId, TransitionError, UserId};

/// Where a group is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobGroupStatus {
    /// Created; no job has started.
    Pending,
    /// At least one job started; not every job is terminal.
    Running,
    /// Every job completed.
    Completed,
    /// Every job is terminal and at least one failed (see [`JobGroup::finish`]).
    Failed,
}

impl JobGroupStatus {
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

    /// Completed or failed: nothing will change any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// How a group's request is split into jobs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// One job per symbol, each over the whole date range.
    #[default]
    PerSymbol,
    /// One job per trading day of the range, each for every issue at once (one request a day
    /// instead of one per issue, as J-Quants advises); the days are planned from the trading
    /// calendar when the group fans out.
    PerTradingDay,
    /// One job per issue listed on the range's last day, read from the equities master when
    /// the group fans out ("all listed issues").
    PerListedIssue,
}

impl Split {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerSymbol => "per-symbol",
            Self::PerTradingDay => "per-trading-day",
            Self::PerListedIssue => "per-listed-issue",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "per-symbol" => Some(Self::PerSymbol),
            "per-trading-day" => Some(Self::PerTradingDay),
            "per-listed-issue" => Some(Self::PerListedIssue),
            _ => None,
        }
    }
}

/// A job group (data-model.md "JobGroup").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobGroup {
    /// The group's id.
    pub id: JobGroupId,
    /// Owner.
    pub user_id: UserId,
    /// Which provider.
    pub data_source_id: DataSourceId,
    /// Which endpoint of the catalog (stored as its id, `endpoint_id`).
    #[serde(rename = "endpoint_id")]
    pub endpoint: super::EndpointRef,
    /// The endpoint parameters shared by every job (canonical text, validated by the catalog).
    pub params: BTreeMap<String, String>,
    /// Life-cycle status.
    pub status: JobGroupStatus,
    /// When the group was accepted.
    pub created_at: DateTime<Utc>,
    /// When its first job started.
    pub started_at: Option<DateTime<Utc>>,
    /// When its last job became terminal.
    pub completed_at: Option<DateTime<Utc>>,
    /// Why it failed, when it did.
    pub error_message: Option<String>,
    /// Jobs in the group.
    pub total_jobs: u32,
    /// Jobs that completed.
    pub completed_jobs: u32,
    /// Jobs that failed for good (jobs skipped by a cancel count here too).
    pub failed_jobs: u32,
    /// When the owner asked to cancel: jobs that have not started are skipped.
    pub cancel_requested_at: Option<DateTime<Utc>>,
    /// How the request is split into jobs.
    #[serde(default)]
    pub split: Split,
}

impl JobGroup {
    /// The span of days the group asks for (`date`, or `from` and `to`), if it names one.
    pub fn range(&self) -> Option<super::DateRange> {
        super::DateRange::from_params(|k| self.params.get(k).map(String::as_str))
    }

    /// Jobs that are neither completed nor failed.
    pub fn remaining_jobs(&self) -> u32 {
        self.total_jobs - self.completed_jobs - self.failed_jobs
    }

    /// Marks the group running when its first job starts. Idempotent while running.
    pub fn start(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        match self.status {
            JobGroupStatus::Pending => {
                self.status = JobGroupStatus::Running;
                self.started_at = Some(now);
                Ok(())
            }
            JobGroupStatus::Running => Ok(()),
            other => Err(self.refuse("start", other)),
        }
    }

    /// Counts one job that became terminal. Refused when it would count past `total_jobs`.
    pub fn count_terminal_job(&mut self, completed: bool) -> Result<(), TransitionError> {
        if self.status.is_terminal() || self.remaining_jobs() == 0 {
            return Err(self.refuse("count a job of", self.status));
        }
        if completed {
            self.completed_jobs += 1;
        } else {
            self.failed_jobs += 1;
        }
        Ok(())
    }

    /// Ends the group once every job is terminal: `completed` when no job failed, otherwise
    /// `failed` with a message that says how many failed (the counters stay exact either way,
    /// so a caller can retry just the failed jobs). Returns whether this call ended it.
    pub fn finish(&mut self, now: DateTime<Utc>, first_error: Option<&str>) -> bool {
        if self.status.is_terminal() || self.remaining_jobs() > 0 {
            return false;
        }
        if self.failed_jobs == 0 {
            self.status = JobGroupStatus::Completed;
        } else {
            self.status = JobGroupStatus::Failed;
            let mut msg = format!("{} of {} jobs failed", self.failed_jobs, self.total_jobs);
            if self.cancel_requested_at.is_some() {
                msg = format!("cancelled by the user; {msg} or were skipped");
            }
            if let Some(e) = first_error {
                msg.push_str("; first error: ");
                msg.push_str(e);
            }
            self.error_message = Some(msg);
        }
        self.started_at.get_or_insert(now);
        self.completed_at = Some(now);
        true
    }

    /// Records a cancel request. Jobs that have not started will be skipped (counted as
    /// failed with the error "cancelled"); running jobs finish. Idempotent; refused once the
    /// group ended.
    pub fn request_cancel(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if self.status.is_terminal() {
            return Err(self.refuse("cancel", self.status));
        }
        self.cancel_requested_at.get_or_insert(now);
        Ok(())
    }

    /// Reopens the group to run `jobs` of its failed jobs again: they leave `failed_jobs`, the
    /// group runs again and its end, error and cancel request are cleared. Allowed while
    /// failed, or running (a retry that was interrupted and is repeated).
    pub fn reopen_for_retry(&mut self, jobs: u32) -> Result<(), TransitionError> {
        if !matches!(
            self.status,
            JobGroupStatus::Failed | JobGroupStatus::Running
        ) || jobs > self.failed_jobs
        {
            return Err(self.refuse("retry", self.status));
        }
        self.failed_jobs -= jobs;
        self.status = JobGroupStatus::Running;
        self.completed_at = None;
        self.error_message = None;
        self.cancel_requested_at = None;
        Ok(())
    }

    fn refuse(&self, action: &'static str, from: JobGroupStatus) -> TransitionError {
        TransitionError {
            entity: "job group",
            action,
            from: from.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(total: u32) -> JobGroup {
        JobGroup {
            id: JobGroupId::new(),
            user_id: UserId::new(),
            data_source_id: DataSourceId::parse("jquants-v2").unwrap(),
            endpoint: "eq-bars-daily".parse().unwrap(),
            params: BTreeMap::new(),
            status: JobGroupStatus::Pending,
            created_at: Utc::now(),
            started_at: None,
            completed_at: None,
            error_message: None,
            total_jobs: total,
            completed_jobs: 0,
            failed_jobs: 0,
            cancel_requested_at: None,
            split: Split::PerSymbol,
        }
    }

    #[test]
    fn a_cancelled_group_says_so_and_a_retry_reopens_it() {
        let mut g = group(3);
        let now = Utc::now();
        g.start(now).unwrap();
        g.request_cancel(now).unwrap();
        g.request_cancel(now + chrono::Duration::seconds(1))
            .unwrap();
        assert_eq!(g.cancel_requested_at, Some(now), "idempotent");
        g.count_terminal_job(true).unwrap();
        g.count_terminal_job(false).unwrap();
        g.count_terminal_job(false).unwrap();
        assert!(g.finish(now, Some("cancelled")));
        assert!(
            g.error_message
                .as_deref()
                .unwrap()
                .starts_with("cancelled by the user; 2 of 3")
        );
        assert!(
            g.request_cancel(now).is_err(),
            "an ended group cannot be cancelled"
        );
        g.reopen_for_retry(2).unwrap();
        assert_eq!(
            (
                g.status,
                g.failed_jobs,
                g.completed_at,
                g.cancel_requested_at
            ),
            (JobGroupStatus::Running, 0, None, None)
        );
        assert!(g.reopen_for_retry(1).is_err(), "never below zero");
        let mut done = group(0);
        assert!(done.finish(now, None));
        assert!(
            done.reopen_for_retry(0).is_err(),
            "a completed group has nothing to retry"
        );
    }

    #[test]
    fn a_group_completes_when_every_job_completed() {
        let mut g = group(2);
        let now = Utc::now();
        g.start(now).unwrap();
        g.count_terminal_job(true).unwrap();
        assert!(!g.finish(now, None), "one job is still open");
        g.count_terminal_job(true).unwrap();
        assert!(g.finish(now, None));
        assert_eq!(g.status, JobGroupStatus::Completed);
        assert_eq!(g.completed_at, Some(now));
        assert!(!g.finish(now, None), "a group ends only once");
    }

    #[test]
    fn any_failed_job_fails_the_group_with_counts() {
        let mut g = group(3);
        g.start(Utc::now()).unwrap();
        g.count_terminal_job(true).unwrap();
        g.count_terminal_job(false).unwrap();
        g.count_terminal_job(true).unwrap();
        assert!(g.finish(Utc::now(), Some("403: plan")));
        assert_eq!(g.status, JobGroupStatus::Failed);
        assert_eq!(
            g.error_message.as_deref(),
            Some("1 of 3 jobs failed; first error: 403: plan")
        );
    }

    #[test]
    fn counters_never_pass_the_total() {
        let mut g = group(1);
        g.start(Utc::now()).unwrap();
        g.count_terminal_job(true).unwrap();
        assert!(g.count_terminal_job(true).is_err());
        assert_eq!(g.completed_jobs + g.failed_jobs, g.total_jobs);
    }

    #[test]
    fn the_endpoint_keeps_its_text_form() {
        let g = group(1);
        let json = serde_json::to_value(&g).unwrap();
        assert_eq!(json["endpoint_id"], "eq-bars-daily");
        assert_eq!(serde_json::from_value::<JobGroup>(json.clone()).unwrap(), g);
        let mut gone = json;
        gone["endpoint_id"] = "eq-bars-weekly".into();
        let e = serde_json::from_value::<JobGroup>(gone).unwrap_err();
        assert!(
            e.to_string().contains("no endpoint `eq-bars-weekly`"),
            "{e}"
        );
    }

    #[test]
    fn a_finished_group_does_not_restart() {
        let mut g = group(0);
        assert!(g.finish(Utc::now(), None));
        assert!(g.start(Utc::now()).is_err());
    }
}
