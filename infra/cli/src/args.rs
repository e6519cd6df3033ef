//! The command line, as clap derives it. `moomoo --help` lists the commands, the
//! configuration and the exit codes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::EXIT_CODES;

const AFTER_HELP: &str = "\
Configuration:
  MOOMOO_API_URL   the API's base URL, e.g. https://abc123.execute-api.ap-northeast-1.amazonaws.com
  MOOMOO_API_KEY   your API key
  Both may instead be set as api_url and api_key in ~/.config/moomoo/config.toml (or the file
  named by MOOMOO_CONFIG); the environment wins. The URL must be https:// unless the API is
  on this machine (localhost, 127.0.0.1, ::1): the key would cross the network in clear.
  MOOMOO_ADMIN_SECRET  the admin bootstrap secret, for `moomoo admin bootstrap` only

";

/// `moomoo`: market data from the moomoo-markets API.
#[derive(Debug, Parser)]
#[command(name = "moomoo", version, after_help = format!("{AFTER_HELP}{EXIT_CODES}"))]
pub struct Cli {
    /// Print one JSON document on stdout instead of text (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses a command line given as words (the first is the program name), as the shell
    /// would pass it; the demo runs the commands it prints this way.
    ///
    /// # Errors
    /// [`CliError::Usage`](crate::CliError::Usage) with clap's message.
    pub fn from_words<I, T>(words: I) -> Result<Self, crate::CliError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(words).map_err(|e| crate::CliError::Usage(e.to_string()))
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store, show or delete your key for a data source.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// Fetch a dataset: creates a job group, shows its progress, writes its rows.
    Fetch(FetchArgs),
    /// List your job groups; show, follow, cancel or retry one.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Write the rows a job group fetched to a file (or stdout).
    Export(ExportArgs),
    /// Your recurring job groups: list, show, create, update, enable, disable, delete.
    #[command(subcommand)]
    Schedules(SchedulesCommand),
    /// Your API keys for this API: list, create, revoke, rotate.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Administration: the first administrator's bootstrap; users and data sources (an
    /// administrator's key).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Market data you hold: get rows (fetching only what is missing), list, delete, and
    /// mirror a dataset as Parquet files.
    #[command(subcommand)]
    Data(DataCommand),
}

impl Cli {
    /// Whether the command authenticates with the admin bootstrap secret
    /// (`MOOMOO_ADMIN_SECRET`) instead of an API key.
    pub fn bootstraps(&self) -> bool {
        matches!(self.command, Command::Admin(AdminCommand::Bootstrap { .. }))
    }
}

/// `moomoo admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the first administrator, once per deployment, with the admin secret in
    /// MOOMOO_ADMIN_SECRET; its API key is printed once.
    Bootstrap {
        /// The administrator's name.
        #[arg(long, default_value = "admin")]
        name: String,
    },
    /// Users: create one; list them; disable or enable one; revoke all their keys; issue
    /// them a key.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Data sources: define one with its real provider's base URL; list the enabled ones.
    #[command(subcommand)]
    DataSources(DataSourcesCommand),
}

/// `moomoo admin data-sources …`.
#[derive(Debug, Subcommand)]
pub enum DataSourcesCommand {
    /// Create or replace a data source with its provider's defaults: jquants-v2 at
    /// https://api.jquants.com/v2, jquants-v1 at https://api.jquants.com/v1, yahoo at
    /// https://query2.finance.yahoo.com (--base-url elsewhere, e.g. a local sandbox).
    Put(DataSourcePutArgs),
    /// The enabled data sources, as users see them, with their endpoints.
    #[command(alias = "list")]
    Ls,
}

/// `moomoo admin data-sources put …`.
#[derive(Debug, Args)]
pub struct DataSourcePutArgs {
    /// The data source.
    pub id: KnownSource,
    /// Where its requests go instead of the provider (https, or http to this machine).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Define it disabled: it accepts no new job groups (`put` again without it enables it).
    #[arg(long)]
    pub disabled: bool,
    /// Requests a minute across the deployment, on top of each credential's plan.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub per_minute: Option<u32>,
    /// Requests an hour across the deployment.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub per_hour: Option<u32>,
    /// Requests a day across the deployment.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub per_day: Option<u32>,
}

/// A data source the catalog has endpoints for (`moomoo admin data-sources put`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KnownSource {
    /// J-Quants API V2 (an API key).
    #[value(name = "jquants-v2")]
    JquantsV2,
    /// J-Quants API V1 (mail address and password, or a refresh token; retired upstream on
    /// 2026-06-01).
    #[value(name = "jquants-v1")]
    JquantsV1,
    /// Yahoo Finance (no account).
    Yahoo,
}

impl KnownSource {
    /// The data source's id, e.g. `jquants-v2`.
    pub fn as_str(self) -> &'static str {
        match self {
            KnownSource::JquantsV2 => "jquants-v2",
            KnownSource::JquantsV1 => "jquants-v1",
            KnownSource::Yahoo => "yahoo",
        }
    }
}

/// `moomoo admin users …`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// A new user (not an administrator); its id and API key are printed, the key once.
    Create {
        /// The user's name, 1 to 100 characters.
        name: String,
    },
    /// Every user: id, name, role, disabled or not, creation.
    #[command(alias = "list")]
    Ls,
    /// Refuse every request of the user's keys at once (nothing is deleted).
    Disable {
        /// The user's id (`moomoo admin users ls`).
        id: String,
    },
    /// Undo `disable`: the user's keys work again.
    Enable {
        /// The user's id.
        id: String,
    },
    /// Revoke every API key of the user, the last one too, at once.
    RevokeKeys {
        /// The user's id.
        id: String,
    },
    /// A new API key for the user, printed once, to hand over (after `revoke-keys`).
    IssueKey {
        /// The user's id.
        id: String,
    },
}

/// `moomoo credentials …`.
#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Store (or replace) your key, sealed on the server; read from stdin unless --api-key.
    /// J-Quants V1: `--mail-address` with the password on stdin, or `--refresh-token` with
    /// the token on stdin.
    Set {
        /// The data source, e.g. `jquants-v2`.
        data_source: String,
        /// The provider's API key (prefer stdin: command lines end up in shell history).
        #[arg(long)]
        api_key: Option<String>,
        /// J-Quants V1: your account's mail address; stdin then holds its password.
        #[arg(long, conflicts_with = "api_key")]
        mail_address: Option<String>,
        /// J-Quants V1: stdin holds a refresh token from the J-Quants menu.
        #[arg(long, conflicts_with_all = ["api_key", "mail_address"])]
        refresh_token: bool,
        /// Your plan with the provider; it decides rate limits and data windows.
        #[arg(long, value_enum)]
        plan: Plan,
        /// Check the key with the provider first; nothing is stored when it is refused.
        #[arg(long)]
        verify: bool,
    },
    /// What is stored (plan, dates, token state); never the key itself.
    Show {
        /// The data source, e.g. `jquants-v2`.
        data_source: String,
    },
    /// Remove your key for the data source.
    Delete {
        /// The data source, e.g. `jquants-v2`.
        data_source: String,
    },
}

/// A provider plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Plan {
    /// 5 requests a minute.
    Free,
    /// 60 requests a minute.
    Light,
    /// 120 requests a minute.
    Standard,
    /// 500 requests a minute.
    Premium,
}

impl Plan {
    /// The API's name for the plan.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Light => "light",
            Plan::Standard => "standard",
            Plan::Premium => "premium",
        }
    }
}

/// `moomoo fetch …`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The endpoint of the data source's catalog, e.g. `eq-bars-daily`.
    pub dataset: String,
    /// Issue codes, comma-separated (one job each), e.g. 7203,6758.
    #[arg(long, value_delimiter = ',', conflicts_with = "all_listed_issues")]
    pub symbols: Vec<String>,
    /// Every issue listed on the last day of the range, instead of --symbols.
    #[arg(long)]
    pub all_listed_issues: bool,
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Another endpoint parameter, KEY=VALUE (repeatable), e.g. --param date=2026-01-05.
    #[arg(long = "param", value_parser = key_value)]
    pub params: Vec<(String, String)>,
    /// The data source.
    #[arg(long, default_value = "jquants-v2")]
    pub data_source: String,
    /// Where and how to write the rows.
    #[command(flatten)]
    pub output: OutputArgs,
}

impl FetchArgs {
    /// The endpoint parameters: --from, --to and every --param.
    pub fn params(&self) -> BTreeMap<String, String> {
        let mut params: BTreeMap<String, String> = self.params.iter().cloned().collect();
        if let Some(from) = self.from {
            params.insert("from".into(), from.to_string());
        }
        if let Some(to) = self.to {
            params.insert("to".into(), to.to_string());
        }
        params
    }
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// Where an export goes.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// The file to write (replaced only once complete); stdout when absent.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// csv, ndjson or parquet; by default from --out's extension, else csv.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Comma-separated, a header row first (as the API serves it).
    Csv,
    /// One JSON object per line, the provider's own fields (as the API serves it).
    Ndjson,
    /// Apache Parquet, typed columns, written by the CLI from the NDJSON export.
    Parquet,
}

impl Format {
    /// The format's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }
}

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

fn window(s: &str) -> Result<Window, String> {
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

/// `moomoo keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Your API keys, active and revoked (never their secrets).
    List,
    /// A new API key; its secret is printed once.
    Create {
        /// A label to tell it apart, e.g. `laptop`.
        #[arg(long)]
        name: Option<String>,
    },
    /// Revoke a key: it stops working at once (your last active key cannot be revoked).
    Revoke {
        /// The key's id (`moomoo keys list`).
        id: String,
    },
    /// Replace a key by a new one, at once; the new secret is printed once.
    Rotate {
        /// The key's id (`moomoo keys list`).
        id: String,
    },
}

/// `moomoo export …`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The job group's id.
    pub group_id: String,
    /// Where and how to write the rows.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `moomoo data …`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Rows of a dataset for symbols and dates, answered from what you hold; what is missing
    /// is fetched first (with a progress bar), and only that.
    Get(DataGetArgs),
    /// What you hold: per data source and series, each symbol's date ranges, rows and bytes.
    #[command(alias = "list")]
    Ls,
    /// Delete what you hold of a dataset: all of it, some symbols, or a date range.
    Rm(DataRmArgs),
    /// Mirror what you hold of a dataset as Hive-partitioned Parquet files in a directory
    /// (DIR/dataset=ENDPOINT/year=YYYY/part-0.parquet); only changed years travel.
    Sync(DataSyncArgs),
}

/// A dataset as `data` commands name it: `<data_source>/<endpoint>`, e.g.
/// `jquants-v2/eq-bars-daily`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dataset {
    /// The data source, e.g. `jquants-v2`.
    pub data_source: String,
    /// The endpoint of its catalog, e.g. `eq-bars-daily`.
    pub endpoint: String,
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.data_source, self.endpoint)
    }
}

fn dataset(s: &str) -> Result<Dataset, String> {
    let bad = |part: &str| part.is_empty() || part.contains(['/', '?', '#', '%', ' ', '&', '=']);
    match s.split_once('/') {
        Some((ds, ep)) if !bad(ds) && !bad(ep) => Ok(Dataset {
            data_source: ds.to_owned(),
            endpoint: ep.to_owned(),
        }),
        _ => Err(format!(
            "`{s}` is not DATA_SOURCE/ENDPOINT, e.g. jquants-v2/eq-bars-daily"
        )),
    }
}

/// Parameters the `data` commands set themselves; `--param` cannot name them.
const DATA_QUERY_KEYS: [&str; 6] = ["symbols", "from", "to", "format", "refresh", "held"];

fn data_param(s: &str) -> Result<(String, String), String> {
    let (k, v) = key_value(s)?;
    if DATA_QUERY_KEYS.contains(&k.as_str()) {
        return Err(format!("`{k}` has its own option: use --{k}"));
    }
    Ok((k, v))
}

/// `moomoo data get …`.
#[derive(Debug, Args)]
pub struct DataGetArgs {
    /// DATA_SOURCE/ENDPOINT, e.g. jquants-v2/eq-bars-daily.
    #[arg(value_parser = dataset)]
    pub dataset: Dataset,
    /// Issue codes or symbols, comma-separated, e.g. 72030,67580.
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day, YYYY-MM-DD (days not over yet at the exchange are left out).
    #[arg(long)]
    pub to: NaiveDate,
    /// Another endpoint parameter, KEY=VALUE (repeatable).
    #[arg(long = "param", value_parser = data_param)]
    pub params: Vec<(String, String)>,
    /// Fetch the whole range from the provider again, even what you hold.
    #[arg(long)]
    pub refresh: bool,
    /// Where and how to write the rows.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `moomoo data rm …`.
#[derive(Debug, Args)]
pub struct DataRmArgs {
    /// DATA_SOURCE/ENDPOINT, e.g. jquants-v2/eq-bars-daily.
    #[arg(value_parser = dataset)]
    pub dataset: Dataset,
    /// Only these issue codes or symbols, comma-separated (all when absent).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Only from this day, YYYY-MM-DD (with --to).
    #[arg(long, requires = "to")]
    pub from: Option<NaiveDate>,
    /// Only up to this day, YYYY-MM-DD (with --from).
    #[arg(long, requires = "from")]
    pub to: Option<NaiveDate>,
}

/// `moomoo data sync …`.
#[derive(Debug, Args)]
pub struct DataSyncArgs {
    /// DATA_SOURCE/ENDPOINT, e.g. jquants-v2/eq-bars-daily.
    #[arg(value_parser = dataset)]
    pub dataset: Dataset,
    /// The directory to mirror into (created if missing).
    #[arg(long)]
    pub dir: PathBuf,
    /// Another endpoint parameter naming the series, KEY=VALUE (repeatable).
    #[arg(long = "param", value_parser = data_param)]
    pub params: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fetch_parses_symbols_dates_and_params() {
        let cli = Cli::try_parse_from([
            "moomoo",
            "fetch",
            "eq-bars-daily",
            "--symbols",
            "7203,6758",
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-30",
            "--param",
            "x=1",
            "--out",
            "a.parquet",
        ])
        .unwrap();
        let Command::Fetch(f) = cli.command else {
            panic!("not fetch")
        };
        assert_eq!(f.symbols, ["7203", "6758"]);
        assert_eq!(f.data_source, "jquants-v2");
        assert_eq!(
            f.params().into_iter().collect::<Vec<_>>(),
            [
                ("from".to_owned(), "2026-01-05".to_owned()),
                ("to".to_owned(), "2026-01-30".to_owned()),
                ("x".to_owned(), "1".to_owned()),
            ]
        );
    }

    #[test]
    fn bad_dates_are_usage_errors() {
        let e = Cli::try_parse_from(["moomoo", "fetch", "eq-bars-daily", "--from", "2026-13-01"])
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn windows_are_written_compactly() {
        assert_eq!(
            window("previous-trading-day").unwrap().0,
            serde_json::json!({"kind": "previous-trading-day"})
        );
        assert_eq!(
            window("last-trading-days:5").unwrap().0,
            serde_json::json!({"kind": "last-trading-days", "days": 5})
        );
        assert_eq!(
            window("since-last-success:2026-01-05").unwrap().0,
            serde_json::json!({"kind": "since-last-success", "start": "2026-01-05"})
        );
        for bad in [
            "yesterday",
            "previous-trading-day:1",
            "last-trading-days",
            "last-trading-days:0",
            "last-trading-days:251",
            "since-last-success:2026-13-01",
        ] {
            assert!(window(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn data_get_parses_its_dataset_and_refuses_reserved_params() {
        let cli = Cli::try_parse_from([
            "moomoo",
            "data",
            "get",
            "jquants-v2/eq-bars-daily",
            "--symbols",
            "72030,67580",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-31",
            "--refresh",
            "--param",
            "x=1",
        ])
        .unwrap();
        let Command::Data(DataCommand::Get(g)) = cli.command else {
            panic!("not data get")
        };
        assert_eq!(g.dataset.to_string(), "jquants-v2/eq-bars-daily");
        assert_eq!(g.symbols, ["72030", "67580"]);
        assert!(g.refresh);
        assert_eq!(g.params, [("x".to_owned(), "1".to_owned())]);
        let range = ["--from", "2024-01-01", "--to", "2024-01-31"];
        for bad in ["eq-bars-daily", "/eq", "a/b/c", "a/b?c=1", "jquants-v2/"] {
            let e = Cli::try_parse_from(["moomoo", "data", "get", bad].into_iter().chain(range))
                .unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
        let e = Cli::try_parse_from(["moomoo", "data", "get", "a/b", "--from", "2024-01-01"])
            .unwrap_err();
        assert_eq!(e.exit_code(), 2, "--to is required");
        let e = Cli::try_parse_from(["moomoo", "data", "rm", "a/b", "--from", "2024-01-01"])
            .unwrap_err();
        assert_eq!(e.exit_code(), 2, "a range has both ends");
        let e = Cli::try_parse_from([
            "moomoo", "data", "sync", "a/b", "--dir", "d", "--param", "held=all",
        ])
        .unwrap_err();
        assert!(e.to_string().contains("has its own option"), "{e}");
    }

    #[test]
    fn the_help_lists_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("130  interrupted by Ctrl-C"), "{help}");
        assert!(help.contains("MOOMOO_API_KEY"), "{help}");
    }
}
