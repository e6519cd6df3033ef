//! What a sync did, per year and in total, and its text form.

use std::path::PathBuf;

use serde::Serialize;

use crate::to_parquet::Column;

/// What a sync did to one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The year.
    pub year: i32,
    /// `written`, `unchanged` or `removed`.
    pub action: Action,
    /// Why it was written: `new`, `changed`, `missing file` or `schema changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Rows in its file (none once removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

/// What a sync did to a year's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Downloaded and (re)written.
    Written,
    /// Kept as it was.
    Unchanged,
    /// Deleted: no longer held.
    Removed,
}

/// What a sync did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `<data_source>/<endpoint>`.
    pub dataset: String,
    /// The dataset's folder.
    pub dir: PathBuf,
    /// Each year, in order.
    pub partitions: Vec<Outcome>,
    /// Years written.
    pub written: usize,
    /// Years kept.
    pub unchanged: usize,
    /// Years removed.
    pub removed: usize,
    /// Rows downloaded.
    pub rows_transferred: u64,
    /// The schema of every file.
    pub schema: Vec<Column>,
}

/// The report as text: a line per year, then the totals.
pub fn describe(r: &Report) -> String {
    let mut text = String::new();
    for o in &r.partitions {
        let action = match o.action {
            Action::Written => "written",
            Action::Unchanged => "unchanged",
            Action::Removed => "removed",
        };
        text.push_str(&format!("year={}  {action:<9}", o.year));
        match (o.reason, o.rows) {
            (Some(reason), Some(rows)) => text.push_str(&format!("  {rows} rows ({reason})")),
            (None, Some(rows)) => text.push_str(&format!("  {rows} rows")),
            _ => {}
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "{} -> {}: {} written, {} unchanged, {} removed; {} rows transferred",
        r.dataset,
        r.dir.display(),
        r.written,
        r.unchanged,
        r.removed,
        r.rows_transferred
    ));
    text
}
