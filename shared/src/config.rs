//! Configuration: the only module that reads the environment. Each function's variables are set
//! by `template.yaml`; locally the devstack resolves the same template into the same variables,
//! so the code and the template cannot disagree on names.

use std::collections::HashMap;

/// A required variable is missing or unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not set.
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// Set but not parseable.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// Variable name.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Names and settings every function may need. Functions read only the fields they use, but
/// the names are defined once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Users, API keys, credentials, data sources.
    pub accounts_table: String,
    /// Job groups and jobs.
    pub jobs_table: String,
    /// Rate-limit state.
    pub rate_limits_table: String,
    /// Where raw provider payloads are archived.
    pub raw_payload_bucket: String,
    /// The job queue URL.
    pub jobs_queue_url: String,
    /// The job queue's dead-letter queue URL.
    pub dead_letter_queue_url: String,
    /// KMS key id or alias that seals credentials.
    pub credentials_key_id: String,
    /// Secrets Manager id of the API-key hashing key.
    pub api_key_pepper_secret_id: String,
    /// Secrets Manager id of the admin bootstrap secret.
    pub admin_secret_id: String,
    /// Attempts a job gets before a transient failure fails it for good.
    pub max_attempts: u32,
    /// Seconds before a provider request times out.
    pub provider_timeout_secs: u32,
    /// Scheduler: how long a job group may stand still before its stranded jobs are sent
    /// again (`STALLED_AFTER_SECS`, 30 minutes by default).
    pub stalled_after_secs: u32,
    /// The API's per-user limits.
    pub limits: UserLimits,
    /// Fetcher: shared provider budgets are split fairly between their tenants
    /// (`shared::limiter::fair`); `FAIR_SHARE=off` makes them first come, first served (only
    /// to measure what fairness buys).
    pub fair_share: bool,
    /// How long fetched data is kept (`DATA_RETENTION_DAYS`; unset or 0: for ever). Older
    /// pieces of a holding count as missing and are never served; the bucket's lifecycle rule
    /// on `raw/` removes their pages with the same period.
    pub data_retention_days: Option<u32>,
}

/// Per-user limits the API enforces (429 with `Retry-After` and the limit named when one is
/// exceeded; nothing is stored then). Each has a variable and a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserLimits {
    /// Jobs a user's groups not ended may hold together (`MAX_ACTIVE_JOBS_PER_USER`, 50,000).
    pub max_active_jobs: u32,
    /// Job groups a user may create a minute (`MAX_GROUPS_PER_MINUTE`, 10).
    pub groups_per_minute: u32,
    /// Schedules a user may hold (`MAX_SCHEDULES_PER_USER`, 20).
    pub schedules_per_user: u32,
    /// Shortest time between two fires of a schedule, in minutes
    /// (`MIN_SCHEDULE_INTERVAL_MINUTES`, 5).
    pub min_schedule_interval_minutes: u32,
    /// Symbols one group may name (`MAX_SYMBOLS_PER_GROUP`, 10,000: the catalog's own cap).
    pub symbols_per_group: u32,
    /// Credential checks (`PUT /v1/credentials/...?verify=true`) a user may make a minute
    /// (`MAX_CREDENTIAL_CHECKS_PER_MINUTE`, 3).
    pub credential_checks_per_minute: u32,
}

impl Default for UserLimits {
    fn default() -> Self {
        Self {
            max_active_jobs: 50_000,
            groups_per_minute: 10,
            schedules_per_user: 20,
            min_schedule_interval_minutes: 5,
            symbols_per_group: 10_000,
            credential_checks_per_minute: 3,
        }
    }
}

impl Config {
    /// [`Config::data_retention_days`] as a duration.
    pub fn retention(&self) -> Option<chrono::TimeDelta> {
        self.data_retention_days
            .map(|d| chrono::TimeDelta::days(i64::from(d)))
    }

    /// Reads the process environment.
    #[allow(clippy::disallowed_methods)]
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads from a map (the devstack's resolved template variables).
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(|k| vars.get(k).cloned())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let req = |name: &'static str| {
            get(name)
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let number = |name: &'static str, default: u32| match get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(ConfigError::Invalid {
                    name,
                    reason: format!("`{v}` is not a positive integer"),
                }),
        };
        let d = UserLimits::default();
        Ok(Self {
            accounts_table: req("ACCOUNTS_TABLE")?,
            jobs_table: req("JOBS_TABLE")?,
            rate_limits_table: req("RATE_LIMITS_TABLE")?,
            raw_payload_bucket: req("RAW_PAYLOAD_BUCKET")?,
            jobs_queue_url: req("JOBS_QUEUE_URL")?,
            dead_letter_queue_url: req("DEAD_LETTER_QUEUE_URL")?,
            credentials_key_id: req("CREDENTIALS_KEY_ID")?,
            api_key_pepper_secret_id: req("API_KEY_PEPPER_SECRET_ID")?,
            admin_secret_id: req("ADMIN_SECRET_ID")?,
            max_attempts: number("MAX_ATTEMPTS", 5)?,
            provider_timeout_secs: number("PROVIDER_TIMEOUT_SECS", 20)?,
            stalled_after_secs: number("STALLED_AFTER_SECS", 1800)?,
            fair_share: !matches!(get("FAIR_SHARE").as_deref(), Some("off" | "false" | "0")),
            data_retention_days: match get("DATA_RETENTION_DAYS").as_deref() {
                None | Some("" | "0") => None,
                Some(v) => Some(v.parse::<u32>().map_err(|_| ConfigError::Invalid {
                    name: "DATA_RETENTION_DAYS",
                    reason: format!("`{v}` is not a number of days"),
                })?),
            },
            limits: UserLimits {
                max_active_jobs: number("MAX_ACTIVE_JOBS_PER_USER", d.max_active_jobs)?,
                groups_per_minute: number("MAX_GROUPS_PER_MINUTE", d.groups_per_minute)?,
                schedules_per_user: number("MAX_SCHEDULES_PER_USER", d.schedules_per_user)?,
                min_schedule_interval_minutes: number(
                    "MIN_SCHEDULE_INTERVAL_MINUTES",
                    d.min_schedule_interval_minutes,
                )?,
                symbols_per_group: number("MAX_SYMBOLS_PER_GROUP", d.symbols_per_group)?,
                credential_checks_per_minute: number(
                    "MAX_CREDENTIAL_CHECKS_PER_MINUTE",
                    d.credential_checks_per_minute,
                )?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_have_defaults_and_read_their_variables() {
        let mut vars: HashMap<String, String> = [
            "ACCOUNTS_TABLE",
            "JOBS_TABLE",
            "RATE_LIMITS_TABLE",
            "RAW_PAYLOAD_BUCKET",
            "JOBS_QUEUE_URL",
            "DEAD_LETTER_QUEUE_URL",
            "CREDENTIALS_KEY_ID",
            "API_KEY_PEPPER_SECRET_ID",
            "ADMIN_SECRET_ID",
        ]
        .into_iter()
        .map(|k| (k.to_owned(), "x".to_owned()))
        .collect();
        assert_eq!(
            Config::from_map(&vars).unwrap().limits,
            UserLimits::default()
        );
        vars.insert("MAX_GROUPS_PER_MINUTE".into(), "2".into());
        assert_eq!(Config::from_map(&vars).unwrap().limits.groups_per_minute, 2);
        vars.insert("MAX_SCHEDULES_PER_USER".into(), "0".into());
        assert!(Config::from_map(&vars).is_err());
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = Config::from_map(&HashMap::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable ACCOUNTS_TABLE is not set"
        );
    }
}
