//! A local imitation of the market-data providers, for tests and the demo.
//!
//! Today it serves J-Quants V2 `GET /v2/equities/bars/daily` faithfully to the reference
//! (`jquants-api.md`): `x-api-key` auth with 403s, plan windows, opaque page keys, exact
//! error bodies and the 16/42-key row shapes, over a synthetic but deterministic market of
//! about 4,000 issues trading on the real TSE calendar.
//!
//! Layout:
//! - [`calendar`]: TSE trading days by rule; `universe`: the issue codes;
//!   `market`: the synthetic bars; `params`, `pagination`: request parsing and page keys.
//! - `jquants`: the `/v2` router, its auth/recording layers and datasets.
//! - `stats`: the request log; `server`: [`router`], [`serve`] and the [`Sandbox`] handle.

pub mod calendar;
mod config;
mod hash;
mod jquants;
mod market;
mod pagination;
mod params;
mod server;
mod stats;
mod universe;

use chrono::NaiveDate;
use serde_json::{Map, Value};

pub use calendar::{is_trading_day, trading_days};
pub use config::{ApiKeySpec, Plan, SandboxConfig, UnknownPlan, Window};
pub use server::{Sandbox, router, serve};
pub use stats::{INVALID_KEY, KeyStats, Stats};
pub use universe::{is_listed, issue_codes};

/// The `/equities/bars/daily` row the API serves for `code` (4 or 5 characters) on `date`
/// to a caller on `plan`; `None` on non-trading days and for unlisted codes. The plan window
/// is not applied here. The object's key order is `serde_json::Map`'s, not the wire order.
pub fn daily_bar(code: &str, date: NaiveDate, plan: Plan) -> Option<Map<String, Value>> {
    let code = params::IssueCode::parse(code).ok()?;
    jquants::Row::build(&code, date, plan).map(jquants::Row::into_map)
}
