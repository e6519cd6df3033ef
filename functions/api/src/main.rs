//! The API Lambda: configuration, AWS clients, then the router under `lambda_http`.

use shared::{aws, config::Config, telemetry};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let clients = aws::Clients::new(&aws::load_sdk_config().await, None);
    let state = api::AppState::from_aws(&config, &clients);
    let app = tower::ServiceBuilder::new()
        .map_request(api::lambda::strip_stage)
        .service(api::router(state));
    lambda_http::run(app).await
}
