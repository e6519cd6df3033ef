//! A provider subscription plan. It decides the rate limit and the data window the provider
//! grants the user's account.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// J-Quants plans (jquants-api.md §4.1, §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// 5 requests/min; data from 2 years 12 weeks ago to 12 weeks ago.
    Free,
    /// 60 requests/min; 5 years.
    Light,
    /// 120 requests/min; 10 years.
    Standard,
    /// 500 requests/min; 20 years.
    Premium,
}

impl Plan {
    /// The plan's text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Light => "light",
            Plan::Standard => "standard",
            Plan::Premium => "premium",
        }
    }

    /// Requests per minute the provider allows an account on this plan.
    pub fn requests_per_minute(self) -> u32 {
        match self {
            Plan::Free => 5,
            Plan::Light => 60,
            Plan::Standard => 120,
            Plan::Premium => 500,
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "free" => Ok(Plan::Free),
            "light" => Ok(Plan::Light),
            "standard" => Ok(Plan::Standard),
            "premium" => Ok(Plan::Premium),
            other => Err(format!(
                "unknown plan `{other}`: expected free, light, standard or premium"
            )),
        }
    }
}
