//! Parameter kinds, the rules that tie parameters together, and validation into canonical text.

use std::collections::BTreeMap;

use super::{Endpoint, ValidationError};
use crate::domain::{IssueCode, parse_date};

/// How a parameter's value is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A date as `YYYY-MM-DD` or `YYYYMMDD`; stored as `YYYY-MM-DD`.
    Date,
    /// An issue code of 4 or 5 characters; stored in the 5-character form.
    IssueCode,
    /// A 33-sector code: 4 digits (`0050`, `3050`, ...).
    Sector33,
    /// An index code: 4 digits or uppercase letters (`0000` is TOPIX, `0028`, `8501`, ...).
    IndexCode,
    /// A product category: 1 to 16 uppercase letters and digits (`NK225F`, `TOPIXE`, ...).
    Category,
    /// One of a fixed set of values.
    OneOf(&'static [&'static str]),
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

/// A rule over several parameters of one request. The endpoint's symbol parameter counts as
/// given when the request names symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// At least one of these must be given (one name alone: that parameter is required).
    AtLeastOne(&'static [&'static str]),
    /// All of these or none.
    Together(&'static [&'static str]),
    /// A date range: the first may not be after the second.
    Range(&'static str, &'static str),
}

fn canonical(name: &str, kind: ParamKind, value: &str) -> Result<String, ValidationError> {
    let refuse = |what: &str| {
        Err(ValidationError(format!(
            "`{name}` = `{value}` is not {what}"
        )))
    };
    let chars_ok = |len: std::ops::RangeInclusive<usize>, upper: bool| {
        len.contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (upper && b.is_ascii_uppercase()))
    };
    match kind {
        ParamKind::Date => match parse_date(value) {
            Some(d) => Ok(d.format("%Y-%m-%d").to_string()),
            None => refuse("a date: use YYYY-MM-DD or YYYYMMDD"),
        },
        ParamKind::IssueCode => IssueCode::parse(value)
            .map(String::from)
            .map_err(|e| ValidationError(format!("`{name}`: {e}"))),
        ParamKind::Sector33 if chars_ok(4..=4, false) => Ok(value.to_owned()),
        ParamKind::Sector33 => refuse("a 33-sector code: use 4 digits, such as 0050 or 3650"),
        ParamKind::IndexCode if chars_ok(4..=4, true) => Ok(value.to_owned()),
        ParamKind::IndexCode => {
            refuse("an index code: use 4 digits or uppercase letters, such as 0000 or 0028")
        }
        ParamKind::Category if chars_ok(1..=16, true) => Ok(value.to_owned()),
        ParamKind::Category => {
            refuse("a product category: use uppercase letters and digits, such as NK225F")
        }
        ParamKind::OneOf(allowed) if allowed.contains(&value) => Ok(value.to_owned()),
        ParamKind::OneOf(allowed) => refuse(&format!("one of {}", allowed.join(", "))),
    }
}

pub(super) fn validate(
    endpoint: &Endpoint,
    params: &BTreeMap<String, String>,
    has_symbol: bool,
) -> Result<BTreeMap<String, String>, ValidationError> {
    let mut out = BTreeMap::new();
    for (name, value) in params {
        let Some(spec) = endpoint.params.iter().find(|s| s.name == name) else {
            let known: Vec<_> = endpoint.params.iter().map(|s| s.name).collect();
            let allowed = if known.is_empty() {
                "it takes none".to_owned()
            } else {
                format!("allowed are {}", known.join(", "))
            };
            return Err(ValidationError(format!(
                "unknown parameter `{name}` for endpoint `{}`: {allowed}",
                endpoint.id
            )));
        };
        if let Some(other) = spec
            .conflicts_with
            .iter()
            .find(|c| params.contains_key(**c))
        {
            return Err(ValidationError(format!(
                "`{name}` and `{other}` cannot be used together: give one of them"
            )));
        }
        out.insert(name.clone(), canonical(name, spec.kind, value)?);
    }
    let given = |n: &str| out.contains_key(n) || (has_symbol && endpoint.symbol_param == Some(n));
    for rule in endpoint.rules {
        match *rule {
            Rule::AtLeastOne(names) if !names.iter().any(|n| given(n)) => {
                return Err(ValidationError(match names {
                    [one] => format!("endpoint `{}` needs `{one}`", endpoint.id),
                    _ => format!(
                        "endpoint `{}` needs at least one of {}",
                        endpoint.id,
                        describe(endpoint, names)
                    ),
                }));
            }
            Rule::Together(names)
                if names.iter().any(|n| given(n)) && !names.iter().all(|n| given(n)) =>
            {
                return Err(ValidationError(format!(
                    "{} must be given together",
                    describe(endpoint, names)
                )));
            }
            Rule::Range(from, to) => {
                if let (Some(a), Some(b)) = (out.get(from), out.get(to))
                    && a > b
                {
                    return Err(ValidationError(format!(
                        "`{from}` ({a}) is after `{to}` ({b}): swap them"
                    )));
                }
            }
            Rule::AtLeastOne(_) | Rule::Together(_) => {}
        }
    }
    Ok(out)
}

/// Names for a message; the symbol parameter is given through `symbols`.
fn describe(endpoint: &Endpoint, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| {
            if endpoint.symbol_param == Some(*n) {
                format!("`symbols` (`{n}`)")
            } else {
                format!("`{n}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
