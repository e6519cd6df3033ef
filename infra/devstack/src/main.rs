//! `devstack demo`: the README's main job against the emulator named by `AWS_ENDPOINT_URL`;
//! `devstack lambda-watch`: the functions under `cargo lambda watch`, wired to a local stack.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The demo shows progress; per-job logs appear with RUST_LOG=info.
    shared::telemetry::init_with_default("warn");
    match std::env::args().nth(1).as_deref() {
        Some("demo") => devstack::demo::run().await,
        Some("lambda-watch") => devstack::lambda::run().await,
        _ => anyhow::bail!("usage: devstack demo | devstack lambda-watch"),
    }
}
