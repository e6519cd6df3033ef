//! Building and resolving [`EndpointRef`]s: only an endpoint of [`ENDPOINTS`] becomes one, so
//! code holding one never looks the endpoint up again nor handles its absence.
//!
//! A stored group names its endpoint by id, so an endpoint of the catalog must stay in it once
//! groups may name it: a group item whose endpoint is gone no longer reads (the store reports it
//! corrupt, as any other field it cannot parse). `shipped_endpoints_stay_in_the_catalog` below
//! holds the list.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use super::{ENDPOINTS, Endpoint};
use crate::domain::{DataSourceId, EndpointRef};

/// An endpoint the catalog does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEndpoint {
    /// The data source it was asked of; `None` for the text form, which is the id alone.
    pub data_source: Option<DataSourceId>,
    /// The id asked for.
    pub id: String,
}

impl fmt::Display for UnknownEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.data_source {
            Some(ds) => write!(f, "data source `{ds}` has no endpoint `{}`", self.id),
            None => write!(f, "no endpoint `{}` in the catalog", self.id),
        }
    }
}

impl std::error::Error for UnknownEndpoint {}

impl EndpointRef {
    /// The endpoint `id` of `data_source`.
    ///
    /// # Errors
    /// [`UnknownEndpoint`] when the data source has no endpoint `id`.
    pub fn parse(data_source: &DataSourceId, id: &str) -> Result<Self, UnknownEndpoint> {
        first(|e| e.data_source == data_source.as_str() && e.id == id).ok_or_else(|| {
            UnknownEndpoint {
                data_source: Some(data_source.clone()),
                id: id.to_owned(),
            }
        })
    }

    /// The catalog's entry.
    pub fn get(self) -> &'static Endpoint {
        &ENDPOINTS[self.index()]
    }
}

fn first(matches: impl Fn(&Endpoint) -> bool) -> Option<EndpointRef> {
    let index = ENDPOINTS.iter().position(matches)?;
    Some(EndpointRef::from_catalog(index, ENDPOINTS[index].id))
}

impl Deref for EndpointRef {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        self.get()
    }
}

/// The text form, the id alone: ids are unique across the catalog (tested below), so it names
/// one endpoint, and with it its data source.
impl FromStr for EndpointRef {
    type Err = UnknownEndpoint;
    fn from_str(id: &str) -> Result<Self, UnknownEndpoint> {
        first(|e| e.id == id).ok_or_else(|| UnknownEndpoint {
            data_source: None,
            id: id.to_owned(),
        })
    }
}

/// The text form; an id the catalog lacks is an error.
impl<'de> serde::Deserialize<'de> for EndpointRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn ds(s: &str) -> DataSourceId {
        DataSourceId::parse(s).unwrap()
    }

    #[test]
    fn every_catalog_endpoint_parses_to_itself() {
        for e in ENDPOINTS {
            let r = EndpointRef::parse(&ds(e.data_source), e.id).unwrap();
            assert!(std::ptr::eq(r.get(), e), "{}", e.id);
            assert_eq!(
                (r.as_str(), r.data_source, r.to_string()),
                (e.id, e.data_source, e.id.to_owned())
            );
            assert_eq!(
                e.id.parse::<EndpointRef>(),
                Ok(r),
                "the text form names the same one"
            );
        }
    }

    #[test]
    fn unknown_endpoints_are_refused() {
        let e = EndpointRef::parse(&ds("jquants-v2"), "nope").unwrap_err();
        assert_eq!(
            e.to_string(),
            "data source `jquants-v2` has no endpoint `nope`"
        );
        assert!(
            EndpointRef::parse(&ds("yahoo"), "eq-bars-daily").is_err(),
            "another data source's endpoint"
        );
        assert!(EndpointRef::parse(&ds("jquants-v1"), "eq-bars-daily").is_err());
        for text in ["", "EQ-BARS-DAILY", "eq-bars-daily ", "test-pair"] {
            let e = text.parse::<EndpointRef>().unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("no endpoint `{text}` in the catalog")
            );
        }
    }

    #[test]
    fn the_text_form_round_trips_and_refuses_unknown_ids() {
        let r = EndpointRef::parse(&ds("jquants-v2"), "eq-bars-daily").unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#""eq-bars-daily""#);
        let back: EndpointRef = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(String::from(r), "eq-bars-daily");
        let e = serde_json::from_str::<EndpointRef>(r#""eq-bars-weekly""#).unwrap_err();
        assert!(
            e.to_string()
                .contains("no endpoint `eq-bars-weekly` in the catalog"),
            "{e}"
        );
        assert!(serde_json::from_str::<EndpointRef>("7").is_err());
    }

    #[test]
    fn ids_are_unique_across_the_catalog() {
        let mut seen = BTreeSet::new();
        for e in ENDPOINTS {
            assert!(
                seen.insert(e.id),
                "`{}` twice: the text form would be ambiguous",
                e.id
            );
        }
    }

    /// Every endpoint a stored group may name. A group whose endpoint left the catalog no longer
    /// reads, so an endpoint stays once shipped (a provider that drops one answers its requests
    /// with an error the job fails on; a data source can be disabled); a new one joins the list.
    const SHIPPED: &[(&str, &str)] = &[
        ("jquants-v2", "eq-master"),
        ("jquants-v2", "eq-bars-daily"),
        ("jquants-v2", "eq-bars-daily-am"),
        ("jquants-v2", "eq-bars-minute"),
        ("jquants-v2", "eq-investor-types"),
        ("jquants-v2", "eq-earnings-cal"),
        ("jquants-v2", "fin-summary"),
        ("jquants-v2", "fin-details"),
        ("jquants-v2", "fin-dividend"),
        ("jquants-v2", "mkt-cal"),
        ("jquants-v2", "mkt-margin-interest"),
        ("jquants-v2", "mkt-short-ratio"),
        ("jquants-v2", "mkt-short-sale-report"),
        ("jquants-v2", "mkt-margin-alert"),
        ("jquants-v2", "mkt-breakdown"),
        ("jquants-v2", "idx-bars-daily"),
        ("jquants-v2", "idx-bars-daily-topix"),
        ("jquants-v2", "drv-bars-daily-fut"),
        ("jquants-v2", "drv-bars-daily-opt"),
        ("jquants-v2", "drv-bars-daily-opt-225"),
        ("jquants-v1", "listed-info"),
        ("jquants-v1", "prices-daily-quotes"),
        ("jquants-v1", "fins-statements"),
        ("jquants-v1", "markets-trading-calendar"),
        ("yahoo", "chart"),
        ("yahoo", "chart-events"),
        ("yahoo", "quote"),
    ];

    #[test]
    fn shipped_endpoints_stay_in_the_catalog() {
        for (source, id) in SHIPPED {
            assert!(
                EndpointRef::parse(&ds(source), id).is_ok(),
                "`{id}` of {source} left the catalog: groups stored with it would no longer read; keep it"
            );
        }
        let shipped: BTreeSet<_> = SHIPPED.iter().copied().collect();
        for e in ENDPOINTS {
            assert!(
                shipped.contains(&(e.data_source, e.id)),
                "add `{}` of {} to SHIPPED: groups will name it",
                e.id,
                e.data_source
            );
        }
    }
}
