//! The CLI's one error type. Each variant is a decision about what the user can do next, and
//! maps to its own exit code (listed in `moomoo --help`), so scripts can tell them apart.

/// The exit codes, as `moomoo --help` shows them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    unexpected error (local I/O, an answer the CLI cannot read)
  2    usage or configuration error (bad arguments, no API URL or key)
  3    the API refused the key (401) or the action (403)
  4    not found (404): no such job group, schedule, API key or credential for this key
  5    the API rejected the request (400, 409, other 4xx): the message says what to change
  6    the API is unreachable or unavailable (network, 5xx): retrying later may help
  7    the job group ended failed (fetch, groups watch, data get)
  130  interrupted by Ctrl-C: the job group keeps running on the server";

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or configuration; nothing was sent.
    #[error("{0}")]
    Usage(String),
    /// The API answered with an error; `detail` is its RFC 9457 `detail`.
    #[error("{detail} (HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// What the API said to change.
        detail: String,
    },
    /// No answer from the API at all.
    #[error("cannot reach the API at {url}: {cause}")]
    Unreachable {
        /// The URL called.
        url: String,
        /// The transport error and its causes.
        cause: String,
    },
    /// The job group ended `failed`; `hint` says how to go on.
    #[error("job group {id} ended failed: {message}\n{hint}")]
    GroupFailed {
        /// The group's id.
        id: String,
        /// The group's `error_message`.
        message: String,
        /// The commands that retry it or export what completed.
        hint: String,
    },
    /// Ctrl-C while following a group; the group itself goes on.
    #[error(
        "interrupted; job group {id} was not cancelled: it keeps running on the server.\n\
         Follow it again:  moomoo groups watch {id}\n\
         Write its rows:   moomoo export {id} --out FILE\n\
         Stop it:          moomoo groups cancel {id}"
    )]
    Interrupted {
        /// The group's id.
        id: String,
    },
    /// Ctrl-C during `moomoo data get`: nothing written; the job groups fetching what was
    /// missing go on.
    #[error("{}", interrupted_read(groups))]
    InterruptedRead {
        /// The groups created for the missing rows so far.
        groups: Vec<String>,
    },
    /// A local file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. "writing out.csv".
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Anything else: a malformed answer, a Parquet writer failure.
    #[error("{0}")]
    Unexpected(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Api { status, .. } => match status {
                401 | 403 => 3,
                404 => 4,
                400..=499 => 5,
                _ => 6,
            },
            CliError::Unreachable { .. } => 6,
            CliError::GroupFailed { .. } => 7,
            CliError::Interrupted { .. } | CliError::InterruptedRead { .. } => 130,
            CliError::Io { .. } | CliError::Unexpected(_) => 1,
        }
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
        let context = context.into();
        move |source| CliError::Io { context, source }
    }
}

fn interrupted_read(groups: &[String]) -> String {
    let Some(first) = groups.first() else {
        return "interrupted; nothing was written".to_owned();
    };
    format!(
        "interrupted; nothing was written. The job groups fetching what you did not hold ({}) \
         were not cancelled: they keep running on the server.\n\
         Follow one:  moomoo groups watch {first}\n\
         Run the same command again: it reads what they fetched, or waits for them",
        groups.join(", ")
    )
}

/// An error and its causes on one line, as `a: b: c`.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> CliError {
        CliError::Api {
            status,
            detail: "x".into(),
        }
    }

    #[test]
    fn each_kind_of_failure_has_its_own_exit_code() {
        let codes: Vec<u8> = [
            CliError::Usage("x".into()),
            api(401),
            api(403),
            api(404),
            api(400),
            api(409),
            api(503),
            CliError::Unreachable {
                url: "u".into(),
                cause: "c".into(),
            },
            CliError::GroupFailed {
                id: "g".into(),
                message: "m".into(),
                hint: "h".into(),
            },
            CliError::Interrupted { id: "g".into() },
            CliError::InterruptedRead { groups: vec![] },
            CliError::Unexpected("x".into()),
        ]
        .iter()
        .map(CliError::exit_code)
        .collect();
        assert_eq!(codes, [2, 3, 3, 4, 5, 5, 6, 6, 7, 130, 130, 1]);
    }

    #[test]
    fn every_exit_code_is_documented() {
        for code in [0, 1, 2, 3, 4, 5, 6, 7, 130] {
            assert!(
                EXIT_CODES.contains(&format!("\n  {code} ")),
                "{code} is missing from the help"
            );
        }
    }

    #[test]
    fn the_interruption_says_how_to_reattach() {
        let text = CliError::Interrupted { id: "g1".into() }.to_string();
        assert!(text.contains("moomoo groups watch g1"), "{text}");
        assert!(text.contains("moomoo export g1"), "{text}");
        let text = CliError::InterruptedRead {
            groups: vec!["g1".into(), "g2".into()],
        }
        .to_string();
        assert!(
            text.contains("(g1, g2)") && text.contains("moomoo groups watch g1"),
            "{text}"
        );
    }
}
