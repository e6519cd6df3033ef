//! The `/equities/*` datasets.

pub(crate) mod bars_am;
pub(crate) mod bars_daily;
pub(crate) mod bars_minute;
pub(crate) mod earnings_calendar;
pub(crate) mod investor_types;
pub(crate) mod master;
