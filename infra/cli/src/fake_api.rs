//! A fake API for unit tests: a loopback HTTP/1.1 server answering each request from a
//! closure, and logging what it was asked.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request the fake API saw: its path and query, and whether it carried the API key.
pub(crate) type Seen = Arc<Mutex<Vec<(String, bool)>>>;

/// An answer of the fake API: status, extra header lines, body.
pub(crate) type Answer = (u16, String, String);

/// A fake API on a loopback port answering each request with `answer(path, base_url)`.
pub(crate) async fn fake(answer: impl Fn(&str, &str) -> Answer + Send + 'static) -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Seen::default();
    let (url, log) = (base.clone(), seen.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).await.unwrap() == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head);
            let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
            let keyed = head.to_lowercase().contains("\nauthorization: bearer ");
            log.lock().unwrap().push((path.clone(), keyed));
            let (status, headers, body) = answer(&path, &url);
            let text = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                body.len()
            );
            socket.write_all(text.as_bytes()).await.unwrap();
            let _ = socket.shutdown().await;
        }
    });
    (base, seen)
}
