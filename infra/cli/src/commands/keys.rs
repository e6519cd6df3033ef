//! `moomoo keys list|create|revoke|rotate`: the user's own API keys. A new key's secret is
//! printed once, on stdout (so it can be captured), with a reminder on stderr; listings never
//! hold secrets.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Api, segment};
use crate::args::KeysCommand;
use crate::commands::print_json;
use crate::error::CliError;

/// Runs a `keys` command.
///
/// # Errors
/// The API's refusal: 404 for an unknown key, 409 for the 11th active key or the last one.
pub async fn run(api: &Api, cmd: &KeysCommand, json: bool) -> Result<(), CliError> {
    match cmd {
        KeysCommand::List => {
            let listing: Value = api.call(Method::GET, "/v1/api-keys", None).await?;
            if json {
                return print_json(&listing);
            }
            let keys = listing["api_keys"].as_array().cloned().unwrap_or_default();
            for k in &keys {
                println!("{}", describe(k));
            }
            Ok(())
        }
        KeysCommand::Create { name } => {
            let body = match name {
                Some(n) => json!({"name": n}),
                None => json!({}),
            };
            let key: Value = api.call(Method::POST, "/v1/api-keys", Some(&body)).await?;
            show_secret(&key, json, "created")
        }
        KeysCommand::Revoke { id } => {
            let path = format!("/v1/api-keys/{}", segment(id)?);
            api.call_no_content(Method::DELETE, &path).await?;
            if json {
                return print_json(&json!({"id": id, "revoked": true}));
            }
            println!("revoked API key {id}: it no longer works");
            Ok(())
        }
        KeysCommand::Rotate { id } => {
            let path = format!("/v1/api-keys/{}/rotate", segment(id)?);
            let key: Value = api.call(Method::POST, &path, None).await?;
            show_secret(&key, json, &format!("rotated {id} (revoked now) to"))
        }
    }
}

fn show_secret(key: &Value, json: bool, what: &str) -> Result<(), CliError> {
    if json {
        return print_json(key);
    }
    let text = |k: &str| key[k].as_str().unwrap_or("-");
    println!("{what} API key {}", describe(key));
    println!("{}", text("api_key"));
    eprintln!(
        "the secret above is shown once: store it now (MOOMOO_API_KEY or api_key in the config file)"
    );
    Ok(())
}

/// A key on one line: id, state, prefix, name, creation.
fn describe(k: &Value) -> String {
    let text = |f: &str| k[f].as_str().unwrap_or("-");
    let state = match k["revoked_at"].as_str() {
        Some(t) => format!("revoked {t}"),
        None => "active".into(),
    };
    format!(
        "{}  {:<8}  {}…  {}  created {}",
        text("id"),
        state,
        text("display_prefix"),
        k["name"].as_str().unwrap_or("(no name)"),
        text("created_at"),
    )
}
