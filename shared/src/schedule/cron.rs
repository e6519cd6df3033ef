//! When a schedule fires: a five-field cron expression evaluated in an IANA time zone.

use std::fmt;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};

use super::ScheduleError;

/// The zone a schedule is evaluated in when the user names none: the exchange's.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Tokyo;

/// A parsed cron expression (minute hour day-of-month month day-of-week, Vixie semantics:
/// day-of-month and day-of-week match when either does) and its time zone.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "CronText", into = "CronText")]
pub struct CronSpec {
    text: CronText,
    zone: Tz,
    cron: Cron,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CronText {
    cron: String,
    time_zone: String,
}

impl CronSpec {
    /// Parses `expr` in `zone` (`None`: Asia/Tokyo).
    ///
    /// # Errors
    /// An expression that is not five fields of valid cron, or an unknown zone.
    pub fn parse(expr: &str, zone: Option<&str>) -> Result<Self, ScheduleError> {
        let zone: Tz = match zone {
            None => DEFAULT_TIME_ZONE,
            Some(z) => z.parse().map_err(|_| {
                ScheduleError(format!(
                    "unknown time zone `{z}`: use an IANA name such as Asia/Tokyo or UTC"
                ))
            })?,
        };
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(expr)
            .map_err(|e| {
                ScheduleError(format!(
                    "`{expr}` is not a five-field cron expression (minute hour day-of-month month day-of-week): {e}"
                ))
            })?;
        Ok(Self {
            text: CronText {
                cron: expr.trim().to_owned(),
                time_zone: zone.name().to_owned(),
            },
            zone,
            cron,
        })
    }

    /// The first fire strictly after `t`; `None` when the expression never fires again.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // From the whole second: the search keeps its start's fraction, which would put every
        // fire a fraction of a second past its minute.
        let t = t.with_nanosecond(0).unwrap_or(t);
        self.cron
            .find_next_occurrence(&t.with_timezone(&self.zone), false)
            .ok()
            .map(|local| local.with_timezone(&Utc))
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.text.cron
    }

    /// The zone it is evaluated in.
    pub fn zone(&self) -> Tz {
        self.zone
    }
}

impl fmt::Debug for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSpec({} in {})", self.text.cron, self.text.time_zone)
    }
}

impl PartialEq for CronSpec {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl TryFrom<CronText> for CronSpec {
    type Error = ScheduleError;
    fn try_from(t: CronText) -> Result<Self, ScheduleError> {
        Self::parse(&t.cron, Some(&t.time_zone))
    }
}

impl From<CronSpec> for CronText {
    fn from(c: CronSpec) -> Self {
        c.text
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn fires_in_its_zone() {
        let spec = CronSpec::parse("0 18 * * 1-5", None).unwrap();
        // Friday 2026-11-27 12:00 UTC = 21:00 in Tokyo: next is Monday 18:00 JST = 09:00 UTC.
        let t = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        assert_eq!(
            spec.next_after(t),
            Some(Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap())
        );
        // Strictly after: a fire time itself is not its own next fire.
        let fire = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        assert_eq!(
            spec.next_after(fire),
            Some(Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap())
        );
    }

    /// A fire falls on its minute, whatever fraction of a second the search starts from.
    #[test]
    fn fires_on_the_whole_minute() {
        let spec = CronSpec::parse("55 0 * * *", Some("UTC")).unwrap();
        let fire = Utc.with_ymd_and_hms(2026, 12, 7, 0, 55, 0).unwrap();
        let before = Utc.with_ymd_and_hms(2026, 12, 7, 0, 25, 7).unwrap()
            + chrono::TimeDelta::nanoseconds(355_336_409);
        assert_eq!(spec.next_after(before), Some(fire));
        // A moment past the fire: the next day's.
        let after = fire + chrono::TimeDelta::milliseconds(300);
        assert_eq!(
            spec.next_after(after),
            Some(fire + chrono::TimeDelta::days(1))
        );
    }

    #[test]
    fn refuses_what_it_cannot_evaluate() {
        assert!(CronSpec::parse("0 0 18 * * *", None).is_err(), "seconds");
        assert!(CronSpec::parse("61 * * * *", None).is_err());
        assert!(CronSpec::parse("0 18 * *", None).is_err());
        let e = CronSpec::parse("0 18 * * *", Some("Mars/Olympus")).unwrap_err();
        assert!(e.0.contains("time zone"), "{e}");
    }

    #[test]
    fn round_trips_through_serde() {
        let spec = CronSpec::parse("30 7 * * MON-FRI", Some("Europe/London")).unwrap();
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"cron": "30 7 * * MON-FRI", "time_zone": "Europe/London"})
        );
        assert_eq!(serde_json::from_value::<CronSpec>(json).unwrap(), spec);
    }
}
