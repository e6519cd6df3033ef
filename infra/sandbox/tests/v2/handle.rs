//! The `Sandbox` handle over real TCP, and the request log.

use http::StatusCode;
use sandbox::{INVALID_KEY, Sandbox};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};

use crate::{LIGHT, app, config, get, send};

#[tokio::test]
async fn requests_are_counted_per_key_and_path() {
    let app = app(1000);
    get(
        &app,
        "/v2/equities/bars/daily?code=7203&date=20241202",
        LIGHT,
    )
    .await;
    get(
        &app,
        "/v2/equities/bars/daily?code=7203&date=20241203",
        LIGHT,
    )
    .await;
    get(&app, "/v2/nowhere", LIGHT).await;
    send(
        &app,
        http::Method::GET,
        "/v2/equities/bars/daily?code=7203",
        None,
    )
    .await;
    get(&app, "/v2/equities/bars/daily?code=7203", "stolen").await;
    let stats = send(&app, http::Method::GET, "/_sandbox/stats", None).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(stats.json["keys"][LIGHT]["requests"], 3);
    assert_eq!(
        stats.json["keys"][LIGHT]["by_path"]["/equities/bars/daily"],
        2
    );
    assert_eq!(stats.json["keys"][LIGHT]["by_path"]["/nowhere"], 1);
    assert_eq!(stats.json["keys"][INVALID_KEY]["requests"], 2);
    assert!(!stats.text.contains("stolen"));
}

/// A bare HTTP/1.1 GET (tokio's `io-util` is not enabled, so a blocking std socket does it).
async fn raw_get(addr: SocketAddr, path: &str, key: &str) -> String {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: sandbox\r\nx-api-key: {key}\r\nConnection: close\r\n\r\n"
    );
    let exchange = move || {
        let mut stream = TcpStream::connect(addr)?;
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        std::io::Result::Ok(response)
    };
    tokio::task::spawn_blocking(exchange)
        .await
        .expect("join")
        .expect("exchange")
}

#[tokio::test]
async fn the_handle_serves_over_tcp_and_exposes_stats() {
    let sandbox = Sandbox::start(config(1000)).await;
    let base = sandbox.base_url();
    assert_eq!(base, format!("http://{}/v2", sandbox.addr()));
    let response = raw_get(
        sandbox.addr(),
        "/v2/equities/bars/daily?code=7203&date=20241202",
        LIGHT,
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""Code":"72030""#), "{response}");
    let stats = sandbox.stats();
    assert_eq!(stats.requests(LIGHT), 1);
    assert_eq!(stats.keys[LIGHT].by_path["/equities/bars/daily"], 1);
    sandbox.reset_stats();
    assert_eq!(sandbox.stats().requests(LIGHT), 0);
}
