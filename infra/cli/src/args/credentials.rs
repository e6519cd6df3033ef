//! `moomoo credentials …`: a user's key for a data source, and the provider plans.

use clap::{Subcommand, ValueEnum};

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
