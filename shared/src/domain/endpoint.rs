//! A reference to an endpoint of the catalog that cannot name a missing one.

use std::fmt;

use serde::Serialize;

/// An endpoint of the catalog ([`crate::catalog::ENDPOINTS`]). Only the catalog builds one,
/// after finding the endpoint ([`EndpointRef::parse`] with its data source, or the stored text
/// through `FromStr` and serde), so a reference always names an endpoint: it derefs to the
/// catalog's [`crate::catalog::Endpoint`] with nothing left to look up or fail.
///
/// Declared here, where [`super::JobGroup`] names it; built, resolved and deserialized in
/// `catalog/endpoint_ref.rs` (the catalog imports the domain, not the other way round). Its text
/// form, stored and serialized, is the endpoint's id (`eq-bars-daily`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct EndpointRef {
    /// Its place in the catalog's list.
    index: usize,
    /// Its id (the text form).
    id: &'static str,
}

impl EndpointRef {
    /// For the catalog alone: its endpoint at `index`, whose id is `id`.
    pub(crate) const fn from_catalog(index: usize, id: &'static str) -> Self {
        Self { index, id }
    }

    /// Its place in the catalog's list.
    pub(crate) const fn index(self) -> usize {
        self.index
    }

    /// The endpoint's id, the stored text form.
    pub fn as_str(self) -> &'static str {
        self.id
    }
}

impl fmt::Display for EndpointRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

impl From<EndpointRef> for String {
    fn from(e: EndpointRef) -> String {
        e.id.to_owned()
    }
}
