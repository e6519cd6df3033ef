//! The `sandbox` binary: serves the sandbox on 127.0.0.1 and prints where.
//!
//! `sandbox [--port N] [--key KEY:PLAN]... [--page-size N] [--today YYYY-MM-DD]
//! [--rate-limit on|off] [--retry-after SECS] [--yahoo-per-minute N|off]`
//! prints `sandbox listening on http://127.0.0.1:PORT` on stdout once ready; logs go to stderr.
//! J-Quants V2 is under `/v2`, V1 under `/v1`, Yahoo under `/yahoo`, controls under `/_sandbox`.

use std::io::Write as _;

use anyhow::{Context as _, bail};
use sandbox::{Limits, SandboxConfig};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: sandbox [--port N] [--key KEY:PLAN]... [--page-size N] \
    [--today YYYY-MM-DD] [--rate-limit on|off] [--retry-after SECS] [--yahoo-per-minute N|off]";

/// What the command line asks for.
#[derive(Debug)]
struct Args {
    port: u16,
    config: SandboxConfig,
    limits: Limits,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(Args {
        port,
        config,
        limits,
    }) = parse_args(std::env::args().skip(1))?
    else {
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
    sandbox::serve_with(listener, config, limits)
        .await
        .context("serving")
}

/// `None` when help was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> anyhow::Result<Option<Args>> {
    let mut port = 0;
    let mut config = SandboxConfig::default();
    let mut limits = Limits::default();
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
            "--rate-limit" => {
                limits.rate_limit_config_keys = match value.as_str() {
                    "on" => true,
                    "off" => false,
                    _ => bail!("--rate-limit wants on or off"),
                };
            }
            "--retry-after" => {
                limits.retry_after_secs =
                    Some(value.parse().context("--retry-after wants seconds")?);
            }
            "--yahoo-per-minute" => {
                limits.yahoo_per_minute = match value.as_str() {
                    "off" => None,
                    n => Some(
                        n.parse()
                            .context("--yahoo-per-minute wants a number or off")?,
                    ),
                };
            }
            _ => bail!("unknown argument {flag}\n{USAGE}"),
        }
    }
    Ok(Some(Args {
        port,
        config,
        limits,
    }))
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
        let Args {
            port,
            config,
            limits,
        } = parse_args(args(
            "--port 8080 --key a:free --key b:c:premium --page-size 3 --rate-limit on \
             --retry-after 30 --yahoo-per-minute off",
        ))
        .expect("valid")
        .expect("not help");
        assert_eq!((port, config.page_size, config.keys.len()), (8080, 3, 2));
        assert_eq!(config.keys[1].key, "b:c");
        assert!(limits.rate_limit_config_keys);
        assert_eq!(
            (limits.retry_after_secs, limits.yahoo_per_minute),
            (Some(30), None)
        );
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
            "--rate-limit maybe",
            "--yahoo-per-minute lots",
        ] {
            assert!(parse_args(args(line)).is_err(), "{line}");
        }
    }
}
