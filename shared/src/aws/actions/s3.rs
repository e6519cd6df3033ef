//! The IAM actions of an S3 request, read from its URI (virtual-hosted or path-style) and,
//! for a batch delete, its XML body.

use serde_json::Value;

use super::Performed;

/// Percent-decoding of a URI component (`+` stays: S3 paths encode spaces as `%20`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

pub(super) fn actions(op: &str, uri: &str, body: Option<&[u8]>) -> Vec<Performed> {
    // scheme://host/path?query; the bucket is the host's first label when virtual-hosted
    // (`<bucket>.s3.<region>.amazonaws.com`), else the path's first segment (path-style, as
    // against the emulator).
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let (host, path_query) = rest.split_once('/').unwrap_or((rest, ""));
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    let (bucket, key) = match host.split_once(".s3.") {
        Some((bucket, _)) => (percent_decode(bucket), percent_decode(path)),
        None => {
            let (b, k) = path.split_once('/').unwrap_or((path, ""));
            (percent_decode(b), percent_decode(k))
        }
    };
    let object = |action: &str| Performed::new(format!("s3:{action}"), format!("{bucket}/{key}"));
    let on_bucket = |action: &str| Performed::new(format!("s3:{action}"), bucket.clone());
    match op {
        "GetObject" | "HeadObject" => vec![object("GetObject")],
        "PutObject" | "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => {
            vec![object("PutObject")]
        }
        "AbortMultipartUpload" => vec![object("AbortMultipartUpload")],
        "DeleteObject" => vec![object("DeleteObject")],
        "DeleteObjects" => {
            let text = body.map(String::from_utf8_lossy).unwrap_or_default();
            text.split("<Key>")
                .skip(1)
                .filter_map(|s| s.split_once("</Key>").map(|(k, _)| xml_unescape(k)))
                .map(|k| Performed::new("s3:DeleteObject", format!("{bucket}/{k}")))
                .collect()
        }
        "ListObjectsV2" | "ListObjects" | "HeadBucket" => {
            let mut p = on_bucket("ListBucket");
            if let Some(prefix) = query.split('&').find_map(|kv| kv.strip_prefix("prefix=")) {
                p.conditions.insert(
                    "s3:prefix".into(),
                    Value::String(percent_decode(&prefix.replace('+', " "))),
                );
            }
            vec![p]
        }
        "ListMultipartUploads" => vec![on_bucket("ListBucketMultipartUploads")],
        "ListParts" => vec![object("ListMultipartUploadParts")],
        other if key.is_empty() => vec![on_bucket(other)],
        other => vec![object(other)],
    }
}
