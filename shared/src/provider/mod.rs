//! What every provider client shares: the failure table and its retry dispositions
//! ([`ProviderError`], [`Disposition`]), how a request authenticates ([`Auth`], [`send`]), the
//! HTTP rules that keep secrets on the configured host and bound what an answer may cost
//! (no redirects, https only, capped bodies, clamped `Retry-After`, [`PageKeys`]), and the
//! unit a client returns, one [`Page`] of rows. `crate::jquants` and `crate::yahoo` are built
//! on it.

mod auth;
mod error;
mod http;

pub use auth::{Anonymous, Auth, Credentials, send};
pub use error::{Disposition, ProviderError};
pub use http::{DEFAULT_MAX_BODY, MAX_RETRY_AFTER, PageKeys};

pub(crate) use http::{
    AUTH_MAX_BODY, client_builder, dispatch, execute, read_capped, redirect, retry_after,
};

use crate::dataset::Record;

/// One page of an endpoint's rows and the key of the next page, if any.
#[derive(Debug)]
pub struct Page {
    /// Rows of this page.
    pub records: Vec<Record>,
    /// `pagination_key` to send for the next page; `None` on the last page.
    pub next: Option<String>,
    /// The body exactly as received (for the raw archive).
    pub raw: bytes::Bytes,
}
