//! A parsed V2 request: the query pairs plus who asks and when, with the parameter rules every
//! dataset shares (codes, dates, `date` vs `from`/`to`, plan windows, required parameters).

use axum::extract::Query as QueryPairs;
use axum::http::Uri;
use chrono::{DateTime, NaiveDate, Utc};

use super::error::{self, ApiError};
use crate::config::{Plan, Window};
use crate::params::{IssueCode, parse_date, value};
use crate::universe::{is_listed_code, issue_codes};

/// One request's parameters and context.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
    pub(crate) plan: Plan,
    /// The exchange's date on the sandbox clock.
    pub(crate) today: NaiveDate,
    pub(crate) now: DateTime<Utc>,
}

impl Query {
    pub(crate) fn parse(
        uri: &Uri,
        plan: Plan,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Self, ApiError> {
        let QueryPairs(pairs) = QueryPairs::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|_| ApiError::bad_request(error::MALFORMED_QUERY))?;
        Ok(Self {
            pairs,
            plan,
            today,
            now,
        })
    }

    /// The value of `name`; empty values count as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        value(&self.pairs, name)
    }

    /// Replaces a parameter name (V1 spells some differently).
    pub(crate) fn rename(&mut self, from: &str, to: &str) {
        for (k, _) in &mut self.pairs {
            if k == from {
                to.clone_into(k);
            }
        }
    }

    pub(crate) fn require_one_of(&self, names: &[&str]) -> Result<(), ApiError> {
        if names.iter().any(|n| self.get(n).is_some()) {
            Ok(())
        } else {
            Err(ApiError::requires_one_of(names))
        }
    }

    pub(crate) fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.get(name)
            .map(|raw| parse_date(raw).ok_or_else(|| ApiError::invalid_date(name)))
            .transpose()
    }

    pub(crate) fn code(&self) -> Result<Option<IssueCode>, ApiError> {
        self.get("code")
            .map(|raw| {
                IssueCode::parse(raw).map_err(|_| ApiError::bad_request(error::INVALID_CODE))
            })
            .transpose()
    }

    /// The listed issues the query covers: the one asked for (none if unlisted), or all.
    pub(crate) fn codes(&self) -> Result<Vec<IssueCode>, ApiError> {
        Ok(match self.code()? {
            Some(code) if is_listed_code(&code) => vec![code],
            Some(_) => Vec::new(),
            None => issue_codes()
                .iter()
                .filter_map(|c| IssueCode::parse(c).ok())
                .collect(),
        })
    }

    pub(crate) fn window(&self) -> Window {
        self.plan.window(self.today)
    }

    /// `date`, or `from`/`to` defaulting to the window's ends; explicit dates outside the
    /// window are refused.
    pub(crate) fn range(&self, window: Window) -> Result<(NaiveDate, NaiveDate), ApiError> {
        self.range_of(window, ["date", "from", "to"])
    }

    /// [`Self::range`] with other parameter names (e.g. `disc_date`, `disc_date_from`, ...).
    pub(crate) fn range_of(
        &self,
        window: Window,
        [date, from, to]: [&str; 3],
    ) -> Result<(NaiveDate, NaiveDate), ApiError> {
        let (day, start, end) = (self.date(date)?, self.date(from)?, self.date(to)?);
        if day.is_some() && (start.is_some() || end.is_some()) {
            return Err(ApiError::bad_request(format!(
                "'{date}' cannot be combined with '{from}' or '{to}'."
            )));
        }
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            return Err(ApiError::bad_request(format!(
                "'{from}' must not be after '{to}'."
            )));
        }
        if [day, start, end]
            .into_iter()
            .flatten()
            .any(|d| !window.contains(d))
        {
            return Err(ApiError::outside_subscription(window));
        }
        Ok(match day {
            Some(d) => (d, d),
            None => (start.unwrap_or(window.from), end.unwrap_or(window.to)),
        })
    }

    /// Identifies the query for page keys: every non-empty pair but the page key, sorted.
    pub(crate) fn fingerprint_values(&self) -> Vec<Option<String>> {
        let mut values: Vec<Option<String>> = self
            .pairs
            .iter()
            .filter(|(k, v)| k != "pagination_key" && !v.is_empty())
            .map(|(k, v)| Some(format!("{k}={v}")))
            .collect();
        values.sort();
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str) -> Query {
        let uri: Uri = format!("/x?{q}").parse().expect("uri");
        let today = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
        Query::parse(&uri, Plan::Light, Utc::now(), today).expect("parses")
    }

    #[test]
    fn ranges_follow_the_date_rules() {
        let window = query("").window();
        assert_eq!(query("").range(window).ok(), Some((window.from, window.to)));
        assert!(query("date=20240104&from=20240101").range(window).is_err());
        assert!(query("from=20240110&to=20240101").range(window).is_err());
        assert!(query("date=20000104").range(window).is_err());
        let fp = |q: &str| query(q).fingerprint_values();
        assert_eq!(fp("a=1&b=2&pagination_key=x"), fp("b=2&a=1&c="));
    }
}
