//! The `sandbox` binary: serves the sandbox on 127.0.0.1 and prints where.
//!
//! `sandbox [--port N] [--key KEY:PLAN]... [--page-size N] [--today YYYY-MM-DD]`
//! prints `sandbox listening on http://127.0.0.1:PORT` on stdout once ready; logs go to stderr.

use std::io::Write as _;

use anyhow::{Context as _, bail};
use sandbox::SandboxConfig;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

const USAGE: &str =
    "usage: sandbox [--port N] [--key KEY:PLAN]... [--page-size N] [--today YYYY-MM-DD]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some((port, config)) = parse_args(std::env::args().skip(1))? else {
        println!("{USAGE}");
        return Ok(());
    };
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "sandbox listening on http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    sandbox::serve(listener, config).await.context("serving")
}

/// `None` when help was asked for.
fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> anyhow::Result<Option<(u16, SandboxConfig)>> {
    let mut port = 0;
    let mut config = SandboxConfig::default();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--port" => port = value.parse().context("--port must be a number")?,
            "--page-size" => {
                config.page_size = value.parse().context("--page-size wants a number")?;
            }
            "--key" => config
                .keys
                .push(value.parse().context("--key wants KEY:PLAN")?),
            "--today" => {
                let today = chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d");
                config.today = Some(today.context("--today wants YYYY-MM-DD")?);
            }
            _ => bail!("unknown argument {flag}\n{USAGE}"),
        }
    }
    Ok(Some((port, config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> impl Iterator<Item = String> {
        line.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn flags_build_the_config() {
        let (port, config) = parse_args(args(
            "--port 8080 --key a:free --key b:c:premium --page-size 3",
        ))
        .expect("valid")
        .expect("not help");
        assert_eq!((port, config.page_size, config.keys.len()), (8080, 3, 2));
        assert_eq!(config.keys[1].key, "b:c");
        assert!(parse_args(args("--help")).expect("valid").is_none());
    }

    #[test]
    fn bad_flags_are_reported() {
        for line in [
            "--port",
            "--port x",
            "--key nokey",
            "--key a:gold",
            "--today 2024-02-30",
            "--what 1",
        ] {
            assert!(parse_args(args(line)).is_err(), "{line}");
        }
    }
}
