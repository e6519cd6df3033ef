//! Contract suites: one behaviour per port, run against the in-memory fake (unit tests) and the
//! AWS adapter on the emulator (`tests/`), so the fakes other tests rely on cannot drift. The
//! suites of the accounts and jobs ports, the fan-out, the limiter's store and the key service
//! live beside their port; they are gathered here, so `tests/` finds every suite in one place.

pub use crate::crypto::contract::key_service;
pub use crate::fanout::contract::fan_out;
pub use crate::limiter::store::contract::{limiter_store, limiter_under_contention};
pub use crate::store::accounts::contract::{
    api_keys, credential_listing, credential_store, data_source_store, kill_switches, user_listing,
    user_store,
};
pub use crate::store::holdings::contract::holding_store;
pub use crate::store::jobs::contract::{
    group_job_listing, group_listing, job_batches, job_cancel_and_retry, job_store, parked_jobs,
    user_quotas,
};
pub use crate::store::schedules::contract::schedule_store;
