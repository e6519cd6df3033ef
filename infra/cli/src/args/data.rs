//! `moomoo data …`: the market data a user holds, named `DATA_SOURCE/ENDPOINT`.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::{OutputArgs, key_value};

/// `moomoo data …`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Rows of a dataset for symbols and dates, answered from what you hold; what is missing
    /// is fetched first (with a progress bar), and only that.
    Get(DataGetArgs),
    /// What you hold: per data source and series, each symbol's date ranges, rows and bytes.
    #[command(alias = "list")]
    Ls,
    /// Delete what you hold of a dataset: all of it, some symbols, or a date range.
    Rm(DataRmArgs),
    /// Mirror what you hold of a dataset as Hive-partitioned Parquet files in a directory
    /// (DIR/dataset=ENDPOINT/year=YYYY/part-0.parquet); only changed years travel.
    Sync(DataSyncArgs),
}

/// A dataset as `data` commands name it: `<data_source>/<endpoint>`, e.g.
/// `jquants-v2/eq-bars-daily`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dataset {
    /// The data source, e.g. `jquants-v2`.
    pub data_source: String,
    /// The endpoint of its catalog, e.g. `eq-bars-daily`.
    pub endpoint: String,
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.data_source, self.endpoint)
    }
}

fn dataset(s: &str) -> Result<Dataset, String> {
    let bad = |part: &str| part.is_empty() || part.contains(['/', '?', '#', '%', ' ', '&', '=']);
    match s.split_once('/') {
        Some((ds, ep)) if !bad(ds) && !bad(ep) => Ok(Dataset {
            data_source: ds.to_owned(),
            endpoint: ep.to_owned(),
        }),
        _ => Err(format!(
            "`{s}` is not DATA_SOURCE/ENDPOINT, e.g. jquants-v2/eq-bars-daily"
        )),
    }
}

/// Parameters the `data` commands set themselves; `--param` cannot name them.
const DATA_QUERY_KEYS: [&str; 6] = ["symbols", "from", "to", "format", "refresh", "held"];

fn data_param(s: &str) -> Result<(String, String), String> {
    let (k, v) = key_value(s)?;
    if DATA_QUERY_KEYS.contains(&k.as_str()) {
        return Err(format!("`{k}` has its own option: use --{k}"));
    }
    Ok((k, v))
}

/// `moomoo data get …`.
#[derive(Debug, Args)]
pub struct DataGetArgs {
    /// DATA_SOURCE/ENDPOINT, e.g. jquants-v2/eq-bars-daily.
    #[arg(value_parser = dataset)]
    pub dataset: Dataset,
    /// Issue codes or symbols, comma-separated, e.g. 72030,67580.
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day, YYYY-MM-DD (days not over yet at the exchange are left out).
    #[arg(long)]
    pub to: NaiveDate,
    /// Another endpoint parameter, KEY=VALUE (repeatable).
    #[arg(long = "param", value_parser = data_param)]
    pub params: Vec<(String, String)>,
    /// Fetch the whole range from the provider again, even what you hold.
    #[arg(long)]
    pub refresh: bool,
    /// Where and how to write the rows.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `moomoo data rm …`.
#[derive(Debug, Args)]
pub struct DataRmArgs {
    /// DATA_SOURCE/ENDPOINT, e.g. jquants-v2/eq-bars-daily.
    #[arg(value_parser = dataset)]
    pub dataset: Dataset,
    /// Only these issue codes or symbols, comma-separated (all when absent).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Only from this day, YYYY-MM-DD (with --to).
    #[arg(long, requires = "to")]
    pub from: Option<NaiveDate>,
    /// Only up to this day, YYYY-MM-DD (with --from).
    #[arg(long, requires = "from")]
    pub to: Option<NaiveDate>,
}

/// `moomoo data sync …`.
#[derive(Debug, Args)]
pub struct DataSyncArgs {
    /// DATA_SOURCE/ENDPOINT, e.g. jquants-v2/eq-bars-daily.
    #[arg(value_parser = dataset)]
    pub dataset: Dataset,
    /// The directory to mirror into (created if missing).
    #[arg(long)]
    pub dir: PathBuf,
    /// Another endpoint parameter naming the series, KEY=VALUE (repeatable).
    #[arg(long = "param", value_parser = data_param)]
    pub params: Vec<(String, String)>,
}
