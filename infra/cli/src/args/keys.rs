//! `moomoo keys …`: the user's own API keys.

use clap::Subcommand;

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
