//! One file per command: each calls the API, then prints text (or `--json`) for the user.

pub mod admin;
pub mod credentials;
pub mod data;
pub mod export;
pub mod fetch;
pub mod groups;
pub mod keys;
pub mod schedules;

/// Prints `value` as pretty JSON on stdout (the `--json` output).
fn print_json(value: &impl serde::Serialize) -> Result<(), crate::CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::CliError::Unexpected(format!("rendering JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
