//! The Yahoo Finance client (yahoo-api.md): daily and intraday charts with dividends and
//! splits (no crumb), batch quotes (cookie + crumb, fetched lazily and shared), typed rows on
//! Asia/Tokyo trading dates, J-Quants codes mapped to `.T` symbols, and every failure mapped
//! onto the providers' one [`ProviderError`](crate::provider::ProviderError) table.

mod chart;
mod client;
mod error;
mod pages;
mod quote;
mod rows;
mod session;
mod symbol;

pub use chart::{Bar, Chart, ChartRequest, Dividend, Interval, Split, parse_chart};
pub use client::{USER_AGENT, YahooClient, YahooConfig};
pub use error::COOL_DOWN;
pub use pages::{actions_of, records_of};
pub use quote::{Quote, parse_quotes};
pub use session::{CrumbAuth, DEFAULT_CRUMB_TTL};
pub use symbol::{jquants_code, yahoo_symbol};
