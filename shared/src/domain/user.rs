//! A person or script that uses our API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::UserId;

/// A user. Owns credentials and job groups; nothing of one user is visible to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// A display name.
    pub name: String,
    /// Administrators manage data sources and create users.
    pub is_admin: bool,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
    /// Set by an administrator: every request with the user's keys is refused, and no
    /// function starts work for the user (fetcher, scheduler), until it is cleared.
    #[serde(default)]
    pub disabled: bool,
}
