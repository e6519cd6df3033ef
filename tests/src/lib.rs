//! Test harness: a fresh local stack per test (unique resource names in the one emulator the
//! test command starts), a sandbox provider, and an onboarded user.

use std::sync::Arc;

use devstack::client::{ApiClient, add_user, add_v1_and_yahoo, onboard_admin};
use devstack::runtime::deployed::{Deployed, Options};
use devstack::stack::{Counters, LocalStack};
use sandbox::{Sandbox, SandboxConfig};
use shared::clock::ManualClock;
use shared::queue::SqsJobQueue;
use shared::store::dynamo::{DynamoAccounts, DynamoJobs};

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
    /// The administrator.
    pub admin: ApiClient,
    /// The onboarded user.
    pub user: ApiClient,
    /// The plan of the user's J-Quants account (and so its rate limit).
    pub plan: sandbox::Plan,
    /// The function binaries on the Lambda-shaped runtime, when the world was built with
    /// [`World::deployed`]: then `api`, `admin` and `user` speak to its HTTP API and its SQS
    /// mapping feeds the fetcher.
    pub deployed: Option<Deployed>,
}

impl World {
    /// Builds the world; `page_size` is the sandbox's rows per page.
    pub async fn new(page_size: usize, counters: Counters) -> Self {
        Self::with(page_size, counters, &[]).await
    }

    /// Like [`World::new`], with function variables overridden.
    pub async fn with(page_size: usize, counters: Counters, overrides: &[(&str, &str)]) -> Self {
        Self::on_plan(page_size, counters, overrides, sandbox::Plan::Light).await
    }

    /// Like [`World::with`], the user's account on `plan` (Light allows 60 requests a
    /// minute, which our rate limiter enforces: runs of thousands of requests need Premium).
    pub async fn on_plan(
        page_size: usize,
        counters: Counters,
        overrides: &[(&str, &str)],
        plan: sandbox::Plan,
    ) -> Self {
        Self::build(page_size, counters, overrides, plan, None).await
    }

    /// The world as production runs it: the real `api`, `fetcher` and `scheduler` binaries on
    /// the Lambda-shaped runtime with the template's event sources (`options` changes them),
    /// the user's account on `plan`. The stack's in-process handles stay for inspection and for
    /// steps a test drives itself.
    pub async fn deployed(page_size: usize, plan: sandbox::Plan, options: Options) -> Self {
        Self::build(page_size, Counters::default(), &[], plan, Some(options)).await
    }

    async fn build(
        page_size: usize,
        counters: Counters,
        overrides: &[(&str, &str)],
        plan: sandbox::Plan,
        deploy: Option<Options>,
    ) -> Self {
        require_emulator();
        capture_logs();
        let plan_name = plan.name().to_lowercase();
        let sandbox = Sandbox::start(SandboxConfig {
            keys: vec![format!("{KEY}:{plan_name}").parse().expect("key spec")],
            page_size,
            today: None,
        })
        .await;
        let overrides: Vec<(&str, &str)> = match &deploy {
            Some(o) => o
                .env
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            None => overrides.to_vec(),
        };
        let stack = LocalStack::start_with(&unique("t"), counters, &overrides)
            .await
            .expect("stack starts");
        let deployed = match deploy {
            Some(o) => Some(
                Deployed::start(&stack.name, &stack.provisioned, &stack.aws, o)
                    .await
                    .expect("functions deployed"),
            ),
            None => None,
        };
        let api_url = deployed.as_ref().map_or(&stack.api_url, |d| &d.http.url);
        let api = ApiClient::new(api_url, None);
        let secret = stack.admin_secret().await.expect("admin secret");
        let admin = onboard_admin(&api, &secret, &sandbox.base_url())
            .await
            .expect("bootstrap");
        add_v1_and_yahoo(&admin, &sandbox.v1_base_url(), &sandbox.yahoo_base_url())
            .await
            .expect("V1 and Yahoo data sources");
        let user = add_user(&api, &admin, KEY, &plan_name)
            .await
            .expect("onboarding");
        Self {
            stack,
            sandbox,
            api,
            admin,
            user,
            plan,
            deployed,
        }
    }
}

impl World {
    /// The API's base URL: the deployed HTTP API's (its stage included), else the in-process
    /// router's.
    pub fn api_url(&self) -> &str {
        self.deployed
            .as_ref()
            .map_or(&self.stack.api_url, |d| &d.http.url)
    }

    /// A scheduler as its Lambda wires it (the stack's tables and queue), on `clock`. Its
    /// requests are the scheduler function's (for the least-privilege check).
    pub fn scheduler(&self, clock: Arc<ManualClock>) -> scheduler::Deps {
        let c = &self.stack.fetcher_config;
        let aws = self.stack.clients_for("SchedulerFunction");
        let jobs = Arc::new(DynamoJobs::new(aws.dynamodb.clone(), &c.jobs_table));
        let accounts = Arc::new(DynamoAccounts::new(aws.dynamodb.clone(), &c.accounts_table));
        let accounts_for_vault = accounts.clone();
        scheduler::Deps {
            schedules: jobs.clone(),
            jobs: jobs.clone(),
            credentials: accounts.clone(),
            sources: accounts.clone(),
            users: accounts,
            parked: jobs.clone(),
            stalled: jobs,
            stalled_after: scheduler::STALLED_AFTER,
            queue: Arc::new(SqsJobQueue::new(
                aws.sqs.clone(),
                &c.jobs_queue_url,
                &c.dead_letter_queue_url,
            )),
            vault: Some(Arc::new(shared::vault::Vault::new(
                accounts_for_vault,
                Arc::new(shared::crypto::KmsKeys::new(
                    aws.kms.clone(),
                    &c.credentials_key_id,
                )),
                clock.clone(),
            ))),
            renewal: Some(scheduler::tokens::Renewal {
                jquants: Arc::new(shared::jquants::JQuantsClient::new(
                    std::time::Duration::from_secs(c.provider_timeout_secs.into()),
                )),
                limiter: Arc::new(shared::limiter::Limiter::new(
                    Arc::new(shared::limiter::store::DynamoLimits::new(
                        aws.dynamodb.clone(),
                        &c.rate_limits_table,
                    )),
                    clock.clone(),
                )),
            }),
            clock,
        }
    }
}

/// Sends the functions' warnings to the test's captured output, so a failing test shows why
/// (`RUST_LOG` chooses another level).
pub fn capture_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// An SQS message as Lambda's event-source mapping hands it to the fetcher.
pub fn to_record(m: aws_sdk_sqs::types::Message) -> aws_lambda_events::event::sqs::SqsMessage {
    let mut r = aws_lambda_events::event::sqs::SqsMessage::default();
    r.message_id = m.message_id;
    r.receipt_handle = m.receipt_handle;
    r.body = m.body;
    r.attributes = m
        .attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .collect();
    r
}

impl World {
    /// Receives up to `n` messages of `queue` (as Lambda's mapping would hand them over).
    pub async fn receive(
        &self,
        queue: &str,
        n: usize,
    ) -> Vec<aws_lambda_events::event::sqs::SqsMessage> {
        let mut out = Vec::new();
        for _ in 0..20 {
            if out.len() >= n {
                break;
            }
            let r = self
                .stack
                .aws
                .sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages((n - out.len()).min(10) as i32)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            out.extend(r.messages.unwrap_or_default().into_iter().map(to_record));
        }
        out
    }

    /// Runs the fan-out of every group created so far through the real fetcher handler (as
    /// the pollers would), so tests that drive job messages by hand find them queued. Other
    /// messages are put back untouched.
    pub async fn run_fan_outs(&self, groups: usize) {
        let sqs = &self.stack.aws.sqs;
        let q = &self.stack.fetcher_config.jobs_queue_url;
        let mut done = 0;
        for _ in 0..200 {
            if done == groups {
                return;
            }
            let out = sqs
                .receive_message()
                .queue_url(q)
                .max_number_of_messages(10)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            for m in out.messages.unwrap_or_default() {
                let handle = m.receipt_handle.clone().expect("receipt handle");
                if m.body().is_some_and(|b| b.contains("\"fan_out\"")) {
                    let resp = fetcher::handle_records(vec![to_record(m)], &self.stack.fetcher)
                        .await
                        .expect("fan-out");
                    assert!(
                        resp.batch_item_failures.is_empty(),
                        "fan-out finished in one invocation"
                    );
                    sqs.delete_message()
                        .queue_url(q)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .expect("delete");
                    done += 1;
                } else {
                    sqs.change_message_visibility()
                        .queue_url(q)
                        .receipt_handle(handle)
                        .visibility_timeout(0)
                        .send()
                        .await
                        .expect("put back");
                }
            }
        }
        panic!("fan-out message not found");
    }
}

/// Every row the completed jobs of group `id` fetched, job after job, each with its job's
/// symbol: read back from the raw payload archive (where rows live) as exports and data reads
/// read them.
pub async fn group_rows(
    stack: &LocalStack,
    id: &str,
) -> Vec<(Option<String>, serde_json::Map<String, serde_json::Value>)> {
    use shared::store::JobQueries;
    let c = &stack.fetcher_config;
    let jobs = DynamoJobs::new(stack.aws.dynamodb.clone(), &c.jobs_table);
    let archive = shared::archive::S3Archive::new(stack.aws.s3.clone(), &c.raw_payload_bucket);
    let id = shared::domain::JobGroupId::parse(id).expect("a group id");
    let group = jobs.get_group(id).await.unwrap().expect("the group");
    let endpoint = group.endpoint.get();
    let mut out = Vec::new();
    for job in jobs.list_jobs(id).await.unwrap() {
        if job.status != shared::domain::JobStatus::Completed {
            continue;
        }
        let symbol = job.symbol.as_ref().map(|s| s.as_str().to_owned());
        let rows = shared::holdings::read::job_rows(&archive, endpoint, &group, &job)
            .await
            .unwrap();
        out.extend(rows.into_iter().map(|r| (symbol.clone(), r)));
    }
    out
}
