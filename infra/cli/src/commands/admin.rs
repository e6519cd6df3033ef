//! `moomoo admin bootstrap | users create|ls|disable|enable|revoke-keys|issue-key |
//! data-sources put|ls`: the first administrator's bootstrap (with the admin secret), users
//! and an administrator's kill switches, and the data sources a deployment offers (with the
//! real providers' base URLs unless told otherwise). A key's secret (bootstrap, create,
//! issue-key) is printed once on stdout, with a reminder on stderr.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Api, segment};
use crate::args::{AdminCommand, DataSourcePutArgs, DataSourcesCommand, KnownSource, UsersCommand};
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
        AdminCommand::DataSources(d) => data_sources(api, d, json).await,
    }
}

async fn users(api: &Api, cmd: &UsersCommand, json: bool) -> Result<(), CliError> {
    let (id, action) = match cmd {
        UsersCommand::Create { name } => {
            let created: Value = api
                .call(
                    Method::POST,
                    "/v1/admin/users",
                    Some(&json!({"name": name})),
                )
                .await?;
            let id = created["user_id"].as_str().unwrap_or("-").to_owned();
            return show_secret(&created, json, &format!("user {id} ({name}) created"));
        }
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

/// What `data-sources put` defines for a source unless told otherwise: the real provider
/// (jquants-api.md §1, yahoo-api.md) and deployment-wide limits on top of each plan's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceDefaults {
    /// Display name.
    pub name: &'static str,
    /// What it offers.
    pub description: &'static str,
    /// `jquants` or `yfinance`.
    pub provider_type: &'static str,
    /// `v1` or `v2`.
    pub api_version: &'static str,
    /// Where requests go.
    pub base_url: &'static str,
    /// Requests a minute, an hour, a day across the deployment.
    pub limits: [u32; 3],
}

/// The defaults of `source`.
pub fn defaults(source: KnownSource) -> SourceDefaults {
    match source {
        KnownSource::JquantsV2 => SourceDefaults {
            name: "J-Quants",
            description: "JPX J-Quants API V2",
            provider_type: "jquants",
            api_version: "v2",
            base_url: "https://api.jquants.com/v2",
            limits: [500, 30_000, 720_000],
        },
        KnownSource::JquantsV1 => SourceDefaults {
            name: "J-Quants V1",
            description: "JPX J-Quants API V1 (token auth, retired upstream 2026-06-01)",
            provider_type: "jquants",
            api_version: "v1",
            base_url: "https://api.jquants.com/v1",
            limits: [500, 30_000, 720_000],
        },
        // Yahoo publishes no limits; about a request a second is what users report holds
        // (yahoo-api.md §3, §5.1). Its `api_version` means nothing but is required.
        KnownSource::Yahoo => SourceDefaults {
            name: "Yahoo Finance",
            description: "Yahoo Finance charts and quotes (no account)",
            provider_type: "yfinance",
            api_version: "v2",
            base_url: "https://query2.finance.yahoo.com",
            limits: [60, 2_000, 20_000],
        },
    }
}

/// The body of `PUT /v1/admin/data-sources/{id}` for `args`: the source's defaults with
/// what the options change.
pub fn put_body(args: &DataSourcePutArgs) -> Value {
    let d = defaults(args.id);
    let [minute, hour, day] = d.limits;
    json!({
        "name": d.name,
        "description": d.description,
        "provider_type": d.provider_type,
        "is_enabled": !args.disabled,
        "base_url": args.base_url.as_deref().unwrap_or(d.base_url),
        "api_version": d.api_version,
        "rate_limit_per_minute": args.per_minute.unwrap_or(minute),
        "rate_limit_per_hour": args.per_hour.unwrap_or(hour),
        "rate_limit_per_day": args.per_day.unwrap_or(day),
    })
}

async fn data_sources(api: &Api, cmd: &DataSourcesCommand, json: bool) -> Result<(), CliError> {
    match cmd {
        DataSourcesCommand::Put(args) => {
            let path = format!("/v1/admin/data-sources/{}", args.id.as_str());
            let stored: Value = api.call(Method::PUT, &path, Some(&put_body(args))).await?;
            if json {
                return print_json(&stored);
            }
            println!("{}", describe_source(&stored));
            Ok(())
        }
        DataSourcesCommand::Ls => {
            let listing: Value = api.call(Method::GET, "/v1/data-sources", None).await?;
            if json {
                return print_json(&listing);
            }
            for ds in listing["data"].as_array().into_iter().flatten() {
                let text = |f: &str| ds[f].as_str().unwrap_or("-");
                let endpoints = ds["endpoints"].as_array().map_or(0, Vec::len);
                let protocol = format!("{} {}", text("provider_type"), text("api_version"));
                println!(
                    "{:<10}  {protocol:<11}  {:<14}  {endpoints} endpoints",
                    text("id"),
                    text("name"),
                );
            }
            Ok(())
        }
    }
}

/// A stored data source on one line: id, state, protocol, base URL, limits.
fn describe_source(ds: &Value) -> String {
    let text = |f: &str| ds[f].as_str().unwrap_or("-");
    format!(
        "data source {} {} ({} {}) at {}, at most {}/minute, {}/hour, {}/day",
        text("id"),
        if ds["is_enabled"] == json!(true) {
            "enabled"
        } else {
            "disabled"
        },
        text("provider_type"),
        text("api_version"),
        text("base_url"),
        ds["rate_limit_per_minute"],
        ds["rate_limit_per_hour"],
        ds["rate_limit_per_day"],
    )
}

fn show_secret(answer: &Value, json: bool, what: &str) -> Result<(), CliError> {
    if json {
        return print_json(answer);
    }
    println!("{what}; its API key, shown once:");
    println!("{}", answer["api_key"].as_str().unwrap_or("-"));
    eprintln!("the API key above is shown once: store it now, or hand it to its user");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    fn put(words: &[&str]) -> DataSourcePutArgs {
        let cli = Cli::try_parse_from(
            ["moomoo", "admin", "data-sources", "put"]
                .iter()
                .chain(words),
        )
        .unwrap();
        let Command::Admin(AdminCommand::DataSources(DataSourcesCommand::Put(args))) = cli.command
        else {
            panic!("not data-sources put")
        };
        args
    }

    #[test]
    fn each_source_defaults_to_its_real_provider() {
        let body = put(&["jquants-v2"]);
        assert_eq!(
            put_body(&body),
            json!({"name": "J-Quants", "description": "JPX J-Quants API V2",
                "provider_type": "jquants", "is_enabled": true,
                "base_url": "https://api.jquants.com/v2", "api_version": "v2",
                "rate_limit_per_minute": 500, "rate_limit_per_hour": 30000,
                "rate_limit_per_day": 720000})
        );
        let v1 = put_body(&put(&["jquants-v1"]));
        assert_eq!(
            (&v1["provider_type"], &v1["api_version"], &v1["base_url"]),
            (
                &json!("jquants"),
                &json!("v1"),
                &json!("https://api.jquants.com/v1")
            )
        );
        let yahoo = put_body(&put(&["yahoo"]));
        assert_eq!(
            (&yahoo["provider_type"], &yahoo["base_url"]),
            (
                &json!("yfinance"),
                &json!("https://query2.finance.yahoo.com")
            )
        );
        assert_eq!(yahoo["rate_limit_per_minute"], 60);
    }

    #[test]
    fn options_change_the_url_the_state_and_the_limits() {
        let body = put_body(&put(&[
            "jquants-v2",
            "--base-url",
            "http://127.0.0.1:41234/v2",
            "--disabled",
            "--per-minute",
            "60",
            "--per-day",
            "1000",
        ]));
        assert_eq!(body["base_url"], "http://127.0.0.1:41234/v2");
        assert_eq!(body["is_enabled"], false);
        assert_eq!(
            (
                &body["rate_limit_per_minute"],
                &body["rate_limit_per_hour"],
                &body["rate_limit_per_day"]
            ),
            (&json!(60), &json!(30000), &json!(1000))
        );
    }

    #[test]
    fn unknown_sources_and_zero_limits_are_usage_errors() {
        for bad in [
            &["jquants"][..],
            &["jquants-v3"],
            &["yahoo", "--per-hour", "0"],
        ] {
            let e =
                Cli::try_parse_from(["moomoo", "admin", "data-sources", "put"].iter().chain(bad))
                    .unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
        let e = Cli::try_parse_from(["moomoo", "admin", "data-sources", "put", "x"]).unwrap_err();
        let text = e.to_string();
        assert!(
            ["jquants-v2", "jquants-v1", "yahoo"]
                .iter()
                .all(|id| text.contains(id)),
            "the error lists the known sources: {text}"
        );
    }

    #[test]
    fn a_stored_source_is_described_on_one_line() {
        let line = describe_source(&json!({"id": "yahoo", "is_enabled": false,
            "provider_type": "yfinance", "api_version": "v2",
            "base_url": "https://query2.finance.yahoo.com", "rate_limit_per_minute": 60,
            "rate_limit_per_hour": 2000, "rate_limit_per_day": 20000}));
        assert_eq!(
            line,
            "data source yahoo disabled (yfinance v2) at https://query2.finance.yahoo.com, at most 60/minute, 2000/hour, 20000/day"
        );
    }

    #[test]
    fn users_create_takes_a_name() {
        let cli = Cli::try_parse_from(["moomoo", "admin", "users", "create", "alice"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Admin(AdminCommand::Users(UsersCommand::Create { ref name })) if name == "alice"
        ));
        let e = Cli::try_parse_from(["moomoo", "admin", "users", "create"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
