//! The command line, as clap derives it. `moomoo --help` lists the commands, the
//! configuration and the exit codes. One file per command group; this one holds the
//! top level and re-exports every argument type.

mod admin;
mod credentials;
mod data;
mod export;
mod fetch;
mod groups;
mod keys;
mod schedules;
#[cfg(test)]
mod tests;

use clap::{Parser, Subcommand};

use crate::error::EXIT_CODES;

pub use admin::{AdminCommand, DataSourcePutArgs, DataSourcesCommand, KnownSource, UsersCommand};
pub use credentials::{CredentialsCommand, Plan};
pub use data::{DataCommand, DataGetArgs, DataRmArgs, DataSyncArgs, Dataset};
pub use export::{ExportArgs, Format, OutputArgs};
pub use fetch::FetchArgs;
pub use groups::{GroupsCommand, JobStatus, Paging};
pub use keys::KeysCommand;
pub use schedules::{ScheduleArgs, ScheduleUpdateArgs, SchedulesCommand, Window};

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

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}
