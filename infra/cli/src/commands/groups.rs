//! `moomoo groups list`, `moomoo groups show|watch|cancel|retry|jobs <id>`.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::api::{Api, GroupView, segment};
use crate::args::{GroupsCommand, JobStatus, Paging};
use crate::commands::print_json;
use crate::error::CliError;
use crate::progress::{interruptible, watch};

/// Runs a `groups` command.
///
/// # Errors
/// The API's refusal (404 for an unknown group, 409 when it cannot be cancelled or retried);
/// [`CliError::GroupFailed`] when a watched group ends failed.
pub async fn run(api: &Api, cmd: &GroupsCommand, json: bool) -> Result<(), CliError> {
    match cmd {
        GroupsCommand::List { paging } => list(api, paging, json).await,
        GroupsCommand::Show { id } => print_group(&api.group(id).await?, json),
        GroupsCommand::Watch { id } => follow(api, id, json).await,
        GroupsCommand::Cancel { id } => {
            let path = format!("/v1/job-groups/{}/cancel", segment(id)?);
            let g: GroupView = api.call(Method::POST, &path, None).await?;
            if !json {
                println!("cancel requested: jobs not yet run are skipped, running ones finish");
            }
            print_group(&g, json)
        }
        GroupsCommand::Retry { id, watch } => {
            let path = format!("/v1/job-groups/{}/retry", segment(id)?);
            let g: GroupView = api.call(Method::POST, &path, None).await?;
            if *watch {
                return follow(api, id, json).await;
            }
            if !json {
                println!("retrying the failed jobs; follow with: moomoo groups watch {id}");
            }
            print_group(&g, json)
        }
        GroupsCommand::Jobs { id, status, paging } => jobs(api, id, *status, paging, json).await,
    }
}

/// A cursor as a query parameter; cursors the API hands out are URL-safe, and anything else
/// would change the query.
fn cursor_param(c: &str) -> Result<String, CliError> {
    if c.is_empty()
        || !c
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(CliError::Usage(format!(
            "`{c}` is not a cursor: pass the `next_cursor` of a previous page"
        )));
    }
    Ok(format!("&cursor={c}"))
}

/// The page `paging` asks for of the listing at `path` (which ends in `?` or `&`), or with
/// `--all` every page from its cursor on: the entries (`entries` takes them and the next
/// cursor out of a page) and the cursor of what is left.
async fn walk<P: DeserializeOwned, T>(
    api: &Api,
    path: &str,
    paging: &Paging,
    entries: impl Fn(P) -> (Vec<T>, Option<String>),
) -> Result<(Vec<T>, Option<String>), CliError> {
    let (mut all, mut cursor) = (Vec::new(), paging.cursor.clone());
    loop {
        let mut page_path = format!(
            "{path}limit={}",
            if paging.all { 100 } else { paging.limit }
        );
        if let Some(c) = &cursor {
            page_path.push_str(&cursor_param(c)?);
        }
        let (page, next) = entries(api.call(Method::GET, &page_path, None).await?);
        all.extend(page);
        match next {
            // A filtered page may be short, even empty, with more to come.
            Some(c) if paging.all => cursor = Some(c),
            next => return Ok((all, next)),
        }
    }
}

/// A page of `GET /v1/job-groups`.
#[derive(Debug, Deserialize, Serialize)]
struct GroupPage {
    job_groups: Vec<GroupView>,
    next_cursor: Option<String>,
}

async fn list(api: &Api, paging: &Paging, json: bool) -> Result<(), CliError> {
    let (groups, next) = walk(api, "/v1/job-groups?", paging, |p: GroupPage| {
        (p.job_groups, p.next_cursor)
    })
    .await?;
    if json {
        return print_json(&GroupPage {
            job_groups: groups,
            next_cursor: next,
        });
    }
    if groups.is_empty() {
        println!("no job groups");
    }
    for g in &groups {
        println!(
            "{}  {:<9}  {:>5}/{:<5} {:>4} failed  {:<16} {}",
            g.id,
            g.status,
            g.finished_jobs(),
            g.total_jobs,
            g.failed_jobs,
            g.text("endpoint").unwrap_or("?"),
            g.text("created_at").unwrap_or("?"),
        );
    }
    if let Some(c) = next {
        println!("more: moomoo groups list --cursor {c}");
    }
    Ok(())
}

/// A page of `GET /v1/job-groups/{id}/jobs`.
#[derive(Debug, Deserialize, Serialize)]
struct JobPage {
    jobs: Vec<serde_json::Value>,
    next_cursor: Option<String>,
}

async fn jobs(
    api: &Api,
    id: &str,
    status: Option<JobStatus>,
    paging: &Paging,
    json: bool,
) -> Result<(), CliError> {
    let mut path = format!("/v1/job-groups/{}/jobs?", segment(id)?);
    if let Some(s) = status {
        path.push_str(&format!("status={}&", s.as_str()));
    }
    let (jobs, next) = walk(api, &path, paging, |p: JobPage| (p.jobs, p.next_cursor)).await?;
    if json {
        return print_json(&JobPage {
            jobs,
            next_cursor: next,
        });
    }
    if jobs.is_empty() && next.is_none() {
        println!("no jobs");
    }
    for j in &jobs {
        let text = |f: &str| j[f].as_str().unwrap_or("");
        let what = if j["symbol"].is_string() {
            text("symbol")
        } else {
            text("date")
        };
        let rows = j["rows"]
            .as_u64()
            .map(|r| format!("{r} rows"))
            .unwrap_or_default();
        println!(
            "{:>6}  {:<9}  {:<10}  {:>10}  {}",
            j["id"].as_u64().unwrap_or_default(),
            text("status"),
            what,
            rows,
            text("error_message"),
        );
    }
    if let Some(c) = next {
        let filter = status.map(|s| format!(" --status {}", s.as_str()));
        println!(
            "more: moomoo groups jobs {id}{} --cursor {c}",
            filter.unwrap_or_default()
        );
    }
    Ok(())
}

async fn follow(api: &Api, id: &str, json: bool) -> Result<(), CliError> {
    let g = interruptible(id, watch(api, id)).await?;
    print_group(&g, json)?;
    completed(&g)
}

/// Ok when the group completed; else why it failed and what to do next.
///
/// # Errors
/// [`CliError::GroupFailed`].
pub fn completed(g: &GroupView) -> Result<(), CliError> {
    if g.status == "completed" {
        return Ok(());
    }
    let id = &g.id;
    Err(CliError::GroupFailed {
        id: id.clone(),
        message: g.error_message.clone().unwrap_or_else(|| g.status.clone()),
        hint: format!(
            "{} of {} jobs failed. Run them again:  moomoo groups retry {id} --watch\n\
             Write what completed:  moomoo export {id} --out FILE",
            g.failed_jobs, g.total_jobs
        ),
    })
}

/// Prints a group: `--json` as the API shows it, else a few lines of text.
///
/// # Errors
/// Only when JSON cannot be rendered.
pub fn print_group(g: &GroupView, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(g);
    }
    println!("{}", describe(g));
    Ok(())
}

/// A group as text.
pub fn describe(g: &GroupView) -> String {
    let params: Vec<String> = g.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut text = format!(
        "job group {}: {}\n  {} {}  {}\n  jobs: {} total, {} completed, {} failed ({})",
        g.id,
        g.status,
        g.text("data_source").unwrap_or("?"),
        g.text("endpoint").unwrap_or("?"),
        params.join(" "),
        g.total_jobs,
        g.completed_jobs,
        g.failed_jobs,
        g.text("split").unwrap_or("?"),
    );
    for (label, field) in [
        ("created", "created_at"),
        ("started", "started_at"),
        ("ended", "completed_at"),
    ] {
        if let Some(t) = g.text(field) {
            text.push_str(&format!("\n  {label}: {t}"));
        }
    }
    if let Some(e) = &g.error_message {
        text.push_str(&format!("\n  error: {e}"));
    }
    text
}
