//! The data model of `data-model.md`: five entities, the newtypes that parse their fields, and
//! their state transitions as pure functions (no I/O; the stores apply the same rules with
//! conditional writes).

mod credential;
mod data_source;
mod date;
mod endpoint;
mod envelope;
pub mod holding;
mod ids;
mod job;
mod job_group;
mod plan;
mod symbol;
mod user;

pub use credential::{CredentialSecret, DataSourceCredential};
pub use data_source::{ApiVersion, BaseUrlError, DataSource, ProviderType};
pub use date::{DateRange, parse_date};
pub use endpoint::EndpointRef;
pub use envelope::Envelope;
pub use ids::{ApiKeyId, DataSourceId, JobGroupId, JobId, ScheduleId, UserId};
pub use job::{Checkpoint, Job, JobStatus, Release, ResponseData, StartRefused};
pub use job_group::{JobGroup, JobGroupStatus, Split};
pub use plan::{DataWindow, Plan};
pub use symbol::IssueCode;
pub use user::User;

/// A transition the state machine does not allow from the entity's current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a {entity} that is {from}")]
pub struct TransitionError {
    /// The entity kind ("job", "job group").
    pub entity: &'static str,
    /// What was attempted.
    pub action: &'static str,
    /// The status it was in.
    pub from: &'static str,
}
