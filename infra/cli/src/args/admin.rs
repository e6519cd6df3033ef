//! `moomoo admin …`: the first administrator's bootstrap, users and data sources.

use clap::{Args, Subcommand, ValueEnum};

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
