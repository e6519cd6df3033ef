//! `moomoo export <group-id>`: the rows a group fetched, as CSV, NDJSON or Parquet. A group
//! still running exports what its completed jobs have so far.

use serde_json::json;

use crate::api::Api;
use crate::args::ExportArgs;
use crate::commands::print_json;
use crate::error::CliError;
use crate::output::{self, Destination};
use crate::progress::interruptible;

/// Runs `export`.
///
/// # Errors
/// Usage errors before anything is sent; 404 for an unknown group; local I/O errors.
pub async fn run(api: &Api, args: &ExportArgs, json: bool) -> Result<(), CliError> {
    let destination = Destination::resolve(&args.output, json)?;
    let id = &args.group_id;
    let group = api.group(id).await?;
    if !group.has_ended() {
        eprintln!(
            "job group {id} is {}: writing the rows of the {} of {} jobs completed so far",
            group.status, group.completed_jobs, group.total_jobs
        );
    }
    let rows = interruptible(id, output::write(api, id, &destination)).await?;
    if json {
        return print_json(&json!({
            "group": group,
            "rows": rows,
            "format": destination.format.as_str(),
            "out": destination.path,
        }));
    }
    eprintln!(
        "wrote {rows} rows of job group {id} to {} ({})",
        destination.shown(),
        destination.format.as_str()
    );
    Ok(())
}
