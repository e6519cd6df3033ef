//! `moomoo fetch <dataset> …`: creates a job group, follows its progress, writes its rows.
//! Ctrl-C stops following, not the group: the error says how to reattach.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Api, GroupView};
use crate::args::FetchArgs;
use crate::commands::groups::completed;
use crate::commands::print_json;
use crate::error::CliError;
use crate::output::{self, Destination};
use crate::progress::{interruptible, watch};

/// What a finished fetch produced.
#[derive(Debug)]
pub struct Fetched {
    /// The group's last view.
    pub group: GroupView,
    /// Rows written.
    pub rows: u64,
    /// Where they went.
    pub destination: Destination,
}

/// Creates the group, follows it until it ends and writes its rows.
///
/// # Errors
/// Usage errors before anything is sent; the API's refusal of the group (400 with what to
/// change, 409 without a stored credential); [`CliError::GroupFailed`] when the group ends
/// failed (nothing is written then); [`CliError::Interrupted`] on Ctrl-C.
pub async fn fetch(api: &Api, args: &FetchArgs, json: bool) -> Result<Fetched, CliError> {
    let destination = Destination::resolve(&args.output, json)?;
    let mut body = json!({
        "data_source": args.data_source,
        "endpoint": args.dataset,
        "params": args.params(),
    });
    if !args.symbols.is_empty() {
        body["symbols"] = json!(args.symbols);
    }
    if args.all_listed_issues {
        body["all_listed_issues"] = Value::Bool(true);
    }
    let group: GroupView = api
        .call(Method::POST, "/v1/job-groups", Some(&body))
        .await?;
    let id = group.id.clone();
    eprintln!(
        "job group {id}: {} {}, {} jobs",
        args.data_source,
        args.dataset,
        if group.total_jobs == 0 {
            "planning its".to_owned()
        } else {
            group.total_jobs.to_string()
        }
    );
    interruptible(&id, async {
        let group = watch(api, &id).await?;
        completed(&group)?;
        let rows = output::write(api, &id, &destination).await?;
        Ok(Fetched {
            group,
            rows,
            destination,
        })
    })
    .await
}

/// Prints the outcome: `--json` as one document on stdout, else a line on stderr (stdout may
/// hold the rows).
///
/// # Errors
/// Only when JSON cannot be rendered.
pub fn report(f: &Fetched, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(&json!({
            "group": f.group,
            "rows": f.rows,
            "format": f.destination.format.as_str(),
            "out": f.destination.path,
        }));
    }
    eprintln!(
        "job group {} completed: {} jobs; wrote {} rows to {} ({})",
        f.group.id,
        f.group.completed_jobs,
        f.rows,
        f.destination.shown(),
        f.destination.format.as_str()
    );
    Ok(())
}
