//! What a sandbox instance is told at start: its API keys and plans, page size and "today".

use std::fmt;
use std::str::FromStr;

use chrono::{Months, NaiveDate, TimeDelta, Utc};

/// A J-Quants subscription plan; it decides the date window, the row shape, which endpoints
/// answer and the request rate. Plans order from Free (lowest) to Premium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Plan {
    /// 2 years of data, delayed 12 weeks.
    Free,
    /// 5 years.
    Light,
    /// 10 years.
    Standard,
    /// 20 years, plus the morning/afternoon session fields.
    Premium,
}

/// The text was not one of `free`, `light`, `standard`, `premium`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPlan(pub String);

impl fmt::Display for UnknownPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown plan {:?} (expected free, light, standard or premium)",
            self.0
        )
    }
}

impl std::error::Error for UnknownPlan {}

impl FromStr for Plan {
    type Err = UnknownPlan;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "free" => Ok(Self::Free),
            "light" => Ok(Self::Light),
            "standard" => Ok(Self::Standard),
            "premium" => Ok(Self::Premium),
            _ => Err(UnknownPlan(s.to_owned())),
        }
    }
}

/// The inclusive date range a plan may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First visible day.
    pub from: NaiveDate,
    /// Last visible day.
    pub to: NaiveDate,
}

impl Window {
    /// Whether `date` lies inside the window.
    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.from..=self.to).contains(&date)
    }
}

impl Plan {
    /// Requests per minute the plan allows (reference §4.1).
    pub fn requests_per_minute(self) -> u32 {
        match self {
            Self::Free => 5,
            Self::Light => 60,
            Self::Standard => 120,
            Self::Premium => 500,
        }
    }

    /// The plan's name as the dashboard writes it (`Free`, `Light`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Free => "Free",
            Self::Light => "Light",
            Self::Standard => "Standard",
            Self::Premium => "Premium",
        }
    }

    /// The dates this plan may request when the exchange's current date is `today`.
    pub fn window(self, today: NaiveDate) -> Window {
        const TWELVE_WEEKS: chrono::Days = chrono::Days::new(84);
        let years_back = |years: u32, from: NaiveDate| {
            from.checked_sub_months(Months::new(12 * years))
                .unwrap_or(NaiveDate::MIN)
        };
        match self {
            Self::Free => {
                let to = today
                    .checked_sub_days(TWELVE_WEEKS)
                    .unwrap_or(NaiveDate::MIN);
                Window {
                    from: years_back(2, to),
                    to,
                }
            }
            Self::Light => Window {
                from: years_back(5, today),
                to: today,
            },
            Self::Standard => Window {
                from: years_back(10, today),
                to: today,
            },
            Self::Premium => Window {
                from: years_back(20, today),
                to: today,
            },
        }
    }
}

/// One accepted API key. `Debug` hides the key.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySpec {
    /// The `x-api-key` value.
    pub key: String,
    /// The plan it subscribes to.
    pub plan: Plan,
}

impl fmt::Debug for ApiKeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeySpec")
            .field("key", &"<redacted>")
            .field("plan", &self.plan)
            .finish()
    }
}

impl FromStr for ApiKeySpec {
    type Err = UnknownPlan;

    /// Parses `KEY:PLAN`; the key may itself contain colons.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (key, plan) = s
            .rsplit_once(':')
            .ok_or_else(|| UnknownPlan(String::new()))?;
        Ok(Self {
            key: key.to_owned(),
            plan: plan.parse()?,
        })
    }
}

/// How a sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Accepted API keys; every other key gets 403.
    pub keys: Vec<ApiKeySpec>,
    /// Rows per page before a `pagination_key` is issued (at least 1).
    pub page_size: usize,
    /// The exchange's current date; `None` follows the clock in Asia/Tokyo.
    pub today: Option<NaiveDate>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            page_size: 1000,
            today: None,
        }
    }
}

impl SandboxConfig {
    /// The current date at the exchange (UTC+9, Japan has no daylight saving) when the server
    /// starts; afterwards the sandbox clock ([`crate::Sandbox::advance_clock`]) moves it.
    pub fn today(&self) -> NaiveDate {
        self.today
            .unwrap_or_else(|| (Utc::now() + TimeDelta::hours(9)).date_naive())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn plans_parse_case_insensitively() {
        assert_eq!("free".parse(), Ok(Plan::Free));
        assert_eq!("Premium".parse(), Ok(Plan::Premium));
        assert!("gold".parse::<Plan>().is_err());
        assert!(Plan::Free < Plan::Light && Plan::Standard < Plan::Premium);
        assert_eq!(Plan::Free.requests_per_minute(), 5);
    }

    #[test]
    fn key_specs_split_on_the_last_colon() {
        let spec: ApiKeySpec = "a:b:light".parse().expect("valid spec");
        assert_eq!((spec.key.as_str(), spec.plan), ("a:b", Plan::Light));
        assert!("nokey".parse::<ApiKeySpec>().is_err());
        assert!(!format!("{spec:?}").contains("a:b"));
    }

    #[test]
    fn windows_follow_the_reference() {
        let today = day("2026-11-20");
        let free = Plan::Free.window(today);
        assert_eq!((free.from, free.to), (day("2024-08-28"), day("2026-08-28")));
        assert_eq!(Plan::Light.window(today).from, day("2021-11-20"));
        assert_eq!(Plan::Standard.window(today).from, day("2016-11-20"));
        let premium = Plan::Premium.window(today);
        assert_eq!((premium.from, premium.to), (day("2006-11-20"), today));
    }
}
