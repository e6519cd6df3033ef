//! Issue codes as J-Quants writes them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A TSE issue code in J-Quants' 5-character form (`72030`, `130A0`). Four-character input
/// (`7203`, `130A`) means the common stock and gets the trailing `0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IssueCode(String);

impl IssueCode {
    /// Parses 4 or 5 characters of ASCII digits and uppercase letters, the first a digit.
    pub fn parse(s: &str) -> Result<Self, String> {
        let valid_chars = s
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        let starts_with_digit = s.bytes().next().is_some_and(|b| b.is_ascii_digit());
        match s.len() {
            4 | 5 if valid_chars && starts_with_digit => {
                let mut code = s.to_owned();
                if code.len() == 4 {
                    code.push('0');
                }
                Ok(Self(code))
            }
            _ => Err(format!(
                "`{s}` is not an issue code: use 4 or 5 characters of digits and uppercase letters, such as 7203, 72030 or 130A0"
            )),
        }
    }

    /// The 5-character code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for IssueCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        super::ids::string_schema("^[0-9][0-9A-Z]{3,4}$")
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for IssueCode {}

impl fmt::Display for IssueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for IssueCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<IssueCode> for String {
    fn from(c: IssueCode) -> String {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::IssueCode;

    #[test]
    fn four_character_codes_gain_the_common_stock_suffix() {
        assert_eq!(IssueCode::parse("7203").unwrap().as_str(), "72030");
        assert_eq!(IssueCode::parse("130A").unwrap().as_str(), "130A0");
        assert_eq!(IssueCode::parse("86970").unwrap().as_str(), "86970");
    }

    #[test]
    fn malformed_codes_are_rejected() {
        for bad in ["", "720", "720300", "7203a", "A2030", "72 30", "７２０３"] {
            assert!(IssueCode::parse(bad).is_err(), "{bad}");
        }
    }
}
