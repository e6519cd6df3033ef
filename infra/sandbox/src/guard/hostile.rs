//! Answers of a hostile provider ([`FaultSpec::hostile`](super::FaultSpec::hostile)), given to
//! every request of the caller in place of the data: a redirect to any URL, a `Retry-After`
//! far in the future, a gzip bomb, a huge body, a pagination key that never changes, and a
//! body that drips. Large bodies are streamed as the client reads them, so the sandbox never
//! holds more than a chunk of one.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flate2::{Compress, Compression, Crc, FlushCompress};
use futures::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};

use super::Flavor;

/// The pagination key every page names under [`Hostile::RepeatedPageKey`].
pub const REPEATED_KEY: &str = "c2FuZGJveC1yZXBlYXRlZC1rZXk";

/// A hostile answer. JSON: `{"kind": "gzip_bomb", "bytes": 2147483648}` and so on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Hostile {
    /// `status` (301, 302, 303, 307 or 308) with `Location: location`: another host, a plain
    /// http URL.
    Redirect {
        /// The 3xx status.
        status: u16,
        /// The `Location` header.
        location: String,
    },
    /// 429 with `Retry-After: value` (e.g. `99999999999`).
    RetryAfter {
        /// The header's text.
        value: String,
    },
    /// 200 with `Content-Encoding: gzip`: `bytes` zeros compressed about a thousand times
    /// (2 GiB in about 2 MB), a valid gzip stream with its CRC and length.
    GzipBomb {
        /// The inflated size.
        bytes: u64,
    },
    /// 200 with a JSON body of `bytes` bytes (a data array of whitespace), no length
    /// declared.
    HugeBody {
        /// The body's size.
        bytes: u64,
    },
    /// The data as usual, except that every page names the same `pagination_key`
    /// ([`REPEATED_KEY`]) and a request sending it gets the first page again: a client that
    /// follows keys never ends.
    RepeatedPageKey,
    /// 200 whose body (a data array of whitespace) arrives `bytes_per_sec` bytes a second for
    /// `secs` seconds, its length declared up front.
    SlowDrip {
        /// Bytes a second (at least 1).
        bytes_per_sec: u32,
        /// How long the body takes.
        secs: u64,
    },
}

const OPEN: &[u8] = b"{\"data\":[";
const CLOSE: &[u8] = b"]}";
const MIB: u64 = 1024 * 1024;

/// The hostile answer to `request`.
pub(crate) async fn answer(
    hostile: &Hostile,
    flavor: Flavor,
    request: Request,
    next: Next,
) -> Response {
    match hostile {
        Hostile::Redirect { status, location } => {
            let status = StatusCode::from_u16(*status)
                .ok()
                .filter(StatusCode::is_redirection)
                .unwrap_or(StatusCode::FOUND);
            match HeaderValue::from_str(location) {
                Ok(to) => (status, [(header::LOCATION, to)]).into_response(),
                Err(_) => StatusCode::BAD_REQUEST.into_response(),
            }
        }
        Hostile::RetryAfter { value } => {
            let mut response = match flavor {
                Flavor::JQuants => super::too_many(super::JQUANTS_TOO_MANY, None),
                Flavor::Yahoo => super::yahoo_too_many(),
            };
            if let Ok(v) = HeaderValue::from_str(value) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
        Hostile::GzipBomb { bytes } => {
            json(Body::from_stream(gzip_of_zeros(*bytes)), Some("gzip"), None)
        }
        Hostile::HugeBody { bytes } => json(Body::from_stream(whitespace(*bytes)), None, None),
        Hostile::SlowDrip {
            bytes_per_sec,
            secs,
        } => {
            let per_sec = u64::from((*bytes_per_sec).max(1));
            let length = OPEN.len() as u64 + per_sec * secs + CLOSE.len() as u64;
            json(Body::from_stream(drip(per_sec, *secs)), None, Some(length))
        }
        Hostile::RepeatedPageKey => repeat_key(request, next).await,
    }
}

fn json(body: Body, encoding: Option<&'static str>, length: Option<u64>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    response
}

/// The first page, whatever key the request sent, naming [`REPEATED_KEY`] as the next.
async fn repeat_key(mut request: Request, next: Next) -> Response {
    let uri = request.uri().clone();
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("pagination_key="))
        .collect();
    let path = if kept.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{}", uri.path(), kept.join("&"))
    };
    if let Ok(first) = path.parse::<Uri>() {
        *request.uri_mut() = first;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let Ok(serde_json::Value::Object(mut page)) = serde_json::from_slice(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    page.insert("pagination_key".into(), REPEATED_KEY.into());
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&page).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

/// Raw deflate of `zeros` zero bytes, ending on a full flush: byte-aligned, referring to
/// nothing before it, so copies of it can follow one another in one stream.
fn deflate_zeros(zeros: usize) -> Vec<u8> {
    let mut compress = Compress::new(Compression::best(), false);
    let input = vec![0u8; zeros];
    let mut out = Vec::with_capacity(zeros / 512 + 1024);
    while compress.total_in() < zeros as u64 {
        let done = compress.total_in() as usize;
        if out.capacity() - out.len() < 1024 {
            out.reserve(64 * 1024);
        }
        let _ = compress.compress_vec(&input[done..], &mut out, FlushCompress::None);
    }
    loop {
        out.reserve(1024);
        let before = out.len();
        let _ = compress.compress_vec(&[], &mut out, FlushCompress::Full);
        if out.len() == before || out.ends_with(&[0, 0, 0xff, 0xff]) {
            break;
        }
    }
    out
}

/// A gzip stream of `bytes` zeros: the header, a precomputed block per MiB, a block for the
/// rest, the final empty block and the trailer. Nothing is compressed per request.
fn gzip_of_zeros(bytes: u64) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let mib = Bytes::from(deflate_zeros(MIB as usize));
    let rest = (bytes % MIB) as usize;
    let tail = Bytes::from(if rest > 0 {
        deflate_zeros(rest)
    } else {
        Vec::new()
    });
    let header = Bytes::from_static(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    let blocks = stream::iter(0..bytes / MIB).map(move |_| mib.clone());
    let trailer = stream::once(async move {
        // The final block: fixed Huffman codes, last-block bit, end of block.
        let mut end = vec![0x03, 0x00];
        end.extend_from_slice(&crc_of_zeros(bytes).to_le_bytes());
        end.extend_from_slice(&(bytes as u32).to_le_bytes());
        Bytes::from(end)
    });
    stream::once(async move { header })
        .chain(blocks)
        .chain(stream::once(async move { tail }))
        .chain(trailer)
        .map(Ok)
}

/// CRC-32 of `bytes` zeros, a MiB's CRC combined once per MiB (no 2 GiB pass).
fn crc_of_zeros(bytes: u64) -> u32 {
    let mut per_mib = Crc::new();
    per_mib.update(&vec![0u8; MIB as usize]);
    let mut crc = Crc::new();
    for _ in 0..bytes / MIB {
        crc.combine(&per_mib);
    }
    let mut rest = Crc::new();
    rest.update(&vec![0u8; (bytes % MIB) as usize]);
    crc.combine(&rest);
    crc.sum()
}

/// `{"data":[` + whitespace + `]}`, `bytes` in all, 64 KiB a chunk.
fn whitespace(bytes: u64) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    const CHUNK: u64 = 64 * 1024;
    let fill = bytes.saturating_sub((OPEN.len() + CLOSE.len()) as u64);
    let spaces = Bytes::from(vec![b' '; CHUNK as usize]);
    let chunks = stream::iter(0..fill.div_ceil(CHUNK)).map(move |i| {
        let n = CHUNK.min(fill - i * CHUNK) as usize;
        spaces.slice(..n)
    });
    stream::once(async { Bytes::from_static(OPEN) })
        .chain(chunks)
        .chain(stream::once(async { Bytes::from_static(CLOSE) }))
        .map(Ok)
}

/// `{"data":[`, then `per_sec` spaces a second for `secs` seconds, a byte at a time, then
/// `]}`.
fn drip(per_sec: u64, secs: u64) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let every = Duration::from_secs(1) / u32::try_from(per_sec).unwrap_or(u32::MAX);
    let spaces = stream::iter(0..per_sec * secs).then(move |_| async move {
        tokio::time::sleep(every).await;
        Bytes::from_static(b" ")
    });
    stream::once(async { Bytes::from_static(OPEN) })
        .chain(spaces)
        .chain(stream::once(async { Bytes::from_static(CLOSE) }))
        .map(Ok)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    async fn collect(s: impl Stream<Item = Result<Bytes, Infallible>>) -> Vec<u8> {
        let chunks: Vec<_> = s.collect().await;
        chunks
            .into_iter()
            .flat_map(|c| c.unwrap().to_vec())
            .collect()
    }

    #[tokio::test]
    async fn the_bomb_is_valid_gzip_of_exactly_its_zeros_and_tiny() {
        let bytes = 3 * MIB + 12_345;
        let gz = collect(gzip_of_zeros(bytes)).await;
        assert!(gz.len() < 8 * 1024, "{} bytes compressed", gz.len());
        // GzDecoder checks the CRC and the length in the trailer.
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut inflated)
            .expect("valid gzip");
        assert_eq!(inflated.len() as u64, bytes);
        assert!(inflated.iter().all(|b| *b == 0));
    }

    #[test]
    fn two_gib_cost_about_two_megabytes() {
        let per_mib = deflate_zeros(MIB as usize).len() as u64;
        assert!(per_mib * 2048 < 3_000_000, "{per_mib} bytes a MiB");
        assert_eq!(crc_of_zeros(0), 0);
    }

    #[tokio::test]
    async fn a_huge_body_is_exactly_its_size_and_json() {
        let body = collect(whitespace(200_003)).await;
        assert_eq!(body.len(), 200_003);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["data"], serde_json::json!([]));
    }

    #[tokio::test]
    async fn a_drip_takes_its_time() {
        let started = std::time::Instant::now();
        let body = collect(drip(20, 1)).await;
        assert_eq!(body.len(), OPEN.len() + 20 + CLOSE.len());
        assert!(started.elapsed() >= Duration::from_millis(900));
    }

    #[test]
    fn specs_read_from_json() {
        let spec: Hostile =
            serde_json::from_str(r#"{"kind": "gzip_bomb", "bytes": 2147483648}"#).unwrap();
        assert_eq!(spec, Hostile::GzipBomb { bytes: 2 << 30 });
        let spec: Hostile = serde_json::from_str(r#"{"kind": "repeated_page_key"}"#).unwrap();
        assert_eq!(spec, Hostile::RepeatedPageKey);
    }
}
