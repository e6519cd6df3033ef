//! `moomoo`, the command-line client of the moomoo-markets API: store a provider key, fetch a
//! dataset for many issues with a live progress bar, and write the rows as CSV, NDJSON or
//! Parquet; read, list, delete and mirror the data the user holds; manage schedules and the
//! user's own API keys; administer users and data sources.
//!
//! # Layout
//! - [`args`]: the command line (clap derive); `moomoo --help` shows the exit codes.
//! - [`config`]: API URL and key, the environment over the config file.
//! - [`api`]: HTTP calls; problem+json answers become [`CliError`]s with the API's `detail`.
//! - [`error`]: one error type, one exit code per kind of failure.
//! - [`progress`]: follows a job group with a progress bar; Ctrl-C handling.
//! - [`output`]: writes an export to a file (complete or not at all) or stdout.
//! - [`to_parquet`]: NDJSON rows → Parquet, schema built from the export's columns.
//! - [`schema`]: a dataset's typed schema (dates, doubles, the rows' column order), one across
//!   a synced dataset's files.
//! - [`rows`]: reading stored rows (`/v1/data`), waiting on the groups that fetch what is
//!   missing.
//! - [`sync`]: mirroring a dataset as Hive-partitioned Parquet, only changed years travelling.
//! - [`commands`]: one file per command.

pub mod api;
pub mod args;
pub mod commands;
pub mod config;
pub mod error;
#[cfg(test)]
mod fake_api;
pub mod output;
pub mod progress;
pub mod rows;
pub mod schema;
pub mod sync;
pub mod to_parquet;

pub use args::Cli;
pub use config::Config;
pub use error::CliError;

use args::Command;

/// Runs one command line against the API in `config`.
///
/// # Errors
/// Whatever the command fails with; [`CliError::exit_code`] gives the process exit code.
pub async fn run(cli: &Cli, config: &Config) -> Result<(), CliError> {
    let api = api::Api::new(config)?;
    match &cli.command {
        Command::Credentials(c) => commands::credentials::run(&api, c, cli.json).await,
        Command::Fetch(args) => {
            let fetched = commands::fetch::fetch(&api, args, cli.json).await?;
            commands::fetch::report(&fetched, cli.json)
        }
        Command::Groups(g) => commands::groups::run(&api, g, cli.json).await,
        Command::Export(args) => commands::export::run(&api, args, cli.json).await,
        Command::Schedules(s) => commands::schedules::run(&api, s, cli.json).await,
        Command::Keys(k) => commands::keys::run(&api, k, cli.json).await,
        Command::Admin(a) => commands::admin::run(&api, a, cli.json).await,
        Command::Data(d) => commands::data::run(&api, d, cli.json).await,
    }
}
