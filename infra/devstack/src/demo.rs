//! The README's main job: a local stack, a sandbox J-Quants and Yahoo, the three functions on
//! the Lambda-shaped runtime (their real binaries behind API Gateway, the SQS mapping and the
//! schedule, with the template's limits), a user, and then what that user sees: `moomoo fetch`
//! of 50 issues over one month with its progress bar, the rows as CSV, `moomoo export` of the
//! same group as Parquet, then Yahoo daily bars of five of them (no credential needed).

use std::time::Instant;

use anyhow::{Context, bail, ensure};

use crate::client::{ApiClient, add_user, add_v1_and_yahoo, onboard_admin};
use crate::runtime::deployed::{Deployed, Options};
use crate::stack::{Counters, LocalStack};

/// The sandbox key the demo user stores (a fake key, valid only against the sandbox).
const DEMO_KEY: &str = "demo-jquants-key";

/// Runs the demo; fails unless the group completes with every job accounted for.
pub async fn run() -> anyhow::Result<()> {
    let t0 = Instant::now();
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig {
        keys: vec![
            // Premium: about 150 page requests fit its 500 a minute, so the demo is not
            // paced by the rate limiter (a Light account would take two and a half minutes).
            format!("{DEMO_KEY}:premium")
                .parse()
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        ],
        // Small pages so every job follows pagination_key across several pages.
        page_size: 8,
        today: None,
    })
    .await;
    println!("▸ sandbox J-Quants V2 at {}", sandbox.base_url());
    let name = format!("demo{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let stack = LocalStack::start(&name, Counters::default()).await?;
    let deployed = Deployed::start(&name, &stack.provisioned, &stack.aws, Options::default())
        .await
        .context("starting the functions (built by `make demo`)")?;
    let api_url = deployed.http.url.clone();
    println!(
        "▸ local stack `{name}` provisioned from template.yaml; the api, fetcher and scheduler binaries on the Lambda-shaped runtime; API Gateway (stage `{}`) at {api_url}",
        deployed.stage
    );

    let api = ApiClient::new(&api_url, None);
    let admin = onboard_admin(&api, &stack.admin_secret().await?, &sandbox.base_url()).await?;
    add_v1_and_yahoo(&admin, &sandbox.v1_base_url(), &sandbox.yahoo_base_url()).await?;
    let user = add_user(&api, &admin, DEMO_KEY, "premium").await?;
    println!(
        "▸ bootstrapped an admin, defined the J-Quants V2, V1 and Yahoo data sources, created a user, stored its J-Quants key (sealed by KMS)"
    );

    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .step_by(40)
        .take(50)
        .map(String::as_str)
        .collect();
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(60);
    let to = from + chrono::Duration::days(30);
    let out = std::path::Path::new("target/demo");
    std::fs::create_dir_all(out).context("creating target/demo")?;
    let csv = out.join("daily-bars.csv");
    let parquet = out.join("daily-bars.parquet");
    let codes = symbols.join(",");
    let (from, to) = (from.to_string(), to.to_string());
    let config = moomoo_cli::Config::new(&api_url, user.key().context("no user key")?);
    println!(
        "▸ the user's view, the `moomoo` CLI with MOOMOO_API_URL={api_url} and the user's MOOMOO_API_KEY:"
    );
    let words = [
        "moomoo",
        "fetch",
        "eq-bars-daily",
        "--symbols",
        &codes,
        "--from",
        &from,
        "--to",
        &to,
        "--out",
        &csv.to_string_lossy(),
    ]
    .map(str::to_owned);
    println!(
        "  $ moomoo fetch eq-bars-daily --symbols {},… ({} issues) --from {from} --to {to} --out {}",
        symbols[..3].join(","),
        symbols.len(),
        csv.display()
    );
    let fetched = cli_fetch(&config, &words).await?;
    let group = &fetched.group;
    println!(
        "▸ group {}: completed_jobs={} failed_jobs={} total_jobs={}",
        group.status, group.completed_jobs, group.failed_jobs, group.total_jobs
    );
    ensure!(
        group.completed_jobs + group.failed_jobs == group.total_jobs,
        "counters do not add up"
    );
    let head = std::fs::read_to_string(&csv).context("reading the CSV")?;
    for line in head.lines().take(3) {
        let shown: String = line.chars().take(100).collect();
        let more = if shown.len() < line.len() { "…" } else { "" };
        println!("  {shown}{more}");
    }

    let id = group.id.clone();
    println!("  $ moomoo export {id} --out {}", parquet.display());
    cli_run(
        &config,
        &["moomoo", "export", &id, "--out", &parquet.to_string_lossy()].map(str::to_owned),
    )
    .await?;

    // Yahoo needs no credential: the same user, the same CLI.
    let yahoo_csv = out.join("yahoo-chart.csv");
    let yahoo_codes = symbols[..5].join(",");
    println!(
        "  $ moomoo fetch chart --data-source yahoo --symbols {yahoo_codes} --from {from} --to {to} --out {}",
        yahoo_csv.display()
    );
    let words = [
        "moomoo",
        "fetch",
        "chart",
        "--data-source",
        "yahoo",
        "--symbols",
        &yahoo_codes,
        "--from",
        &from,
        "--to",
        &to,
        "--out",
        &yahoo_csv.to_string_lossy(),
    ]
    .map(str::to_owned);
    let yahoo = cli_fetch(&config, &words).await?;
    println!(
        "▸ Yahoo group {}: {} rows of daily bars for {} issues",
        yahoo.group.status,
        yahoo.rows,
        symbols[..5].len()
    );
    ensure!(yahoo.rows > 0, "no Yahoo rows");

    // Asked again as data, not as a job: answered from what the user now holds.
    let before = sandbox.stats().requests(DEMO_KEY);
    let held = format!(
        "/v1/data/jquants-v2/eq-bars-daily?symbols={}&from={from}&to={to}",
        symbols.join(",")
    );
    let (rows, fetching) = user.read_data(&held).await?;
    let stored = rows.len();
    ensure!(fetching.is_empty(), "held data was fetched again");
    let again = sandbox.stats().requests(DEMO_KEY) - before;
    println!(
        "▸ GET /v1/data for the same issues and days: {stored} rows from the store, {again} provider requests ({} in the CSV); demo took {:.1}s",
        fetched.rows,
        t0.elapsed().as_secs_f64()
    );
    let f = &deployed.fetcher.stats;
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "▸ fetcher: {} invocations in {} execution environments, {} timed out, peak memory {} of {} MB; api: {} invocations, peak {} MB",
        load(&f.invocations),
        load(&f.cold_starts),
        load(&f.timeouts),
        load(&f.max_memory_mb),
        deployed.fetcher.config().memory_mb,
        load(&deployed.api.stats.invocations),
        load(&deployed.api.stats.max_memory_mb),
    );
    ensure!(stored > 0, "no rows stored");
    ensure!(
        stored as u64 == fetched.rows,
        "the export holds {} rows, the data read {stored}",
        fetched.rows
    );
    Ok(())
}

/// `moomoo fetch …` as the binary runs it; a failed group is an error (so the demo exits
/// non-zero unless the group completed).
async fn cli_fetch(
    config: &moomoo_cli::Config,
    words: &[String],
) -> anyhow::Result<moomoo_cli::commands::fetch::Fetched> {
    let cli = moomoo_cli::Cli::from_words(words)?;
    let moomoo_cli::args::Command::Fetch(args) = &cli.command else {
        bail!("not a fetch command: {words:?}");
    };
    let api = moomoo_cli::api::Api::new(config)?;
    let fetched = moomoo_cli::commands::fetch::fetch(&api, args, false)
        .await
        .map_err(|e| cli_error(&e))?;
    moomoo_cli::commands::fetch::report(&fetched, false)?;
    Ok(fetched)
}

/// Any other `moomoo` command line, as the binary runs it.
async fn cli_run(config: &moomoo_cli::Config, words: &[String]) -> anyhow::Result<()> {
    let cli = moomoo_cli::Cli::from_words(words)?;
    moomoo_cli::run(&cli, config)
        .await
        .map_err(|e| cli_error(&e))
}

fn cli_error(e: &moomoo_cli::CliError) -> anyhow::Error {
    anyhow::anyhow!("moomoo exited with {}: {e}", e.exit_code())
}
