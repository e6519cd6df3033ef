//! Each function's init time as Lambda counts it: from the process's start to its first
//! Runtime API request (`GET /2018-06-01/runtime/invocation/next`), for the release binaries
//! of this machine's architecture, with the template's variables (placeholder values: init
//! reads configuration and builds clients, and calls no AWS service). Then the arm64 zips of
//! `make lambda-build` (what the template deploys) the same way, run by Debian's qemu-user
//! (`infra/local/arm64-runner.py`): an emulated upper bound, not Graviton's time.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

const ROUNDS: usize = 7;

/// The section.
pub(crate) async fn section() -> anyhow::Result<()> {
    println!(
        "\n## Init time: process start to the first Runtime API request ({} release binaries, median of {ROUNDS})",
        std::env::consts::ARCH
    );
    println!("| function | median | best | worst |");
    println!("|---|---|---|---|");
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    for function in ["api", "fetcher", "scheduler"] {
        let bin = target.join("release").join(function);
        row(function, &[bin.as_os_str()]).await?;
    }
    let qemu = target.join("tools/arm64/usr/bin/qemu-aarch64-static");
    let sysroot = target.join("tools/arm64/sysroot");
    let zips = ["api", "fetcher", "scheduler"]
        .map(|f| target.join("lambda").join(f).join("bootstrap.zip"));
    if !qemu.exists() || zips.iter().any(|z| !z.exists()) {
        println!(
            "\narm64: not measured (`make lambda-build` builds the zips; `python3 infra/local/arm64-runner.py` fetches the emulator)"
        );
        return Ok(());
    }
    println!(
        "\n### arm64 zips of `make lambda-build` under qemu-user emulation (x86_64 host; an upper bound, not Graviton's time)"
    );
    println!("| function | median | best | worst |");
    println!("|---|---|---|---|");
    for (function, zip) in ["api", "fetcher", "scheduler"].into_iter().zip(&zips) {
        let dir = target.join("bench-arm64").join(function);
        std::fs::create_dir_all(&dir)?;
        let unzipped = std::process::Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(zip)
            .arg(&dir)
            .status()?;
        anyhow::ensure!(unzipped.success(), "could not unzip {}", zip.display());
        let bin = dir.join("bootstrap");
        std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        row(
            function,
            &[
                qemu.as_os_str(),
                "-L".as_ref(),
                sysroot.as_os_str(),
                bin.as_os_str(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// One function's row: `command` started [`ROUNDS`] times.
async fn row(function: &str, command: &[&OsStr]) -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        times.push(once(command, function).await?);
    }
    times.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!(
        "| {function} | {} | {} | {} |",
        ms(times[ROUNDS / 2]),
        ms(times[0]),
        ms(times[ROUNDS - 1])
    );
    Ok(())
}

async fn once(command: &[&OsStr], function: &str) -> anyhow::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(command[0])
        .args(&command[1..])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_REGION", "ap-northeast-1")
        .env("AWS_ACCESS_KEY_ID", "init-bench")
        .env("AWS_SECRET_ACCESS_KEY", "init-bench")
        .envs(
            [
                "ACCOUNTS_TABLE",
                "JOBS_TABLE",
                "RATE_LIMITS_TABLE",
                "RAW_PAYLOAD_BUCKET",
                "CREDENTIALS_KEY_ID",
                "API_KEY_PEPPER_SECRET_ID",
                "ADMIN_SECRET_ID",
            ]
            .map(|k| (k, "placeholder")),
        )
        .env("JOBS_QUEUE_URL", "http://127.0.0.1:9/queue/jobs")
        .env("DEAD_LETTER_QUEUE_URL", "http://127.0.0.1:9/queue/dlq")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let accepted = tokio::time::timeout(Duration::from_secs(10), listener.accept()).await;
    let (mut stream, _) = match accepted {
        Ok(conn) => conn?,
        Err(_) => {
            let status = child.try_wait()?;
            anyhow::bail!("{function} asked for no event within 10 s (exit: {status:?})");
        }
    };
    // The request line arrives with the connection's first bytes.
    let mut first = [0u8; 64];
    let n = stream.read(&mut first).await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        first[..n].starts_with(b"GET /2018-06-01/runtime/invocation/next"),
        "{function}: not a next-event request: {}",
        String::from_utf8_lossy(&first[..n])
    );
    child.kill().await.ok();
    Ok(elapsed)
}
