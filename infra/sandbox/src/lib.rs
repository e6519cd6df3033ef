//! A local imitation of the market-data providers, for tests, benchmarks and the demo.
//!
//! One server, four mounts:
//! - `/v2`: J-Quants V2, every JSON dataset of the reference (`jquants-api.md` §2.2) with
//!   `x-api-key` auth, plan gating and windows, opaque page keys, exact error bodies, per-plan
//!   rate limits with lockout;
//! - `/v1`: J-Quants V1 token lifecycle and its main data routes;
//! - `/yahoo`: Yahoo Finance chart, cookie + crumb and quote (`yahoo-api.md`);
//! - `/_sandbox`: control (request log, clock, keys, V1 users, faults, limits, Yahoo
//!   sessions).
//!
//! The data are synthetic but deterministic, computed per row from hashes over about 4,000
//! issues trading on the real TSE calendar, with splits, dividends and results disclosures.
//!
//! Layout:
//! - [`calendar`]: TSE trading days; `universe`: issue codes; `price_level`: each issue's
//!   price level; `market`, `intraday`, `indices`: prices; `corporate`: issuers, disclosures,
//!   dividends, splits.
//! - `params`, `pagination`: request parsing and page keys.
//! - `jquants`, `v1`, `yahoo`, `admin`: the routers; `guard`: V2 keys, V1 accounts, Yahoo
//!   sessions, limits and faults; `clock`, `state`, `stats`: shared state; `server`:
//!   [`router`], [`serve`], [`Sandbox`].

mod admin;
pub mod calendar;
mod clock;
mod config;
mod corporate;
mod guard;
mod hash;
mod indices;
mod intraday;
mod jquants;
mod market;
mod pagination;
mod params;
mod price_level;
mod server;
mod state;
mod stats;
mod universe;
mod v1;
mod yahoo;

use chrono::NaiveDate;
use serde_json::{Map, Value};

pub use calendar::{is_trading_day, trading_days};
pub use config::{ApiKeySpec, Plan, SandboxConfig, UnknownPlan, Window};
pub use corporate::StockSplit;
pub use guard::{FaultSpec, Hostile, Limits, REPEATED_KEY};
pub use server::{Sandbox, router, router_with, serve, serve_with};
pub use stats::{INVALID_KEY, KeyStats, Stats};
pub use universe::{is_listed, issue_codes};
pub use yahoo::YAHOO;

/// The `/equities/bars/daily` row the API serves for `code` (4 or 5 characters) on `date`
/// to a caller on `plan`; `None` on non-trading days and for unlisted codes. The plan window
/// is not applied here; adjusted values account for every split (all are before 2026). The
/// object's key order is `serde_json::Map`'s, not the wire order.
pub fn daily_bar(code: &str, date: NaiveDate, plan: Plan) -> Option<Map<String, Value>> {
    let code = params::IssueCode::parse(code).ok()?;
    jquants::bar(&code, date, plan, NaiveDate::MAX).map(|row| row.into_map())
}

/// The stock split of `code` (4 or 5 characters), if the synthetic market has one.
pub fn stock_split(code: &str) -> Option<StockSplit> {
    let code = params::IssueCode::parse(code).ok()?;
    corporate::split_of(&code).filter(|_| universe::is_listed_code(&code))
}
