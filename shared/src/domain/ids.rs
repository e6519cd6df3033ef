//! Identifiers. Each is a newtype so a job id cannot be passed where a group id is expected, and
//! each parses its text form at the edge (path parameters, queue messages, stored items).

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered id (UUID v7), so ids sort by creation time.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the text form `<prefix>_<uuid>`.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                s.strip_prefix(concat!($prefix, "_"))
                    .and_then(|rest| Uuid::try_parse(rest).ok())
                    .map(Self)
                    .ok_or(IdError { kind: stringify!($name) })
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                string_schema(concat!("^", $prefix, "_[0-9a-f]{32}$"))
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "_{}"), self.0.simple())
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

uuid_id!(
    /// A user of our API.
    UserId, "usr"
);
uuid_id!(
    /// A job group: one request (or one scheduled run) over many symbols.
    JobGroupId, "grp"
);
uuid_id!(
    /// One API key of a user (not the key itself: the key is never stored).
    ApiKeyId, "key"
);
uuid_id!(
    /// A user's schedule of recurring job groups.
    ScheduleId, "sch"
);

impl JobGroupId {
    /// The group of one scheduled run: a UUID v7 whose time part is the fire time and whose
    /// other bits come from the schedule and the chunk. Every scheduler handling the same fire
    /// names the same group, so the store's create-if-absent is the claim that lets exactly
    /// one of them create it.
    pub fn for_fire(schedule: ScheduleId, at: chrono::DateTime<chrono::Utc>, chunk: u16) -> Self {
        let mut tail = [0u8; 10];
        tail.copy_from_slice(&schedule.0.as_bytes()[6..]);
        let [hi, lo] = chunk.to_be_bytes();
        tail[8] ^= hi;
        tail[9] ^= lo;
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or_default();
        Self(uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid())
    }
}

/// A text schema with a pattern, for the ids' OpenAPI schemas.
#[cfg(feature = "openapi")]
pub(crate) fn string_schema(
    pattern: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(pattern))
        .into()
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for DataSourceId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema("^[a-z0-9-]{1,40}$")
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for DataSourceId {}

/// A text that is not a valid id of the named kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind}")]
pub struct IdError {
    kind: &'static str,
}

/// A job's position inside its group, from 0. Jobs are numbered, not randomly named, so a
/// fan-out that is repeated after a crash writes the same ids again instead of new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(u32);

impl JobId {
    /// The job at `index` in its group.
    pub fn new(index: u32) -> Self {
        Self(index)
    }

    /// The position in the group.
    pub fn index(self) -> u32 {
        self.0
    }

    /// Parses the decimal text form.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        s.parse().map(Self).map_err(|_| IdError { kind: "JobId" })
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A system-managed data source such as `jquants-v2`: lowercase letters, digits and dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DataSourceId(String);

impl DataSourceId {
    /// Parses an id: 1–40 characters of `[a-z0-9-]`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError {
                kind: "DataSourceId",
            })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DataSourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DataSourceId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<DataSourceId> for String {
    fn from(id: DataSourceId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_reject_other_kinds() {
        let g = JobGroupId::new();
        assert_eq!(JobGroupId::parse(&g.to_string()), Ok(g));
        assert!(UserId::parse(&g.to_string()).is_err());
        assert!(JobGroupId::parse("grp_not-a-uuid").is_err());
        assert_eq!(JobId::parse("42"), Ok(JobId::new(42)));
        assert!(JobId::parse("-1").is_err());
    }

    #[test]
    fn data_source_ids_are_restricted() {
        assert!(DataSourceId::parse("jquants-v2").is_ok());
        assert!(DataSourceId::parse("JQuants").is_err());
        assert!(DataSourceId::parse("").is_err());
        assert!(DataSourceId::parse("a/b").is_err());
    }
}
