//! `moomoo export …`, and where and how the commands that write rows write them.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// `moomoo export …`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The job group's id.
    pub group_id: String,
    /// Where and how to write the rows.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where an export goes.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// The file to write (replaced only once complete); stdout when absent.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// csv, ndjson or parquet; by default from --out's extension, else csv.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Comma-separated, a header row first (as the API serves it).
    Csv,
    /// One JSON object per line, the provider's own fields (as the API serves it).
    Ndjson,
    /// Apache Parquet, typed columns, written by the CLI from the NDJSON export.
    Parquet,
}

impl Format {
    /// The format's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }
}
