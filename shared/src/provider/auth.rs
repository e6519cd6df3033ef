//! How a provider request proves who sent it. Every strategy (J-Quants' V2 API key and V1
//! tokens, Yahoo's cookie + crumb, none) is an [`Auth`] the HTTP layer asks for [`Credentials`]
//! before each request and tells about a 401, so the renew-once-and-retry rule lives in one
//! place: [`send`].

use std::fmt;

use async_trait::async_trait;
use reqwest::header::HeaderName;
use reqwest::{RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};

use super::ProviderError;
use super::http::execute;

/// What one request carries: headers and query parameters, all secret. `generation` names
/// the credentials' issue, so a 401 on credentials already replaced does not renew again.
#[derive(Clone)]
pub struct Credentials {
    headers: Vec<(HeaderName, SecretString)>,
    query: Vec<(&'static str, SecretString)>,
    generation: u64,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<&str> = self.headers.iter().map(|(h, _)| h.as_str()).collect();
        let query: Vec<&str> = self.query.iter().map(|(q, _)| *q).collect();
        f.debug_struct("Credentials")
            .field("headers", &headers)
            .field("query", &query)
            .field("generation", &self.generation)
            .finish()
    }
}

impl Credentials {
    /// Nothing to attach, issue `generation`.
    pub fn new(generation: u64) -> Self {
        Self {
            headers: Vec::new(),
            query: Vec::new(),
            generation,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: SecretString) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &'static str, value: SecretString) -> Self {
        self.query.push((name, value));
        self
    }

    /// Which issue of the credentials this is.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The request with the credentials attached.
    pub fn apply(&self, mut request: RequestBuilder) -> RequestBuilder {
        for (name, value) in &self.headers {
            request = request.header(name, value.expose_secret());
        }
        for (name, value) in &self.query {
            request = request.query(&[(name, value.expose_secret())]);
        }
        request
    }
}

/// A way of authenticating requests to one provider account.
#[async_trait]
pub trait Auth: Send + Sync + fmt::Debug {
    /// Credentials for the next request, renewed first when missing or about to expire.
    ///
    /// # Errors
    /// When renewing fails: [`ProviderError::Auth`] if the provider refused the account.
    async fn credentials(&self) -> Result<Credentials, ProviderError>;

    /// The provider answered 401 to a request sent with `used`. `Ok(true)` when fresh
    /// credentials are ready and the request is worth sending once more.
    ///
    /// # Errors
    /// When renewing fails.
    async fn rejected(&self, used: &Credentials) -> Result<bool, ProviderError>;

    /// How many requests of its own (logins, token or crumb calls) the next
    /// [`Auth::credentials`] would send, so the caller can take rate-limit permits for them
    /// first. None by default.
    async fn renewal_requests(&self) -> u32 {
        0
    }
}

/// No credentials at all (Yahoo's chart endpoint).
#[derive(Debug, Default, Clone, Copy)]
pub struct Anonymous;

#[async_trait]
impl Auth for Anonymous {
    async fn credentials(&self) -> Result<Credentials, ProviderError> {
        Ok(Credentials::new(0))
    }

    async fn rejected(&self, _used: &Credentials) -> Result<bool, ProviderError> {
        Ok(false)
    }
}

/// Sends the request `build` makes with `auth`'s credentials. On a 401 it tells `auth`, and
/// if `auth` renewed its credentials, sends the request once more: a second 401 is returned
/// as it came, for the caller to classify. The credentials go only where `build` points:
/// an https URL (or one on this machine), never to a redirect's target.
///
/// # Errors
/// [`ProviderError::Transient`] when the request cannot be sent or times out;
/// [`ProviderError::InsecureUrl`] and [`ProviderError::Redirected`]; whatever `auth`
/// reports when renewing fails.
pub async fn send(
    auth: &dyn Auth,
    build: impl Fn() -> RequestBuilder + Send,
) -> Result<Response, ProviderError> {
    let used = auth.credentials().await?;
    let response = execute(used.apply(build())).await?;
    if response.status() != StatusCode::UNAUTHORIZED || !auth.rejected(&used).await? {
        return Ok(response);
    }
    let fresh = auth.credentials().await?;
    execute(fresh.apply(build())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_print_their_values() {
        let c = Credentials::new(3)
            .header(
                HeaderName::from_static("authorization"),
                "Bearer s3cret".into(),
            )
            .query("crumb", "crumb-s3cret".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("authorization") && shown.contains("crumb"));
    }
}
