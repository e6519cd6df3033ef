//! Where listings resume, as the API hands the positions out (URL-safe text):
//! - a user's job groups (newest first): the position after a group, as the jobs table's
//!   `gsi1` sorts it (creation time, then id): `<created_at in ns since the epoch>.<group id>`;
//! - a group's jobs (in id order): the job after which the next page starts, with its group
//!   so a cursor cannot be replayed on another listing: `<group id>.<job index>`.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::domain::{JobGroup, JobGroupId, JobId};

/// The position after a group in its user's listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCursor {
    created_at: DateTime<Utc>,
    id: JobGroupId,
}

impl GroupCursor {
    /// The position after `g`.
    pub fn after(g: &JobGroup) -> Self {
        Self {
            created_at: g.created_at,
            id: g.id,
        }
    }

    /// The group the listing resumes after.
    pub fn id(&self) -> JobGroupId {
        self.id
    }

    /// The cursor's text form, as [`fmt::Display`] writes it; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (nanos, id) = text.split_once('.')?;
        Some(Self {
            created_at: DateTime::from_timestamp_nanos(nanos.parse().ok()?),
            id: JobGroupId::parse(id).ok()?,
        })
    }

    /// The group's sort key in the index (`gsi1sk`): newest first is descending order.
    pub fn sort_key(&self) -> String {
        format!("{}#{}", self.created_at.to_rfc3339(), self.id)
    }
}

impl fmt::Display for GroupCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Creation times are within the years 1677..2262 that nanoseconds in an i64 cover.
        let nanos = self.created_at.timestamp_nanos_opt().unwrap_or_default();
        write!(f, "{nanos}.{}", self.id)
    }
}

/// The position after a job in its group's listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobCursor {
    group: JobGroupId,
    after: JobId,
}

/// The largest job index: the jobs table writes indexes with 8 digits.
const MAX_JOB_INDEX: u32 = 99_999_999;

impl JobCursor {
    /// The position after job `after` of `group`.
    pub fn new(group: JobGroupId, after: JobId) -> Self {
        Self { group, after }
    }

    /// The group whose listing it resumes.
    pub fn group(&self) -> JobGroupId {
        self.group
    }

    /// The job the listing resumes after.
    pub fn after(&self) -> JobId {
        self.after
    }

    /// The cursor's text form, as [`fmt::Display`] writes it; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (group, index) = text.split_once('.')?;
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let after = JobId::parse(index).ok()?;
        Some(Self {
            group: JobGroupId::parse(group).ok()?,
            after: (after.index() <= MAX_JOB_INDEX).then_some(after)?,
        })
    }
}

impl fmt::Display for JobCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.group, self.after)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_cursor_round_trips_through_its_url_safe_text() {
        let c = GroupCursor {
            created_at: Utc.timestamp_opt(1_764_199_000, 123_456_789).unwrap(),
            id: JobGroupId::new(),
        };
        let text = c.to_string();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "{text}"
        );
        assert_eq!(GroupCursor::parse(&text), Some(c));
        assert_eq!(
            c.sort_key(),
            format!("2025-11-26T23:16:40.123456789+00:00#{}", c.id)
        );
        for bad in ["", "1.", ".grp_x", "x.grp_0", "12"] {
            assert_eq!(GroupCursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_job_cursor_round_trips_and_refuses_tampering() {
        let c = JobCursor::new(JobGroupId::new(), JobId::new(41));
        let text = c.to_string();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "{text}"
        );
        assert_eq!(JobCursor::parse(&text), Some(c));
        let group = c.group().to_string();
        for bad in [
            String::new(),
            "41".into(),
            format!("{group}."),
            format!("{group}.-1"),
            format!("{group}.+1"),
            format!("{group}.100000000"),
            format!("{group}.1x"),
            format!("usr_{}.1", &group[4..]),
        ] {
            assert_eq!(JobCursor::parse(&bad), None, "{bad}");
        }
    }
}
