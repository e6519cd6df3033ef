//! `moomoo credentials set|show|delete <data_source>`: the user's provider secret (a V2 API
//! key, a V1 mail address and password, or a V1 refresh token), sealed by the API; only
//! metadata ever comes back.

use std::io::{IsTerminal, Read, Write};

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Api, segment};
use crate::args::CredentialsCommand;
use crate::commands::print_json;
use crate::error::CliError;

/// Runs a `credentials` command.
///
/// # Errors
/// The API's refusal (e.g. 400 when `--verify` finds the key refused, 404 for no credential).
pub async fn run(api: &Api, cmd: &CredentialsCommand, json: bool) -> Result<(), CliError> {
    match cmd {
        CredentialsCommand::Set {
            data_source,
            api_key,
            mail_address,
            refresh_token,
            plan,
            verify,
        } => {
            let secret = if let Some(k) = api_key {
                k.trim().to_owned()
            } else {
                let what = match (mail_address, refresh_token) {
                    (Some(_), _) => "password",
                    (None, true) => "refresh token",
                    (None, false) => "API key",
                };
                read_secret(data_source, what)?
            };
            if secret.is_empty() {
                return Err(CliError::Usage("the secret is empty".into()));
            }
            let path = format!(
                "/v1/credentials/{}{}",
                segment(data_source)?,
                if *verify { "?verify=true" } else { "" }
            );
            let body = body(
                &secret,
                mail_address.as_deref(),
                *refresh_token,
                plan.as_str(),
            );
            let meta: Value = api.call(Method::PUT, &path, Some(&body)).await?;
            if json {
                return print_json(&meta);
            }
            println!("stored your {data_source} key (sealed on the server)");
            describe(&meta);
            Ok(())
        }
        CredentialsCommand::Show { data_source } => {
            let path = format!("/v1/credentials/{}", segment(data_source)?);
            let meta: Value = api.call(Method::GET, &path, None).await?;
            if json {
                return print_json(&meta);
            }
            describe(&meta);
            Ok(())
        }
        CredentialsCommand::Delete { data_source } => {
            let path = format!("/v1/credentials/{}", segment(data_source)?);
            api.call_no_content(Method::DELETE, &path).await?;
            if json {
                return print_json(&json!({"data_source": data_source, "deleted": true}));
            }
            println!("deleted your {data_source} key");
            Ok(())
        }
    }
}

/// The request body: the secret in the field its form names.
fn body(secret: &str, mail_address: Option<&str>, refresh_token: bool, plan: &str) -> Value {
    match (mail_address, refresh_token) {
        (Some(mail), _) => json!({"mail_address": mail, "password": secret, "plan": plan}),
        (None, true) => json!({"refresh_token": secret, "plan": plan}),
        (None, false) => json!({"api_key": secret, "plan": plan}),
    }
}

/// The secret (`what`: API key, password, refresh token) from stdin: one line after a prompt
/// at a terminal, else all of stdin (a pipe).
fn read_secret(data_source: &str, what: &str) -> Result<String, CliError> {
    let mut stdin = std::io::stdin();
    let mut key = String::new();
    if stdin.is_terminal() {
        eprint!("{data_source} {what} (input is shown): ");
        let _ = std::io::stderr().flush();
        stdin.read_line(&mut key)
    } else {
        stdin.read_to_string(&mut key)
    }
    .map_err(CliError::io("reading the secret from stdin"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(CliError::Usage(format!(
            "no {what} on stdin: pipe it in (e.g. `moomoo credentials set jquants-v2 --plan light < key.txt`) or pass --api-key"
        )));
    }
    Ok(key.to_owned())
}

fn describe(meta: &Value) {
    let text = |k: &str| meta[k].as_str().unwrap_or("-").to_owned();
    println!(
        "{}: plan {}, stored {}, updated {}",
        text("data_source_id"),
        text("plan"),
        text("created_at"),
        text("updated_at")
    );
    println!("  sealed with {}", text("key_arn"));
    for token in ["refresh_token", "id_token"] {
        if meta[token] != "absent" {
            println!(
                "  {token}: {} (expires {})",
                text(token),
                text(&format!("{token}_expired_at"))
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_form_sends_its_own_fields() {
        assert_eq!(
            body("k", None, false, "light"),
            json!({"api_key": "k", "plan": "light"})
        );
        assert_eq!(
            body("pw", Some("q@example.com"), false, "free"),
            json!({"mail_address": "q@example.com", "password": "pw", "plan": "free"})
        );
        assert_eq!(
            body("rt", None, true, "premium"),
            json!({"refresh_token": "rt", "plan": "premium"})
        );
    }
}
