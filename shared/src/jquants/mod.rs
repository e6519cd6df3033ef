//! The J-Quants client: requests one page at a time so callers can store each page before
//! fetching the next, errors classified by what the caller should do, and the ways a request
//! authenticates: V2 `x-api-key`, V1 refresh/id tokens ([`V1Auth`]), behind one [`Auth`]
//! trait that the Yahoo client shares.

mod auth;
mod client;
mod error;
mod v1;

pub use auth::{Anonymous, ApiKey, Auth, Credentials, send};
pub use client::{JQuantsClient, Page, RawPage, RawRequest};
pub use error::{Disposition, ProviderError};
pub use v1::{
    DEFAULT_MARGIN, ID_TOKEN_LIFETIME, Login, REFRESH_TOKEN_LIFETIME, RenewedTokens, Token, V1Auth,
};

pub(crate) use auth::{retry_after, transient};
