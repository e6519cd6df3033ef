//! Parameter kinds and their validation into canonical text.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{Endpoint, ValidationError};

/// How a parameter's value is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A date as `YYYY-MM-DD` or `YYYYMMDD`; stored as `YYYY-MM-DD`.
    Date,
}

/// One query parameter of an endpoint.
#[derive(Debug)]
pub struct ParamSpec {
    /// The provider's name for it.
    pub name: &'static str,
    /// How it is parsed.
    pub kind: ParamKind,
    /// Parameters that may not be combined with it.
    pub conflicts_with: &'static [&'static str],
}

/// Parses `YYYY-MM-DD` or `YYYYMMDD`, the two forms J-Quants accepts.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let fmt = if s.len() == 8 { "%Y%m%d" } else { "%Y-%m-%d" };
    if s.len() != 8 && s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, fmt).ok()
}

pub(super) fn validate(
    endpoint: &Endpoint,
    params: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ValidationError> {
    let mut out = BTreeMap::new();
    for (name, value) in params {
        let Some(spec) = endpoint.params.iter().find(|s| s.name == name) else {
            let known: Vec<_> = endpoint.params.iter().map(|s| s.name).collect();
            return Err(ValidationError(format!(
                "unknown parameter `{name}` for endpoint `{}`: allowed are {}",
                endpoint.id,
                known.join(", ")
            )));
        };
        if let Some(other) = spec
            .conflicts_with
            .iter()
            .find(|c| params.contains_key(**c))
        {
            return Err(ValidationError(format!(
                "`{name}` and `{other}` cannot be used together: give either `date` or a `from`/`to` range"
            )));
        }
        let canonical = match spec.kind {
            ParamKind::Date => parse_date(value)
                .ok_or_else(|| {
                    ValidationError(format!(
                        "`{name}` = `{value}` is not a date: use YYYY-MM-DD or YYYYMMDD"
                    ))
                })?
                .format("%Y-%m-%d")
                .to_string(),
        };
        out.insert(name.clone(), canonical);
    }
    if let (Some(from), Some(to)) = (out.get("from"), out.get("to"))
        && from > to
    {
        return Err(ValidationError(format!(
            "`from` ({from}) is after `to` ({to}): swap them"
        )));
    }
    Ok(out)
}
