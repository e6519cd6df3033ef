//! J-Quants V1 token auth against the sandbox: tokens renewed ahead of expiry on the injected
//! clock, a 401 renews once, a refused refresh token logs in once, concurrent callers share
//! one renewal. The sandbox checks tokens on its own clock, so moving only the sandbox's
//! clock makes a token the client still trusts expire there; every count below is read off
//! the sandbox's request log.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeDelta};
use futures::future::join_all;
use sandbox::{INVALID_KEY, Plan, Sandbox, SandboxConfig};
use secrecy::SecretString;
use shared::clock::{Clock, ManualClock};
use shared::jquants::{
    ApiKey, ID_TOKEN_LIFETIME, JQuantsClient, Login, RawPage, RawRequest, V1Auth,
};
use shared::provider::{Auth, Disposition, ProviderError};

const MAIL: &str = "trader@example.com";
const PASSWORD: &str = "correct horse";
const DATA: &str = "/prices/daily_quotes";
const LOGIN: &str = "/token/auth_user";
const REFRESH: &str = "/token/auth_refresh";

struct Env {
    sb: Sandbox,
    clock: Arc<ManualClock>,
    client: JQuantsClient,
}

async fn env() -> Env {
    let sb = Sandbox::start(SandboxConfig {
        today: NaiveDate::from_ymd_opt(2025, 5, 9),
        ..SandboxConfig::default()
    })
    .await;
    sb.add_v1_user(MAIL, PASSWORD, Plan::Light);
    let clock = Arc::new(ManualClock::new(sb.now()));
    let client = JQuantsClient::new(Duration::from_secs(30));
    Env { sb, clock, client }
}

fn login(password: &str) -> Login {
    Login {
        mail_address: SecretString::from(MAIL),
        password: SecretString::from(password),
    }
}

impl Env {
    fn auth(&self) -> V1Auth {
        V1Auth::new(&self.client, &self.sb.v1_base_url(), self.clock.clone())
            .with_login(login(PASSWORD))
    }

    /// Toyota's bar of 2025-05-08 through the V1 route.
    async fn fetch(&self, auth: &dyn Auth) -> Result<RawPage, ProviderError> {
        let query = [
            ("code".to_owned(), "72030".to_owned()),
            ("date".to_owned(), "2025-05-08".to_owned()),
        ];
        let base_url = self.sb.v1_base_url();
        let request = RawRequest {
            base_url: &base_url,
            path: DATA,
            data_key: "daily_quotes",
            query: &query,
            pagination_key: None,
        };
        self.client.get_raw_page(&request, auth).await
    }

    /// Requests to `path` under any caller.
    fn count(&self, path: &str) -> u64 {
        let stats = self.sb.stats();
        stats
            .keys
            .values()
            .filter_map(|k| k.by_path.get(path))
            .sum()
    }

    /// Data requests the sandbox refused with 401.
    fn unauthorized(&self) -> u64 {
        let stats = self.sb.stats();
        stats
            .keys
            .get(INVALID_KEY)
            .and_then(|k| k.by_path.get(DATA))
            .copied()
            .unwrap_or(0)
    }

    /// (logins, refreshes, 401s on data).
    fn counts(&self) -> (u64, u64, u64) {
        (self.count(LOGIN), self.count(REFRESH), self.unauthorized())
    }

    fn advance_both(&self, by: TimeDelta) {
        self.clock.advance(by);
        self.sb.advance_clock(by.to_std().unwrap());
    }

    fn advance_sandbox_only(&self, by: TimeDelta) {
        self.sb.advance_clock(by.to_std().unwrap());
    }
}

fn one_row(page: &RawPage) {
    assert_eq!(page.rows.len(), 1, "{page:?}");
    assert_eq!(page.rows[0]["Code"], "72030");
    assert_eq!(page.rows[0]["Date"], "2025-05-08");
}

/// The first call logs in and refreshes; the id token is renewed inside the margin before
/// its 24 hours run out, on the client's clock, without the sandbox ever answering 401.
#[tokio::test]
async fn the_id_token_is_renewed_ahead_of_expiry() {
    let env = env().await;
    let auth = env.auth();
    // What the fetcher takes permits for before each request, checked against what was sent.
    assert_eq!(auth.renewal_requests().await, 2, "a login and a refresh");
    one_row(&env.fetch(&auth).await.unwrap());
    assert_eq!(env.counts(), (1, 1, 0));
    assert_eq!(auth.renewal_requests().await, 0);
    let issued = auth.take_renewed().await.expect("first tokens to store");
    let id = issued.id.expect("an id token");
    assert_eq!(id.expires_at, env.clock.now() + ID_TOKEN_LIFETIME);
    assert!(issued.refresh.is_some());
    assert!(auth.take_renewed().await.is_none(), "taken once");

    env.advance_both(TimeDelta::hours(23));
    one_row(&env.fetch(&auth).await.unwrap());
    assert_eq!(
        env.counts(),
        (1, 1, 0),
        "23 h in, the id token is still used"
    );

    env.advance_both(TimeDelta::minutes(55));
    assert_eq!(auth.renewal_requests().await, 1, "a refresh");
    one_row(&env.fetch(&auth).await.unwrap());
    assert_eq!(
        env.counts(),
        (1, 2, 0),
        "5 minutes before expiry: renewed first"
    );
    let renewed = auth.take_renewed().await.expect("the new id token");
    assert!(renewed.refresh.is_none() && renewed.id.is_some());
}

/// The sandbox expires the id token while the client still trusts it: one 401, one refresh,
/// one retry that succeeds.
#[tokio::test]
async fn a_401_mid_run_renews_the_id_token_once() {
    let env = env().await;
    let auth = env.auth();
    one_row(&env.fetch(&auth).await.unwrap());
    env.advance_sandbox_only(TimeDelta::hours(25));
    one_row(&env.fetch(&auth).await.unwrap());
    assert_eq!(env.counts(), (1, 2, 1));
    assert_eq!(env.count(DATA), 3);
}

/// After a week the refresh token is refused (400): one login, then the request goes
/// through.
#[tokio::test]
async fn a_refused_refresh_token_logs_in_once() {
    let env = env().await;
    let auth = env.auth();
    one_row(&env.fetch(&auth).await.unwrap());
    auth.take_renewed().await;
    env.advance_sandbox_only(TimeDelta::days(8));
    one_row(&env.fetch(&auth).await.unwrap());
    assert_eq!(
        env.counts(),
        (2, 3, 1),
        "login, refused refresh, login, refresh"
    );
    let renewed = auth.take_renewed().await.expect("new tokens");
    assert!(renewed.refresh.is_some() && renewed.id.is_some());
}

/// Tokens stored from one process serve the next without a login; once refused, and with no
/// mail address and password to fall back on, the failure is final.
#[tokio::test]
async fn stored_tokens_work_until_refused_then_fail_for_good() {
    let env = env().await;
    let first = env.auth();
    env.fetch(&first).await.unwrap();
    let stored = first.take_renewed().await.unwrap();
    let restarted = V1Auth::new(&env.client, &env.sb.v1_base_url(), env.clock.clone())
        .with_tokens(stored.refresh, stored.id);
    one_row(&env.fetch(&restarted).await.unwrap());
    assert_eq!(
        env.counts(),
        (1, 1, 0),
        "the stored id token was used as is"
    );

    env.advance_sandbox_only(TimeDelta::days(8));
    let e = env.fetch(&restarted).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::Auth { status: 400, .. }),
        "{e:?}"
    );
    assert_eq!(e.disposition(), Disposition::Fail);
    assert_eq!(
        env.counts(),
        (1, 2, 1),
        "one refresh tried, no login, no retry"
    );
}

/// A wrong password is an auth error at login, not something to retry.
#[tokio::test]
async fn a_wrong_password_is_an_auth_error() {
    let env = env().await;
    let auth = V1Auth::new(&env.client, &env.sb.v1_base_url(), env.clock.clone())
        .with_login(login("wrong"));
    let e = env.fetch(&auth).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::Auth { status: 400, ref message } if message.contains("incorrect")),
        "{e:?}"
    );
    assert_eq!(e.disposition(), Disposition::Fail);
    assert_eq!(env.counts(), (1, 0, 0));
    assert_eq!(env.count(DATA), 0);
}

/// Twenty concurrent callers of one account: one login and one refresh to start, and one
/// refresh when the sandbox refuses all their tokens at once.
#[tokio::test]
async fn twenty_concurrent_callers_share_one_renewal() {
    let env = env().await;
    let auth = Arc::new(env.auth());
    let pages = join_all((0..20).map(|_| env.fetch(auth.as_ref()))).await;
    pages.iter().for_each(|p| one_row(p.as_ref().unwrap()));
    assert_eq!(env.counts(), (1, 1, 0));

    env.advance_sandbox_only(TimeDelta::hours(25));
    let pages = join_all((0..20).map(|_| env.fetch(auth.as_ref()))).await;
    pages.iter().for_each(|p| one_row(p.as_ref().unwrap()));
    let (logins, refreshes, refused) = env.counts();
    assert_eq!(
        (logins, refreshes),
        (1, 2),
        "one renewal for {refused} 401s"
    );
    assert!(refused >= 1);
}

/// The V2 key goes through the same request path: accepted keys fetch, a wrong key is a
/// final auth error (403) with no retry.
#[tokio::test]
async fn the_v2_api_key_is_one_of_the_strategies() {
    let env = env().await;
    env.sb.add_key("v2-key", Plan::Light, false);
    let endpoint = shared::catalog::ENDPOINTS
        .iter()
        .find(|e| e.id == "eq-bars-daily")
        .unwrap();
    let query = [
        ("code".to_owned(), "72030".to_owned()),
        ("date".to_owned(), "2025-05-08".to_owned()),
    ];
    let base = env.sb.base_url();
    let good = ApiKey::new("v2-key".into());
    let page = env
        .client
        .get_page_with(&base, endpoint, &query, &good, None)
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);
    let e = env
        .client
        .get_page(&base, endpoint, &query, &"nope".into(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::Auth { status: 403, .. }),
        "{e:?}"
    );
    assert_eq!(env.sb.stats().requests(INVALID_KEY), 1);
}
