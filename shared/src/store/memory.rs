//! The in-memory fakes of the store ports, each beside its port; gathered here for tests.

pub use super::accounts::MemoryAccounts;
pub use super::jobs::MemoryJobs;
pub use super::schedules::MemorySchedules;
