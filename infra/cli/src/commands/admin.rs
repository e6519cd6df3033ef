//! `moomoo admin bootstrap | users ls|disable|enable|revoke-keys|issue-key`: the first
//! administrator's bootstrap (with the admin secret) and an administrator's kill switches. A
//! key's secret (bootstrap, issue-key) is printed once on stdout, with a reminder on stderr.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Api, segment};
use crate::args::{AdminCommand, UsersCommand};
use crate::commands::print_json;
use crate::error::CliError;

/// Users a listing page asks for.
const PAGE: u32 = 200;

/// Runs an `admin` command.
///
/// # Errors
/// The API's refusal: 401 for a wrong secret, 403 for a key that is not an administrator's,
/// 404 for an unknown user, 409 for a second bootstrap or an action on oneself.
pub async fn run(api: &Api, cmd: &AdminCommand, json: bool) -> Result<(), CliError> {
    match cmd {
        AdminCommand::Bootstrap { name } => {
            let created: Value = api
                .call(
                    Method::POST,
                    "/v1/admin/bootstrap",
                    Some(&json!({"name": name})),
                )
                .await?;
            let id = created["user_id"].as_str().unwrap_or("-").to_owned();
            show_secret(
                &created,
                json,
                &format!("administrator {id} ({name}) created"),
            )
        }
        AdminCommand::Users(u) => users(api, u, json).await,
    }
}

async fn users(api: &Api, cmd: &UsersCommand, json: bool) -> Result<(), CliError> {
    let (id, action) = match cmd {
        UsersCommand::Ls => return list(api, json).await,
        UsersCommand::Disable { id } => (id, "disable"),
        UsersCommand::Enable { id } => (id, "enable"),
        UsersCommand::RevokeKeys { id } => (id, "revoke-keys"),
        UsersCommand::IssueKey { id } => (id, "api-keys"),
    };
    let path = format!("/v1/admin/users/{}/{action}", segment(id)?);
    let answer: Value = api.call(Method::POST, &path, None).await?;
    if action == "api-keys" {
        return show_secret(
            &answer,
            json,
            &format!(
                "API key {} issued to user {id}",
                answer["id"].as_str().unwrap_or("-")
            ),
        );
    }
    if json {
        return print_json(&answer);
    }
    match action {
        "revoke-keys" => println!(
            "revoked {} API key(s) of user {id}: they no longer work (`moomoo admin users issue-key {id}` makes a new one)",
            answer["revoked"]
        ),
        _ => println!("{}", describe(&answer)),
    }
    Ok(())
}

/// Every page of users.
async fn list(api: &Api, json: bool) -> Result<(), CliError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/admin/users?limit={PAGE}&cursor={}", segment(c)?),
            None => format!("/v1/admin/users?limit={PAGE}"),
        };
        let page: Value = api.call(Method::GET, &path, None).await?;
        all.extend(page["users"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    if json {
        return print_json(&json!({"users": all}));
    }
    for u in &all {
        println!("{}", describe(u));
    }
    Ok(())
}

/// A user on one line: id, role, state, name, creation.
fn describe(u: &Value) -> String {
    let text = |f: &str| u[f].as_str().unwrap_or("-");
    format!(
        "{}  {:<5}  {:<8}  {}  created {}",
        text("user_id"),
        if u["is_admin"] == json!(true) {
            "admin"
        } else {
            "user"
        },
        if u["disabled"] == json!(true) {
            "disabled"
        } else {
            "enabled"
        },
        text("name"),
        text("created_at"),
    )
}

fn show_secret(answer: &Value, json: bool, what: &str) -> Result<(), CliError> {
    if json {
        return print_json(answer);
    }
    println!("{what}");
    println!("{}", answer["api_key"].as_str().unwrap_or("-"));
    eprintln!("the API key above is shown once: store it now, or hand it to its user");
    Ok(())
}
