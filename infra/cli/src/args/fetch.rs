//! `moomoo fetch …`: a job group for an endpoint, its symbols and dates.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use clap::Args;

use super::{OutputArgs, key_value};

/// `moomoo fetch …`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The endpoint of the data source's catalog, e.g. `eq-bars-daily`.
    pub dataset: String,
    /// Issue codes, comma-separated (one job each), e.g. 7203,6758.
    #[arg(long, value_delimiter = ',', conflicts_with = "all_listed_issues")]
    pub symbols: Vec<String>,
    /// Every issue listed on the last day of the range, instead of --symbols.
    #[arg(long)]
    pub all_listed_issues: bool,
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Another endpoint parameter, KEY=VALUE (repeatable), e.g. --param date=2026-01-05.
    #[arg(long = "param", value_parser = key_value)]
    pub params: Vec<(String, String)>,
    /// The data source.
    #[arg(long, default_value = "jquants-v2")]
    pub data_source: String,
    /// Where and how to write the rows.
    #[command(flatten)]
    pub output: OutputArgs,
}

impl FetchArgs {
    /// The endpoint parameters: --from, --to and every --param.
    pub fn params(&self) -> BTreeMap<String, String> {
        let mut params: BTreeMap<String, String> = self.params.iter().cloned().collect();
        if let Some(from) = self.from {
            params.insert("from".into(), from.to_string());
        }
        if let Some(to) = self.to {
            params.insert("to".into(), to.to_string());
        }
        params
    }
}
