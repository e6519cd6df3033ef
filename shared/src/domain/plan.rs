//! A provider subscription plan. It decides the rate limit and the data window the provider
//! grants the user's account.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate};
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

/// The dates a plan's account may read (jquants-api.md §5.1), both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataWindow {
    /// The oldest date.
    pub from: NaiveDate,
    /// The newest date.
    pub to: NaiveDate,
}

impl Plan {
    /// The dates the provider lets this plan read when the exchange's date is `today`: Free
    /// sees two years ending 12 weeks ago; Light 5, Standard 10 and Premium 20 years up to
    /// today. The markets calendar reaches to the end of next year on paid plans.
    pub fn data_window(self, today: NaiveDate, calendar: bool) -> DataWindow {
        let back = |years: u32, from: NaiveDate| {
            from.checked_sub_months(Months::new(12 * years))
                .unwrap_or(NaiveDate::MIN)
        };
        let end_of_next_year = NaiveDate::from_ymd_opt(today.year() + 1, 12, 31).unwrap_or(today);
        let paid_to = if calendar { end_of_next_year } else { today };
        match self {
            Plan::Free => {
                let to = today
                    .checked_sub_days(Days::new(84))
                    .unwrap_or(NaiveDate::MIN);
                DataWindow {
                    from: back(2, to),
                    to,
                }
            }
            Plan::Light => DataWindow {
                from: back(5, today),
                to: paid_to,
            },
            Plan::Standard => DataWindow {
                from: back(10, today),
                to: paid_to,
            },
            Plan::Premium => DataWindow {
                from: back(20, today),
                to: paid_to,
            },
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
