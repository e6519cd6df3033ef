//! `moomoo`: parses the command line, reads the configuration, runs the command, and turns its
//! error into a message on stderr and a distinct exit code (listed in `moomoo --help`).

use std::process::ExitCode;

use clap::Parser;
use moomoo_cli::{Cli, CliError, Config};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = |name: &str| std::env::var(name).ok();
    let config = if cli.bootstraps() {
        Config::load_bootstrap(env)
    } else {
        Config::load(env)
    };
    let result = match config {
        Ok(config) => moomoo_cli::run(&cli, &config).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(CliError::exit_code(&e))
        }
    }
}
