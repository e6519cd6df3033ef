//! `moomoo schedules …`: recurring job groups and the windows of dates they fetch.

use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::key_value;

/// `moomoo schedules …`.
#[derive(Debug, Subcommand)]
pub enum SchedulesCommand {
    /// Your schedules, oldest first, with their next fire.
    List,
    /// A schedule: expression, template, next fire, last run, skipped fires.
    Show {
        /// The schedule's id.
        id: String,
    },
    /// A new schedule: each fire creates a job group for the window's dates.
    Create(ScheduleArgs),
    /// Change a schedule; what is not given stays.
    Update(ScheduleUpdateArgs),
    /// Let a disabled schedule fire again (from now on, never for the time in between).
    Enable {
        /// The schedule's id.
        id: String,
    },
    /// Stop a schedule from firing (it is kept).
    Disable {
        /// The schedule's id.
        id: String,
    },
    /// Delete a schedule; the job groups it created stay.
    Delete {
        /// The schedule's id.
        id: String,
    },
}

/// `moomoo schedules create …`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// The endpoint each fire fetches, e.g. `eq-bars-daily`.
    pub dataset: String,
    /// A name for it.
    #[arg(long)]
    pub name: String,
    /// Five-field cron expression, e.g. "0 18 * * 1-5".
    #[arg(long)]
    pub cron: String,
    /// IANA zone the expression is read in (Asia/Tokyo when absent).
    #[arg(long)]
    pub time_zone: Option<String>,
    /// The dates each fire fetches: previous-trading-day, last-trading-days:N or
    /// since-last-success:YYYY-MM-DD.
    #[arg(long, value_parser = window)]
    pub window: Window,
    /// Issue codes, comma-separated.
    #[arg(long, value_delimiter = ',', conflicts_with = "all_listed_issues")]
    pub symbols: Vec<String>,
    /// Every listed issue instead of --symbols.
    #[arg(long)]
    pub all_listed_issues: bool,
    /// Another endpoint parameter, KEY=VALUE (repeatable).
    #[arg(long = "param", value_parser = key_value)]
    pub params: Vec<(String, String)>,
    /// The data source.
    #[arg(long, default_value = "jquants-v2")]
    pub data_source: String,
    /// Create it disabled (it fires once enabled).
    #[arg(long)]
    pub disabled: bool,
}

/// `moomoo schedules update <id> …`.
#[derive(Debug, Args)]
pub struct ScheduleUpdateArgs {
    /// The schedule's id.
    pub id: String,
    /// A new name.
    #[arg(long)]
    pub name: Option<String>,
    /// A new cron expression (it fires from now on).
    #[arg(long)]
    pub cron: Option<String>,
    /// A new IANA zone.
    #[arg(long)]
    pub time_zone: Option<String>,
    /// A new window: previous-trading-day, last-trading-days:N or since-last-success:DATE.
    #[arg(long, value_parser = window)]
    pub window: Option<Window>,
    /// New issue codes, comma-separated (replace the old ones).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Option<Vec<String>>,
    /// New endpoint parameters, KEY=VALUE (repeatable; replace the old ones).
    #[arg(long = "param", value_parser = key_value)]
    pub params: Vec<(String, String)>,
}

/// A schedule's window, as the API takes it (`{"kind": …}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Window(pub serde_json::Value);

pub(super) fn window(s: &str) -> Result<Window, String> {
    let (kind, arg) = s.split_once(':').unwrap_or((s, ""));
    let value = match (kind, arg) {
        ("previous-trading-day", "") => serde_json::json!({"kind": kind}),
        ("last-trading-days", n) => {
            let days: u16 = n
                .parse()
                .ok()
                .filter(|d| (1..=250).contains(d))
                .ok_or_else(|| format!("`{s}`: write last-trading-days:N with N from 1 to 250"))?;
            serde_json::json!({"kind": kind, "days": days})
        }
        ("since-last-success", d) => {
            let start: NaiveDate = d
                .parse()
                .map_err(|_| format!("`{s}`: write since-last-success:YYYY-MM-DD"))?;
            serde_json::json!({"kind": kind, "start": start.to_string()})
        }
        _ => {
            return Err(format!(
                "`{s}` is not a window: previous-trading-day, last-trading-days:N or since-last-success:YYYY-MM-DD"
            ));
        }
    };
    Ok(Window(value))
}
