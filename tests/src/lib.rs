//! Test harness: a fresh local stack per test (unique resource names in the one emulator the
//! test command starts), a sandbox provider, and an onboarded user.

use devstack::client::{ApiClient, onboard_user};
use devstack::stack::{Counters, LocalStack};
use sandbox::{Sandbox, SandboxConfig};

/// The sandbox key every test user stores.
pub const KEY: &str = "test-jquants-key";

/// Fails with instructions when the emulator is not configured.
pub fn require_emulator() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the tests with `make test` (it starts moto), or \
         `infra/local/with-moto.sh cargo test`"
    );
}

/// A unique stack name.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// A stack, a sandbox with [`KEY`] on `plan`, and a user whose J-Quants credential is stored.
#[derive(Debug)]
pub struct World {
    /// The stack.
    pub stack: LocalStack,
    /// The provider imitation.
    pub sandbox: Sandbox,
    /// The API without a key.
    pub api: ApiClient,
    /// The onboarded user.
    pub user: ApiClient,
}

impl World {
    /// Builds the world; `page_size` is the sandbox's rows per page.
    pub async fn new(page_size: usize, counters: Counters) -> Self {
        require_emulator();
        let sandbox = Sandbox::start(SandboxConfig {
            keys: vec![format!("{KEY}:light").parse().expect("key spec")],
            page_size,
            today: None,
        })
        .await;
        let stack = LocalStack::start(&unique("t"), counters)
            .await
            .expect("stack starts");
        let api = ApiClient::new(&stack.api_url, None);
        let secret = stack.admin_secret().await.expect("admin secret");
        let user = onboard_user(&api, &secret, &sandbox.base_url(), KEY, "light")
            .await
            .expect("onboarding");
        Self {
            stack,
            sandbox,
            api,
            user,
        }
    }
}
