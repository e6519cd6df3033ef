//! The J-Quants client: requests one page at a time so callers can store each page before
//! fetching the next, errors classified by what the caller should do, and the ways a request
//! authenticates: V2 `x-api-key` ([`ApiKey`]), V1 refresh/id tokens ([`V1Auth`]), both an
//! [`Auth`](crate::provider::Auth) of `crate::provider`, which the Yahoo client shares.

mod api_key;
mod client;
mod v1;

pub use api_key::ApiKey;
pub use client::{JQuantsClient, RawPage, RawRequest};
pub use v1::{
    DEFAULT_MARGIN, ID_TOKEN_LIFETIME, Login, REFRESH_TOKEN_LIFETIME, RenewedTokens, Token, V1Auth,
};
