//! `moomoo groups …`: listing, following, cancelling and retrying job groups.

use clap::{Args, Subcommand, ValueEnum};

/// `moomoo groups …`.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Your job groups, newest first.
    List {
        /// Which page, or all of them.
        #[command(flatten)]
        paging: Paging,
    },
    /// Status and counters of a job group.
    Show {
        /// The job group's id.
        id: String,
    },
    /// Follow a job group's progress until it ends (also after Ctrl-C on `fetch`).
    Watch {
        /// The job group's id.
        id: String,
    },
    /// Skip the jobs that have not run yet; the group then ends failed.
    Cancel {
        /// The job group's id.
        id: String,
    },
    /// Run a failed group's failed jobs again (completed ones are kept).
    Retry {
        /// The job group's id.
        id: String,
        /// Follow its progress until it ends.
        #[arg(long)]
        watch: bool,
    },
    /// The jobs of a job group, in order: status, symbol, rows, error.
    Jobs {
        /// The job group's id.
        id: String,
        /// Only the jobs in this status.
        #[arg(long, value_enum)]
        status: Option<JobStatus>,
        /// Which page, or all of them.
        #[command(flatten)]
        paging: Paging,
    },
}

/// Which page of a listing to show.
#[derive(Debug, Clone, Args)]
pub struct Paging {
    /// Entries per page (1 to 100).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: u32,
    /// Resume after a previous page (its `next_cursor`).
    #[arg(long, conflicts_with = "all")]
    pub cursor: Option<String>,
    /// Every page, one after another.
    #[arg(long)]
    pub all: bool,
}

/// A job's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JobStatus {
    /// Waiting for a fetcher.
    Pending,
    /// Being fetched.
    Running,
    /// Rows stored.
    Completed,
    /// Failed for good.
    Failed,
}

impl JobStatus {
    /// The API's name for the status.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
        }
    }
}
