//! The `/derivatives/bars/daily/*` datasets.

mod contracts;
pub(crate) mod futures;
pub(crate) mod options;
