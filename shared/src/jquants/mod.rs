//! The J-Quants client: V2 requests with `x-api-key`, one page at a time so callers can store
//! each page before fetching the next, and errors classified by what the caller should do.

mod client;
mod error;

pub use client::{JQuantsClient, Page};
pub use error::{Disposition, ProviderError};
