//! `moomoo schedules …` over `/v1/schedules`: list, show, create, and update, enable or disable
//! (each a read of the schedule, the change, and a `PUT` of the whole), delete.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::api::{Api, segment};
use crate::args::{ScheduleArgs, ScheduleUpdateArgs, SchedulesCommand};
use crate::commands::print_json;
use crate::error::CliError;

/// Runs a `schedules` command.
///
/// # Errors
/// The API's refusal: 400 with what to change (expression, endpoint, symbols, window, plan),
/// 404 for an unknown schedule, 409 for the 101st schedule or a change that raced a fire.
pub async fn run(api: &Api, cmd: &SchedulesCommand, json: bool) -> Result<(), CliError> {
    match cmd {
        SchedulesCommand::List => {
            let listing: Value = api.call(Method::GET, "/v1/schedules", None).await?;
            if json {
                return print_json(&listing);
            }
            let all = listing["schedules"].as_array().cloned().unwrap_or_default();
            if all.is_empty() {
                println!("no schedules");
            }
            for s in &all {
                println!("{}", one_line(s));
            }
            Ok(())
        }
        SchedulesCommand::Show { id } => {
            let s = get(api, id).await?;
            print(&s, json)
        }
        SchedulesCommand::Create(args) => {
            let s: Value = api
                .call(Method::POST, "/v1/schedules", Some(&create_body(args)))
                .await?;
            if !json {
                println!("created schedule {}", s["id"].as_str().unwrap_or("?"));
            }
            print(&s, json)
        }
        SchedulesCommand::Update(args) => {
            let mut body = body_of(&get(api, &args.id).await?);
            apply(&mut body, args);
            put(api, &args.id, &body, json).await
        }
        SchedulesCommand::Enable { id } | SchedulesCommand::Disable { id } => {
            let mut body = body_of(&get(api, id).await?);
            body["enabled"] = Value::Bool(matches!(cmd, SchedulesCommand::Enable { .. }));
            put(api, id, &body, json).await
        }
        SchedulesCommand::Delete { id } => {
            let path = format!("/v1/schedules/{}", segment(id)?);
            api.call_no_content(Method::DELETE, &path).await?;
            if json {
                return print_json(&json!({"id": id, "deleted": true}));
            }
            println!("deleted schedule {id}; the job groups it created stay");
            Ok(())
        }
    }
}

async fn get(api: &Api, id: &str) -> Result<Value, CliError> {
    api.call(
        Method::GET,
        &format!("/v1/schedules/{}", segment(id)?),
        None,
    )
    .await
}

async fn put(api: &Api, id: &str, body: &Value, json: bool) -> Result<(), CliError> {
    let path = format!("/v1/schedules/{}", segment(id)?);
    let s: Value = api.call(Method::PUT, &path, Some(body)).await?;
    print(&s, json)
}

fn create_body(args: &ScheduleArgs) -> Value {
    let mut template = json!({
        "data_source": args.data_source,
        "endpoint": args.dataset,
        "window": args.window.0,
    });
    if !args.symbols.is_empty() {
        template["symbols"] = json!(args.symbols);
    }
    if args.all_listed_issues {
        template["all_listed_issues"] = Value::Bool(true);
    }
    if !args.params.is_empty() {
        template["params"] = params(&args.params);
    }
    let mut body = json!({
        "name": args.name,
        "cron": args.cron,
        "enabled": !args.disabled,
        "template": template,
    });
    if let Some(tz) = &args.time_zone {
        body["time_zone"] = json!(tz);
    }
    body
}

fn params(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<String, Value>>(),
    )
}

/// The body that `PUT` takes, from a schedule as the API shows it: what its owner set, none of
/// what the scheduler records.
fn body_of(s: &Value) -> Value {
    json!({
        "name": s["name"],
        "cron": s["cron"],
        "time_zone": s["time_zone"],
        "enabled": s["enabled"],
        "template": s["template"],
    })
}

fn apply(body: &mut Value, args: &ScheduleUpdateArgs) {
    for (field, value) in [
        ("name", &args.name),
        ("cron", &args.cron),
        ("time_zone", &args.time_zone),
    ] {
        if let Some(v) = value {
            body[field] = json!(v);
        }
    }
    if let Some(w) = &args.window {
        body["template"]["window"] = w.0.clone();
    }
    if let Some(symbols) = &args.symbols {
        body["template"]["symbols"] = json!(symbols);
        body["template"]["all_listed_issues"] = Value::Bool(false);
    }
    if !args.params.is_empty() {
        body["template"]["params"] = params(&args.params);
    }
}

fn print(s: &Value, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(s);
    }
    println!("{}", describe(s));
    Ok(())
}

fn text<'a>(s: &'a Value, field: &str) -> &'a str {
    s[field].as_str().unwrap_or("-")
}

fn state(s: &Value) -> &'static str {
    if s["enabled"].as_bool() == Some(true) {
        "enabled"
    } else {
        "disabled"
    }
}

fn one_line(s: &Value) -> String {
    format!(
        "{}  {:<8}  {} ({})  {}  next {}  {}",
        text(s, "id"),
        state(s),
        text(s, "cron"),
        text(s, "time_zone"),
        s["template"]["endpoint"].as_str().unwrap_or("?"),
        text(s, "next_fire_at"),
        text(s, "name"),
    )
}

/// A schedule as a few lines of text.
fn describe(s: &Value) -> String {
    let t = &s["template"];
    let symbols = match t["symbols"].as_array() {
        Some(list) if !list.is_empty() => list
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        _ if t["all_listed_issues"] == true => "every listed issue".into(),
        _ => "-".into(),
    };
    let window = &t["window"];
    let window = match (window["days"].as_u64(), window["start"].as_str()) {
        (Some(d), _) => format!("{}:{d}", text(window, "kind")),
        (_, Some(start)) => format!("{}:{start}", text(window, "kind")),
        _ => text(window, "kind").to_owned(),
    };
    let mut lines = vec![
        format!(
            "schedule {} \"{}\": {}",
            text(s, "id"),
            text(s, "name"),
            state(s)
        ),
        format!("  cron: {} ({})", text(s, "cron"), text(s, "time_zone")),
        format!(
            "  fetches: {} {}  symbols {symbols}  window {window}",
            t["data_source"].as_str().unwrap_or("?"),
            t["endpoint"].as_str().unwrap_or("?"),
        ),
        format!("  next fire: {}", text(s, "next_fire_at")),
    ];
    if let Some(run) = s["last_run"].as_object() {
        let groups: Vec<&str> = run
            .get("groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|g| g["id"].as_str())
            .collect();
        lines.push(format!(
            "  last run: {} → {}",
            run.get("fire_at").and_then(Value::as_str).unwrap_or("?"),
            groups.join(", ")
        ));
    }
    if let Some(e) = s["last_error"].as_str() {
        lines.push(format!("  last error: {e}"));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_keeps_what_it_does_not_name() {
        let shown = json!({
            "id": "sch_1", "name": "close", "cron": "0 18 * * 1-5", "time_zone": "Asia/Tokyo",
            "enabled": true, "next_fire_at": "2026-11-26T09:00:00Z", "skipped_closed": 3,
            "template": {"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                         "symbols": ["72030"], "all_listed_issues": false, "params": {},
                         "window": {"kind": "previous-trading-day"}},
        });
        let mut body = body_of(&shown);
        let args = ScheduleUpdateArgs {
            id: "sch_1".into(),
            name: None,
            cron: Some("30 18 * * 1-5".into()),
            time_zone: None,
            window: None,
            symbols: None,
            params: vec![],
        };
        apply(&mut body, &args);
        assert_eq!(
            body,
            json!({
                "name": "close", "cron": "30 18 * * 1-5", "time_zone": "Asia/Tokyo",
                "enabled": true, "template": shown["template"],
            })
        );
    }
}
