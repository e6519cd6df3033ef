//! The HTTP rules against tiny loopback servers that answer as a hostile provider would.

use std::future::Future;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::catalog::{ENDPOINTS, Endpoint};
use crate::clock::SystemClock;
use crate::jquants::{JQuantsClient, Login, V1Auth};
use crate::provider::{Auth, Disposition};
use crate::yahoo::{YahooClient, YahooConfig};

/// A server on 127.0.0.1 that keeps every request it gets (head and body) and answers each
/// with `answer`.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start<F, Fut>(answer: F) -> Self
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&requests);
        let answer = Arc::new(answer);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (kept, answer) = (Arc::clone(&kept), Arc::clone(&answer));
                tokio::spawn(async move {
                    let request = read_request(&mut stream).await;
                    kept.lock().unwrap().push(request);
                    answer(stream).await;
                });
            }
        });
        Self { url, requests }
    }

    /// A server answering `head` (status line and headers, without the blank line) and `body`.
    async fn answering(head: &'static str, body: Vec<u8>) -> Self {
        let body = Arc::new(body);
        Self::start(move |mut stream| {
            let body = Arc::clone(&body);
            async move {
                let head = format!("{head}\r\ncontent-length: {}\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            }
        })
        .await
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

async fn read_request(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

fn endpoint(id: &str) -> &'static Endpoint {
    ENDPOINTS.iter().find(|e| e.id == id).unwrap()
}

fn client() -> JQuantsClient {
    JQuantsClient::new(Duration::from_secs(5))
}

async fn v2_page(base: &str, client: &JQuantsClient, key: Option<&str>) -> ProviderError {
    let query = [("code".to_owned(), "72030".to_owned())];
    client
        .get_page(
            base,
            endpoint("eq-bars-daily"),
            &query,
            &"k3y-s3cret".into(),
            key,
        )
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn a_redirect_is_refused_and_its_target_never_hears_of_the_key() {
    let catcher = Server::answering("HTTP/1.1 200 OK", b"{\"data\":[]}".to_vec()).await;
    for status in [
        "301 Moved Permanently",
        "302 Found",
        "307 Temporary Redirect",
    ] {
        let head: &'static str = Box::leak(
            format!(
                "HTTP/1.1 {status}\r\nlocation: {}/steal?refreshtoken=t0ken",
                catcher.url
            )
            .into_boxed_str(),
        );
        let provider = Server::answering(head, Vec::new()).await;
        let e = v2_page(&format!("{}/v2", provider.url), &client(), None).await;
        let code: u16 = status[..3].parse().unwrap();
        assert!(
            matches!(&e, ProviderError::Redirected { status, location }
                if *status == code && location.contains(&format!("{}/steal", catcher.url))),
            "{e:?}"
        );
        assert_eq!(e.disposition(), Disposition::Fail);
        let shown = e.to_string();
        assert!(
            !shown.contains("t0ken"),
            "the target's query is not shown: {shown}"
        );
        let sent = provider.requests();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].contains("x-api-key: k3y-s3cret"), "{}", sent[0]);
        assert!(!sent[0].to_ascii_lowercase().contains("referer"));
    }
    assert!(catcher.requests().is_empty(), "{:?}", catcher.requests());
}

#[tokio::test]
async fn a_v1_sign_in_is_never_resent_to_a_redirect_target() {
    let catcher = Server::answering("HTTP/1.1 200 OK", b"{}".to_vec()).await;
    let head: &'static str = Box::leak(
        format!(
            "HTTP/1.1 308 Permanent Redirect\r\nlocation: {}/token/auth_user",
            catcher.url
        )
        .into_boxed_str(),
    );
    let provider = Server::answering(head, Vec::new()).await;
    let auth = V1Auth::new(
        &client(),
        &format!("{}/v1", provider.url),
        Arc::new(SystemClock),
    )
    .with_login(Login {
        mail_address: "me@example.com".into(),
        password: "pa55w0rd".into(),
    });
    let e = auth.credentials().await.expect_err("refused");
    assert!(
        matches!(e, ProviderError::Redirected { status: 308, .. }),
        "{e:?}"
    );
    assert!(provider.requests()[0].contains("pa55w0rd"));
    assert!(catcher.requests().is_empty(), "{:?}", catcher.requests());
}

#[tokio::test]
async fn a_yahoo_redirect_is_refused() {
    let catcher = Server::answering("HTTP/1.1 200 OK", b"{}".to_vec()).await;
    let head: &'static str =
        Box::leak(format!("HTTP/1.1 302 Found\r\nlocation: {}/v8/x", catcher.url).into_boxed_str());
    let provider = Server::answering(head, Vec::new()).await;
    let yahoo = YahooClient::new(
        &YahooConfig::for_base_url(&format!("{}/yahoo", provider.url)),
        Arc::new(SystemClock),
    );
    let code = crate::domain::IssueCode::parse("72030").unwrap();
    let e = yahoo.quote(&[code]).await.expect_err("refused");
    assert!(
        matches!(e, ProviderError::Redirected { status: 302, .. }),
        "{e:?}"
    );
    assert!(catcher.requests().is_empty());
}

#[tokio::test]
async fn plain_http_outside_this_machine_is_refused_before_sending() {
    for base in ["http://api.jquants.com.invalid/v2", "http://10.1.2.3:9/v2"] {
        let e = v2_page(base, &client(), None).await;
        assert!(
            matches!(&e, ProviderError::InsecureUrl(m) if m.contains("must use https")),
            "{e:?}"
        );
        assert_eq!(e.disposition(), Disposition::Fail);
    }
}

#[tokio::test]
async fn a_body_past_the_cap_stops_there_and_one_under_it_is_read() {
    let mut big = b"{\"data\":[".to_vec();
    big.resize(3 << 20, b' ');
    big.extend_from_slice(b"]}");
    let provider = Server::answering("HTTP/1.1 200 OK", big).await;
    let base = format!("{}/v2", provider.url);
    let e = v2_page(&base, &client().with_max_body(1 << 20), None).await;
    assert_eq!(e, ProviderError::BodyTooLarge { cap: 1 << 20 });
    assert!(e.to_string().contains("1 MiB cap"), "{e}");
    let query = [("code".to_owned(), "72030".to_owned())];
    let page = client()
        .with_max_body(4 << 20)
        .get_page(&base, endpoint("eq-bars-daily"), &query, &"k".into(), None)
        .await
        .expect("under the cap");
    assert!(page.records.is_empty());
}

#[tokio::test]
async fn a_gzip_bomb_is_stopped_after_the_cap_decompressed() {
    // 16 MiB of zeros in 16 KiB of gzip.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..16 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 64 << 10, "{}", bomb.len());
    let provider = Server::answering(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip",
        bomb,
    )
    .await;
    let e = v2_page(
        &format!("{}/v2", provider.url),
        &client().with_max_body(1 << 20),
        None,
    )
    .await;
    assert_eq!(e, ProviderError::BodyTooLarge { cap: 1 << 20 });
    assert!(
        provider.requests()[0]
            .to_ascii_lowercase()
            .contains("accept-encoding: gzip")
    );
}

#[tokio::test]
async fn an_endpoint_cap_below_the_clients_wins() {
    let yahoo = YahooClient::new(&YahooConfig::production(), Arc::new(SystemClock));
    let chart = ENDPOINTS.iter().find(|e| e.data_source == "yahoo").unwrap();
    assert_eq!(yahoo.cap(Some(chart)), 8 << 20);
    assert_eq!(yahoo.cap(None), DEFAULT_MAX_BODY);
}

#[tokio::test]
async fn a_body_dripping_past_the_timeout_ends_in_a_timeout() {
    let provider = Server::start(|mut stream| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{\"data\":[";
        let _ = stream.write_all(head.as_bytes()).await;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if stream.write_all(b" ").await.is_err() {
                return;
            }
        }
    })
    .await;
    let started = std::time::Instant::now();
    let e = v2_page(
        &format!("{}/v2", provider.url),
        &JQuantsClient::new(Duration::from_millis(700)),
        None,
    )
    .await;
    assert_eq!(e, ProviderError::Transient("request timed out".into()));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn retry_after_is_clamped_to_a_day() {
    let day = Some(MAX_RETRY_AFTER);
    assert_eq!(parse_retry_after("30"), Some(Duration::from_secs(30)));
    assert_eq!(parse_retry_after(" 86400 "), day);
    assert_eq!(parse_retry_after("99999999999"), day);
    assert_eq!(parse_retry_after("99999999999999999999999999"), day);
    for ignored in ["", "-5", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT"] {
        assert_eq!(parse_retry_after(ignored), None, "{ignored}");
    }
    let latest = chrono::DateTime::<chrono::Utc>::MAX_UTC - chrono::TimeDelta::days(2);
    let pause = chrono::TimeDelta::from_std(MAX_RETRY_AFTER).unwrap();
    assert!(latest.checked_add_signed(pause).is_some());
}

#[tokio::test]
async fn a_retry_after_in_the_far_future_reads_as_a_day() {
    let provider = Server::answering(
        "HTTP/1.1 429 Too Many Requests\r\nretry-after: 99999999999",
        b"{\"message\":\"Too Many Requests\"}".to_vec(),
    )
    .await;
    let e = v2_page(&format!("{}/v2", provider.url), &client(), None).await;
    assert_eq!(
        e,
        ProviderError::RateLimited {
            retry_after: Some(MAX_RETRY_AFTER)
        }
    );
}

#[tokio::test]
async fn a_page_naming_its_own_key_as_the_next_is_refused() {
    let provider = Server::answering(
        "HTTP/1.1 200 OK",
        b"{\"data\":[],\"pagination_key\":\"same\"}".to_vec(),
    )
    .await;
    let base = format!("{}/v2", provider.url);
    let e = v2_page(&base, &client(), Some("same")).await;
    assert_eq!(e, ProviderError::RepeatedPageKey("same".into()));
    assert!(e.to_string().contains("`same`"));
    let query = [("code".to_owned(), "72030".to_owned())];
    let first = client()
        .get_page(&base, endpoint("eq-bars-daily"), &query, &"k".into(), None)
        .await
        .expect("a first page may name any key");
    assert_eq!(first.next.as_deref(), Some("same"));
}

#[test]
fn a_key_given_twice_in_one_run_is_refused() {
    let mut keys = PageKeys::default();
    assert_eq!(keys.record("a"), Ok(()));
    assert_eq!(keys.record("b"), Ok(()));
    assert_eq!(
        keys.record("a"),
        Err(ProviderError::RepeatedPageKey("a".into()))
    );
}
