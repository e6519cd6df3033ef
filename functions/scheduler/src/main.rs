//! The scheduler Lambda: configuration, AWS clients, then the per-minute tick.

use lambda_runtime::{LambdaEvent, service_fn};
use shared::{aws, config::Config, telemetry};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let clients = aws::Clients::new(&aws::load_sdk_config().await, None);
    let deps = scheduler::Deps::from_aws(&config, &clients);
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        scheduler::handle(event, &deps)
    }))
    .await
}
