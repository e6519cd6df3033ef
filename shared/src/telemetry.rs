//! Logging set-up shared by the binaries: JSON lines in Lambda (`AWS_LAMBDA_LOG_FORMAT=JSON`,
//! set by the template's `LoggingConfig`), plain text locally.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. The level comes from `AWS_LAMBDA_LOG_LEVEL`, then
/// `RUST_LOG`, then `info`.
pub fn init() {
    init_with_default("info");
}

/// Like [`init`], with another level when neither variable is set.
#[allow(clippy::disallowed_methods)]
pub fn init_with_default(default_level: &str) {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default_level.into());
    let filter =
        EnvFilter::try_new(level.to_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    // A second init (tests, the devstack hosting several functions) keeps the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
