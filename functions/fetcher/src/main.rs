//! The fetcher Lambda: configuration, AWS clients, then the SQS batch handler.

use lambda_runtime::{LambdaEvent, service_fn};
use shared::{aws, config::Config, telemetry};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let clients = aws::Clients::new(&aws::load_sdk_config().await, None);
    let mut deps = fetcher::Deps::from_aws(&config, &clients);
    deps.emit_metrics = true;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        fetcher::handle(event, &deps)
    }))
    .await
}
