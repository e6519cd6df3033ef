//! `moomoo data get|ls|rm|sync`: the market data the user holds, read through `/v1/data`.
//! `get` writes rows ([`crate::rows`] asks until they are ready), `sync` mirrors a dataset as
//! Parquet ([`crate::sync`]).

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::Api;
use crate::args::{DataCommand, DataGetArgs, DataRmArgs, Format};
use crate::commands::print_json;
use crate::error::CliError;
use crate::output::{self, Destination};
use crate::rows::{DataRows, Query, dataset_path, query_string};

/// How long a deletion may take (it deletes stored objects before it answers).
const DELETE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs a `data` command.
///
/// # Errors
/// The API's refusal (400 with what to change, 409 without a stored credential when rows must
/// be fetched); [`CliError::GroupFailed`] when fetching what was missing failed;
/// [`CliError::InterruptedRead`] on Ctrl-C; local I/O errors.
pub async fn run(api: &Api, cmd: &DataCommand, json: bool) -> Result<(), CliError> {
    match cmd {
        DataCommand::Get(args) => get(api, args, json).await,
        DataCommand::Ls => ls(api, json).await,
        DataCommand::Rm(args) => rm(api, args, json).await,
        DataCommand::Sync(args) => {
            let report = crate::sync::sync(api, &args.dataset, &args.dir, &args.params).await?;
            if json {
                return print_json(&report);
            }
            println!("{}", crate::sync::describe(&report));
            Ok(())
        }
    }
}

async fn get(api: &Api, args: &DataGetArgs, json: bool) -> Result<(), CliError> {
    let dest = Destination::resolve(&args.output, json)?;
    if dest.format == Format::Parquet && dest.path.is_none() {
        return Err(CliError::Usage(
            "Parquet is written to a file: add --out FILE".into(),
        ));
    }
    let query = Query {
        dataset: args.dataset.clone(),
        symbols: args.symbols.clone(),
        from: Some(args.from),
        to: Some(args.to),
        params: args.params.clone(),
        refresh: args.refresh,
        held_only: false,
    };
    let source = DataRows::new(api, query, false);
    let rows = tokio::select! {
        r = output::write_from(&dest, "data", &source) => r?,
        _ = tokio::signal::ctrl_c() => {
            return Err(CliError::InterruptedRead { groups: source.groups() });
        }
    };
    if json {
        return print_json(&json!({
            "dataset": args.dataset.to_string(),
            "rows": rows,
            "format": dest.format.as_str(),
            "out": dest.path,
            "job_groups": source.groups(),
        }));
    }
    eprintln!(
        "wrote {rows} rows of {} to {} ({})",
        args.dataset,
        dest.shown(),
        dest.format.as_str()
    );
    Ok(())
}

/// `GET /v1/data`.
#[derive(Debug, Deserialize)]
struct Holdings {
    holdings: Vec<Holding>,
}

/// What the user holds of one series and symbol.
#[derive(Debug, Deserialize)]
struct Holding {
    data_source: String,
    series: String,
    symbol: String,
    #[serde(default)]
    ranges: Vec<Range>,
    #[serde(default)]
    rows: u64,
    #[serde(default)]
    bytes: u64,
}

#[derive(Debug, Deserialize)]
struct Range {
    from: String,
    to: String,
}

async fn ls(api: &Api, json: bool) -> Result<(), CliError> {
    let listing: Value = api.call(Method::GET, "/v1/data", None).await?;
    if json {
        return print_json(&listing);
    }
    let holdings: Holdings = serde_json::from_value(listing)
        .map_err(|e| CliError::Unexpected(format!("GET /v1/data: unreadable answer: {e}")))?;
    print!("{}", table(holdings.holdings));
    Ok(())
}

/// Holdings as text: a heading per data source and series with its totals, then a line per
/// symbol (ranges, rows, bytes).
fn table(mut holdings: Vec<Holding>) -> String {
    if holdings.is_empty() {
        return "you hold no data yet: `moomoo data get` fetches what it is asked for and keeps it\n"
            .to_owned();
    }
    holdings.sort_by(|a, b| {
        (&a.data_source, &a.series, &a.symbol).cmp(&(&b.data_source, &b.series, &b.symbol))
    });
    let ranges = |h: &Holding| {
        h.ranges
            .iter()
            .map(|r| format!("{}..{}", r.from, r.to))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let symbol_width = holdings.iter().map(|h| h.symbol.len()).max().unwrap_or(0);
    let ranges_width = holdings.iter().map(|h| ranges(h).len()).max().unwrap_or(0);
    let mut text = String::new();
    for series in
        holdings.chunk_by(|a, b| (&a.data_source, &a.series) == (&b.data_source, &b.series))
    {
        let rows: u64 = series.iter().map(|h| h.rows).sum();
        let bytes: u64 = series.iter().map(|h| h.bytes).sum();
        text.push_str(&format!(
            "{} {}: {} symbol{}, {rows} rows, {}\n",
            series[0].data_source,
            series[0].series,
            series.len(),
            if series.len() == 1 { "" } else { "s" },
            indicatif::HumanBytes(bytes)
        ));
        for h in series {
            text.push_str(&format!(
                "  {:<symbol_width$}  {:<ranges_width$}  {:>9} rows  {:>10}\n",
                h.symbol,
                ranges(h),
                h.rows,
                indicatif::HumanBytes(h.bytes).to_string()
            ));
        }
    }
    text
}

async fn rm(api: &Api, args: &DataRmArgs, json: bool) -> Result<(), CliError> {
    let mut query: Vec<(&str, String)> = Vec::new();
    if !args.symbols.is_empty() {
        query.push(("symbols", args.symbols.join(",")));
    }
    if let Some(from) = args.from {
        query.push(("from", from.to_string()));
    }
    if let Some(to) = args.to {
        query.push(("to", to.to_string()));
    }
    let mut path = dataset_path(&args.dataset);
    if !query.is_empty() {
        path = format!("{path}?{}", query_string(&query));
    }
    let deleted: Value = api
        .call_within(Method::DELETE, &path, None, DELETE_TIMEOUT)
        .await?;
    if json {
        return print_json(&deleted);
    }
    let n = |field: &str| deleted[field].as_u64().unwrap_or(0);
    println!(
        "deleted from {}: {} holdings changed, {} pieces removed, {} stored objects deleted",
        args.dataset,
        n("holdings_changed"),
        n("pieces_removed"),
        n("objects_deleted")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdings_are_grouped_by_series_with_their_ranges() {
        let listing: Holdings = serde_json::from_value(json!({"holdings": [
            {"data_source": "jquants-v2", "series": "eq-bars-daily", "endpoint": "eq-bars-daily",
             "symbol": "72030", "ranges": [{"from": "2024-01-04", "to": "2024-06-28"}],
             "pieces": 3, "rows": 120, "bytes": 45678, "fetched_at": "2026-12-01T00:00:00Z"},
            {"data_source": "jquants-v2", "series": "eq-bars-daily", "symbol": "67580",
             "ranges": [{"from": "2024-01-04", "to": "2024-01-31"},
                        {"from": "2024-03-01", "to": "2024-03-29"}],
             "rows": 40, "bytes": 2048},
            {"data_source": "yahoo", "series": "chart?interval=1d", "symbol": "AAPL",
             "ranges": [{"from": "2024-01-02", "to": "2024-01-31"}], "rows": 21, "bytes": 900},
        ]}))
        .unwrap();
        let text = table(listing.holdings);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "jquants-v2 eq-bars-daily: 2 symbols, 160 rows, 46.61 KiB"
        );
        assert!(
            lines[1].starts_with("  67580  2024-01-04..2024-01-31, 2024-03-01..2024-03-29")
                && lines[1].contains(" 40 rows"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("  72030  2024-01-04..2024-06-28  "),
            "{text}"
        );
        assert_eq!(
            lines[3],
            "yahoo chart?interval=1d: 1 symbol, 21 rows, 900 B"
        );
        assert_eq!(lines.len(), 5);
        assert!(table(vec![]).starts_with("you hold no data yet"));
    }
}
