//! Parsing of query-string values: issue codes and dates, as J-Quants accepts them.
//!
//! Empty values count as absent, because the official Python client sends `code=` when the
//! caller asks by date only.

use std::fmt;

use chrono::NaiveDate;

/// A 5-character issue code (`72030`, `130A0`); 4-character input gains the trailing "0".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct IssueCode(String);

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidCode;

impl IssueCode {
    /// Accepts 4 or 5 ASCII digits or uppercase letters.
    pub(crate) fn parse(raw: &str) -> Result<Self, InvalidCode> {
        let well_formed = matches!(raw.len(), 4 | 5)
            && raw
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        match (well_formed, raw.len()) {
            (false, _) => Err(InvalidCode),
            (true, 4) => Ok(Self(format!("{raw}0"))),
            (true, _) => Ok(Self(raw.to_owned())),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IssueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `YYYYMMDD` or `YYYY-MM-DD`; impossible dates such as `20240230` fail.
pub(crate) fn parse_date(raw: &str) -> Option<NaiveDate> {
    let format = match raw.len() {
        8 if raw.bytes().all(|b| b.is_ascii_digit()) => "%Y%m%d",
        10 if raw.as_bytes()[4] == b'-' && raw.as_bytes()[7] == b'-' => "%Y-%m-%d",
        _ => return None,
    };
    NaiveDate::parse_from_str(raw, format).ok()
}

/// The value of `name` among the query pairs, ignoring empty values; the last one wins.
pub(crate) fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_normalise_to_five_characters() {
        assert_eq!(
            IssueCode::parse("7203").map(|c| c.0),
            Ok("72030".to_owned())
        );
        assert_eq!(
            IssueCode::parse("72030").map(|c| c.0),
            Ok("72030".to_owned())
        );
        assert_eq!(
            IssueCode::parse("130A").map(|c| c.0),
            Ok("130A0".to_owned())
        );
        assert_eq!(
            IssueCode::parse("130A0").map(|c| c.0),
            Ok("130A0".to_owned())
        );
    }

    #[test]
    fn malformed_codes_are_refused() {
        for raw in ["", "720", "720300", "72 3", "130a0", "7203-", "７２０３"] {
            assert_eq!(IssueCode::parse(raw), Err(InvalidCode), "{raw:?}");
        }
    }

    #[test]
    fn dates_accept_both_formats_and_refuse_impossible_days() {
        let expected = NaiveDate::from_ymd_opt(2024, 1, 4);
        assert_eq!(parse_date("20240104"), expected);
        assert_eq!(parse_date("2024-01-04"), expected);
        for raw in [
            "20240230",
            "2024-02-30",
            "invalid-date-format",
            "2024/01/04",
            "2024-1-4",
            "",
        ] {
            assert_eq!(parse_date(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn empty_values_count_as_absent() {
        let pairs = vec![
            ("code".to_owned(), String::new()),
            ("date".to_owned(), "20240104".to_owned()),
        ];
        assert_eq!(value(&pairs, "code"), None);
        assert_eq!(value(&pairs, "date"), Some("20240104"));
    }
}
