//! The rate beside a credential and a job group (#17, "the user is told"): the router over
//! every port's in-memory fake, the limiter's state left as a fetcher leaves it after a 429.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use chrono::{DateTime, TimeDelta, Utc};
use http::{Request, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tower::ServiceExt;
use utoipa::OpenApi;

use api::AppState;
use shared::archive::{ArchiveError, MemoryArchive};
use shared::auth::ApiKeyHasher;
use shared::clock::{Clock, ManualClock, test_epoch};
use shared::crypto::LocalKeys;
use shared::domain::{ApiVersion, DataSource, DataSourceId, Plan, ProviderType, User, UserId};
use shared::export::{ExportLink, ExportStore, Upload};
use shared::jquants::JQuantsClient;
use shared::limiter::store::MemoryLimits;
use shared::limiter::{Decision, Limiter, LimiterStore, Scope, ScopeState, plan_demands};
use shared::queue::MemoryJobQueue;
use shared::secrets::StaticSecrets;
use shared::store::memory::{MemoryAccounts, MemoryJobs, MemorySchedules};
use shared::store::{ApiKeyRecord, DataSourceStore, StoreError, UserStore};
use shared::vault::Vault;

const PEPPER: &str = "pepper";

/// Exports are not part of these views.
#[derive(Debug)]
struct NoExports;

#[async_trait]
impl ExportStore for NoExports {
    async fn write(&self, _: &mut Upload, _: &[u8]) -> Result<(), ArchiveError> {
        Err(ArchiveError(anyhow::anyhow!("no exports here")))
    }
    async fn finish(&self, _: Upload, _: DateTime<Utc>) -> Result<ExportLink, ArchiveError> {
        Err(ArchiveError(anyhow::anyhow!("no exports here")))
    }
    async fn abort(&self, _: Upload) {}
}

/// A limiter table that cannot be read.
#[derive(Debug)]
struct DownLimits;

#[async_trait]
impl LimiterStore for DownLimits {
    async fn load_scope(&self, _: &str) -> Result<(ScopeState, u64), StoreError> {
        Err(StoreError::Unavailable(anyhow::anyhow!("throttled")))
    }
    async fn save_scope(&self, _: &str, _: &ScopeState, _: u64) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable(anyhow::anyhow!("throttled")))
    }
}

fn yahoo() -> DataSource {
    DataSource {
        id: DataSourceId::parse("yahoo").unwrap(),
        name: "Yahoo Finance".into(),
        description: "charts and quotes".into(),
        provider_type: ProviderType::Yfinance,
        is_enabled: true,
        base_url: "http://127.0.0.1:9".into(),
        api_version: ApiVersion::V2,
        rate_limit_per_minute: 60,
        rate_limit_per_hour: 2000,
        rate_limit_per_day: 20_000,
    }
}

/// The API over fakes, one user, and the fetchers' view of the same limiter state.
struct World {
    router: Router,
    key: SecretString,
    user: UserId,
    jquants: DataSource,
    clock: Arc<ManualClock>,
    /// The limiter state fetchers share (the API's, unless a test gave it another).
    limits: Arc<dyn LimiterStore>,
    /// A fetcher's limiter over it.
    fetcher: Limiter,
}

impl World {
    async fn new(limits: Option<Arc<dyn LimiterStore>>) -> Self {
        let clock = Arc::new(ManualClock::new(test_epoch()));
        let accounts = Arc::new(MemoryAccounts::default());
        let jquants = DataSource::jquants_v2("http://127.0.0.1:9");
        accounts.put_data_source(&jquants).await.unwrap();
        accounts.put_data_source(&yahoo()).await.unwrap();
        let user = User {
            id: UserId::new(),
            name: "u".into(),
            is_admin: false,
            created_at: clock.now(),
            disabled: false,
        };
        let key = ApiKeyHasher::new(&SecretString::from("p".repeat(32))).generate();
        accounts
            .create_user(&user, &ApiKeyRecord::new(user.id, &key, None, clock.now()))
            .await
            .unwrap();
        let shared_limits: Arc<dyn LimiterStore> = Arc::new(MemoryLimits::default());
        let api_limits = limits.unwrap_or_else(|| shared_limits.clone());
        let jobs = Arc::new(MemoryJobs::default());
        let state = AppState {
            users: accounts.clone(),
            sources: accounts.clone(),
            vault: Arc::new(Vault::new(
                accounts,
                Arc::new(LocalKeys::default()),
                clock.clone(),
            )),
            jobs: jobs.clone(),
            holdings: jobs.clone(),
            retention: None,
            quotas: jobs,
            limits: Default::default(),
            fresh_secrets: Arc::new(StaticSecrets::default()),
            schedules: Arc::new(MemorySchedules::default()),
            queue: Arc::new(MemoryJobQueue::default()),
            provider: JQuantsClient::new(Duration::from_secs(1)),
            secrets: Arc::new(StaticSecrets(HashMap::from([(
                PEPPER.to_owned(),
                "p".repeat(32),
            )]))),
            clock: clock.clone(),
            limiter: Arc::new(Limiter::new(api_limits, clock.clone())),
            archive: Arc::new(MemoryArchive::default()),
            exports: Arc::new(NoExports),
            pepper_secret_id: PEPPER.into(),
            admin_secret_id: "admin".into(),
        };
        Self {
            router: api::router(state),
            key: key.plaintext,
            user: user.id,
            jquants,
            fetcher: Limiter::new(shared_limits.clone(), clock.clone()),
            limits: shared_limits,
            clock,
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.key.expose_secret()),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, value)
    }

    async fn expect(&self, method: &str, path: &str, body: Option<Value>, want: u16) -> Value {
        let (status, value) = self.call(method, path, body).await;
        assert_eq!(status.as_u16(), want, "{method} {path}: {value}");
        value
    }

    async fn store_light_key(&self) {
        let stored = self
            .expect(
                "PUT",
                "/v1/credentials/jquants-v2",
                Some(json!({"api_key": "k", "plan": "light"})),
                200,
            )
            .await;
        assert!(stored.get("rate").is_none(), "PUT answers metadata only");
    }

    /// A fetcher's request on the user's Light account, at the plan's limit, got a 429: the
    /// limit is halved. Returns the end of the pause.
    async fn throttled(&self) -> DateTime<Utc> {
        let scope = Scope::for_request(&self.jquants, self.user);
        let demands = plan_demands(Plan::Light, &self.jquants);
        // A scope with recent history: no slow start, the configured limit in force.
        let mut warm = ScopeState::default();
        warm.adaptive.active_at = Some(self.clock.now().timestamp_millis());
        let (_, version) = self.limits.load_scope(scope.as_str()).await.unwrap();
        assert!(
            self.limits
                .save_scope(scope.as_str(), &warm, version)
                .await
                .unwrap()
        );
        assert!(matches!(
            self.fetcher.acquire(&scope, &demands, 1).await.unwrap(),
            Decision::Granted(1)
        ));
        self.fetcher
            .throttled(&scope, &demands, None)
            .await
            .unwrap()
    }
}

fn rate(view: &Value) -> &Value {
    view.get("rate")
        .unwrap_or_else(|| panic!("no `rate` in {view}"))
}

#[tokio::test]
async fn the_credential_view_tells_the_user_the_provider_allows_less_than_the_plan() {
    let w = World::new(None).await;
    w.store_light_key().await;
    let fresh = w
        .expect("GET", "/v1/credentials/jquants-v2", None, 200)
        .await;
    assert_eq!(
        rate(&fresh),
        &json!({"configured_per_minute": 60, "effective_per_minute": 60, "mode": "open",
                "throttled_total": 0}),
        "nothing learned yet: the plan's limit, no optional field"
    );

    let until = w.throttled().await;
    let learned = w
        .expect("GET", "/v1/credentials/jquants-v2", None, 200)
        .await;
    let r = rate(&learned);
    assert_eq!(r["configured_per_minute"], 60);
    assert_eq!(r["effective_per_minute"], 30, "halved by the 429");
    assert_eq!(r["mode"], "learned");
    assert_eq!(r["throttled_total"], 1);
    let at = |v: &Value| v.as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    assert_eq!(at(&r["last_throttled_at"]), w.clock.now());
    assert_eq!(at(&r["paused_until"]), until);
    let warning = r["warning"].as_str().expect("a warning");
    assert!(
        warning.contains("30") && warning.contains("60"),
        "{warning}"
    );

    w.clock.advance(TimeDelta::seconds(5));
    let after = w
        .expect("GET", "/v1/credentials/jquants-v2", None, 200)
        .await;
    assert!(
        rate(&after).get("paused_until").is_none(),
        "the pause is over: {after}"
    );
    assert_eq!(rate(&after)["effective_per_minute"], 30, "still learned");
}

#[tokio::test]
async fn a_group_view_shows_its_owners_rate_and_the_pause_it_waits_on() {
    let w = World::new(None).await;
    w.store_light_key().await;
    let created = w
        .expect(
            "POST",
            "/v1/job-groups",
            Some(
                json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                "symbols": ["7203"], "params": {"from": "2026-01-05", "to": "2026-01-30"}}),
            ),
            202,
        )
        .await;
    assert!(created.get("rate").is_none(), "only the single-group view");
    let path = format!("/v1/job-groups/{}", created["id"].as_str().unwrap());
    let view = w.expect("GET", &path, None, 200).await;
    assert_eq!(rate(&view)["configured_per_minute"], 60, "the Light plan");
    assert_eq!(rate(&view)["mode"], "open");

    let until = w.throttled().await;
    let view = w.expect("GET", &path, None, 200).await;
    let r = rate(&view);
    assert_eq!(
        (
            &r["mode"],
            &r["effective_per_minute"],
            &r["throttled_total"]
        ),
        (&json!("learned"), &json!(30), &json!(1))
    );
    assert_eq!(
        r["paused_until"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        until
    );
    assert!(r["warning"].is_string());

    // The rest of the views stay as they were.
    let list = w.expect("GET", "/v1/job-groups", None, 200).await;
    assert!(list["job_groups"][0].get("rate").is_none(), "{list}");

    // No credential any more: no declared plan to measure against, the view still answers.
    w.expect("DELETE", "/v1/credentials/jquants-v2", None, 204)
        .await;
    let view = w.expect("GET", &path, None, 200).await;
    assert!(view.get("rate").is_none(), "{view}");
    assert_eq!(view["total_jobs"], 1);
}

#[tokio::test]
async fn a_source_without_accounts_shows_its_own_limit() {
    let w = World::new(None).await;
    let created = w
        .expect(
            "POST",
            "/v1/job-groups",
            Some(
                json!({"data_source": "yahoo", "endpoint": "chart", "symbols": ["7203"],
                "params": {"from": "2026-11-02", "to": "2026-11-20"}}),
            ),
            202,
        )
        .await;
    let path = format!("/v1/job-groups/{}", created["id"].as_str().unwrap());
    let view = w.expect("GET", &path, None, 200).await;
    assert_eq!(
        rate(&view),
        &json!({"configured_per_minute": 60, "effective_per_minute": 60, "mode": "open",
                "throttled_total": 0})
    );
}

#[tokio::test]
async fn an_unreadable_limiter_state_leaves_the_views_without_rate() {
    let w = World::new(Some(Arc::new(DownLimits))).await;
    w.store_light_key().await;
    let credential = w
        .expect("GET", "/v1/credentials/jquants-v2", None, 200)
        .await;
    assert!(credential.get("rate").is_none(), "{credential}");
    assert_eq!(credential["plan"], "light");
    let created = w
        .expect(
            "POST",
            "/v1/job-groups",
            Some(
                json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                "symbols": ["7203"], "params": {"from": "2026-01-05", "to": "2026-01-30"}}),
            ),
            202,
        )
        .await;
    let path = format!("/v1/job-groups/{}", created["id"].as_str().unwrap());
    let view = w.expect("GET", &path, None, 200).await;
    assert!(view.get("rate").is_none(), "{view}");
    assert_eq!(view["status"], "pending");
}

/// The document declares `rate` as schemathesis checks answers against it: optional in both
/// views, never null, its own optional fields absent rather than null, `mode` an enum.
#[test]
fn the_document_declares_the_optional_rate() {
    let doc = serde_json::to_value(api::openapi::ApiDoc::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    for view in ["CredentialMetadata", "JobGroupView"] {
        let s = &schemas[view];
        assert_eq!(
            s["properties"]["rate"]["$ref"], "#/components/schemas/RateStatus",
            "{view}: {s}"
        );
        let required = s["required"].as_array().unwrap();
        assert!(!required.contains(&json!("rate")), "{view}: {s}");
    }
    let rate = &schemas["RateStatus"];
    assert_eq!(
        rate["required"],
        json!([
            "configured_per_minute",
            "effective_per_minute",
            "mode",
            "throttled_total"
        ]),
        "{rate}"
    );
    let p = &rate["properties"];
    assert_eq!(p["mode"]["enum"], json!(["open", "slow_start", "learned"]));
    assert_eq!(p["mode"]["type"], "string");
    for at in ["last_throttled_at", "paused_until"] {
        assert_eq!(
            (&p[at]["type"], &p[at]["format"]),
            (&json!("string"), &json!("date-time")),
            "{at}: {rate}"
        );
    }
    assert_eq!(p["warning"]["type"], "string");
    assert_eq!(p["throttled_total"]["type"], "integer");
    assert_eq!(p["configured_per_minute"]["minimum"], 0);
}

#[tokio::test]
async fn a_credential_check_takes_its_permit_from_the_account_s_limiter() {
    let w = World::new(None).await;
    w.store_light_key().await;
    // The fetchers' last request on the account got a 429: the account is paused.
    let until = w.throttled().await;
    let (status, body) = w
        .call(
            "PUT",
            "/v1/credentials/jquants-v2?verify=true",
            Some(json!({"api_key": "other", "plan": "standard"})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("rate limit for this account"), "{detail}");
    assert!(detail.contains("nothing was stored"), "{detail}");
    let stored = w
        .expect("GET", "/v1/credentials/jquants-v2", None, 200)
        .await;
    assert_eq!(stored["plan"], "light", "nothing stored: {stored}");
    // Once the pause is over the check goes to the provider (here unreachable: 503).
    w.clock.set(until + TimeDelta::seconds(1));
    let (status, body) = w
        .call(
            "PUT",
            "/v1/credentials/jquants-v2?verify=true",
            Some(json!({"api_key": "other", "plan": "standard"})),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}
