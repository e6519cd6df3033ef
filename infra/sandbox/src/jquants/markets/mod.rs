//! The `/markets/*` datasets.

pub(crate) mod breakdown;
pub(crate) mod calendar;
pub(crate) mod margin_alert;
pub(crate) mod margin_interest;
pub(crate) mod short_ratio;
pub(crate) mod short_sale_report;
