//! Where a listing of a user's job groups (newest first) resumes: the position after a group,
//! as the jobs table's `gsi1` sorts it (creation time, then id), and as the API hands it out
//! (URL-safe text: `<created_at in ns since the epoch>.<group id>`).

use std::fmt;

use chrono::{DateTime, Utc};

use crate::domain::{JobGroup, JobGroupId};

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
}
