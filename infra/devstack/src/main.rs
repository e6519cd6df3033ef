//! `devstack demo`: the README's main job against the emulator named by `AWS_ENDPOINT_URL`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The demo shows progress; per-job logs appear with RUST_LOG=info.
    shared::telemetry::init_with_default("warn");
    match std::env::args().nth(1).as_deref() {
        Some("demo") => devstack::demo::run().await,
        _ => anyhow::bail!("usage: devstack demo"),
    }
}
