//! Reading a dataset's rows: `GET /v1/data/{data_source}/{endpoint}?symbols=&from=&to=&format=`,
//! asked until the rows are ready.
//!
//! The API answers from what the user holds: 200 with the rows in the body (`x-moomoo-rows`
//! says how many), or 303 with a presigned link when they are many (fetched without the API
//! key). When something is missing it answers 202 with the job groups it created for exactly
//! that; the groups are followed as one progress bar and the rows asked for again, without
//! `refresh` (a second 202 is possible: a corporate action a fetch revealed makes older rows
//! stale), up to [`ROUNDS`] times.

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::time::Duration;

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::api::{Api, GroupView};
use crate::args::{Dataset, Format};
use crate::error::CliError;
use crate::output::{Expected, Source, stream};
use crate::progress::{POLL_EVERY, watch_all};

/// Reads answered 202 before the rows are given up on.
pub const ROUNDS: usize = 5;

/// How long one read may take, its body included (a large answer is a link instead).
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// A read of a dataset's rows.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Which dataset.
    pub dataset: Dataset,
    /// Issue codes or symbols; none for every one held (with `held_only`) or a series
    /// without symbols.
    pub symbols: Vec<String>,
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
    /// Other endpoint parameters.
    pub params: Vec<(String, String)>,
    /// Fetch everything again from the provider (the first read only).
    pub refresh: bool,
    /// Only what is held: never fetches from the provider (`held=only`).
    pub held_only: bool,
}

impl Query {
    /// The path and query of the read in `format` (CSV or NDJSON).
    pub fn path(&self, format: Format, refresh: bool) -> String {
        let mut query: Vec<(&str, String)> = Vec::new();
        if !self.symbols.is_empty() {
            query.push(("symbols", self.symbols.join(",")));
        }
        if let Some(from) = self.from {
            query.push(("from", from.to_string()));
        }
        if let Some(to) = self.to {
            query.push(("to", to.to_string()));
        }
        query.push(("format", format.as_str().to_owned()));
        if refresh {
            query.push(("refresh", "true".to_owned()));
        }
        if self.held_only {
            query.push(("held", "only".to_owned()));
        }
        query.extend(self.params.iter().map(|(k, v)| (k.as_str(), v.clone())));
        format!("{}?{}", dataset_path(&self.dataset), query_string(&query))
    }
}

/// `/v1/data/{data_source}/{endpoint}`.
pub fn dataset_path(d: &Dataset) -> String {
    format!(
        "/v1/data/{}/{}",
        encode(&d.data_source),
        encode(&d.endpoint)
    )
}

/// `k=v&k=v`, each part percent-encoded.
pub fn query_string<V: AsRef<str>>(pairs: &[(&str, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes all but unreserved characters (RFC 3986) and the comma of symbol lists.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A 202: the rows are being fetched.
#[derive(Debug, Deserialize)]
struct Fetching {
    #[serde(default)]
    groups: Vec<GroupView>,
    #[serde(default)]
    missing: Vec<Missing>,
}

/// A piece the API did not hold.
#[derive(Debug, Deserialize)]
struct Missing {
    #[serde(default)]
    symbol: Option<String>,
    from: String,
    to: String,
}

/// A 303: the rows are at `url`.
#[derive(Debug, Deserialize)]
struct Link {
    url: String,
    bytes: u64,
    rows: u64,
}

/// The rows of a [`Query`], read until they are ready.
#[derive(Debug)]
pub struct DataRows<'a> {
    api: &'a Api,
    query: Query,
    quiet: bool,
    groups: RefCell<Vec<String>>,
}

impl<'a> DataRows<'a> {
    /// The rows of `query`; `quiet` leaves out what it says on stderr besides progress bars.
    pub fn new(api: &'a Api, query: Query, quiet: bool) -> Self {
        Self {
            api,
            query,
            quiet,
            groups: RefCell::default(),
        }
    }

    /// The job groups the API created for what was missing, so far.
    pub fn groups(&self) -> Vec<String> {
        self.groups.borrow().clone()
    }

    /// Follows the groups of a 202 until all have ended.
    async fn wait(&self, fetching: &Fetching) -> Result<(), CliError> {
        let ids: Vec<String> = fetching.groups.iter().map(|g| g.id.clone()).collect();
        self.groups.borrow_mut().extend(ids.iter().cloned());
        if !self.quiet {
            eprintln!("{}", describe(fetching));
        }
        if ids.is_empty() {
            tokio::time::sleep(POLL_EVERY).await;
            return Ok(());
        }
        for g in watch_all(self.api, &ids).await? {
            if g.status != "completed" {
                let id = g.id;
                return Err(CliError::GroupFailed {
                    message: g.error_message.unwrap_or(g.status),
                    hint: format!(
                        "{} of {} jobs failed. Run them again:  moomoo groups retry {id} --watch\n\
                         then this command again: it reads what they fetched",
                        g.failed_jobs, g.total_jobs
                    ),
                    id,
                });
            }
        }
        Ok(())
    }
}

/// What a 202 says, for the user.
fn describe(f: &Fetching) -> String {
    let ids: Vec<&str> = f.groups.iter().map(|g| g.id.as_str()).collect();
    let mut text = format!(
        "fetching what you do not hold yet ({} piece{}) in job group{} {}",
        f.missing.len(),
        if f.missing.len() == 1 { "" } else { "s" },
        if ids.len() == 1 { "" } else { "s" },
        ids.join(", ")
    );
    const SHOWN: usize = 5;
    for m in f.missing.iter().take(SHOWN) {
        let symbol = m.symbol.as_deref().unwrap_or("*");
        text.push_str(&format!("\n  {symbol} {}..{}", m.from, m.to));
    }
    if f.missing.len() > SHOWN {
        text.push_str(&format!("\n  and {} more", f.missing.len() - SHOWN));
    }
    text
}

async fn json_of<T: DeserializeOwned>(resp: reqwest::Response, what: &str) -> Result<T, CliError> {
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| CliError::Unexpected(format!("GET {what}: {}", crate::error::chain(&e))))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| CliError::Unexpected(format!("GET {what}: unreadable {status} answer: {e}")))
}

impl Source for DataRows<'_> {
    async fn download<W: Write>(&self, format: Format, sink: &mut W) -> Result<u64, CliError> {
        for round in 0..ROUNDS {
            let path = self.query.path(format, self.query.refresh && round == 0);
            let resp = self
                .api
                .request(Method::GET, &path, None, Some(READ_TIMEOUT))
                .await?;
            match resp.status() {
                StatusCode::OK => {
                    let rows = resp
                        .headers()
                        .get("x-moomoo-rows")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok());
                    let expected = Expected {
                        bytes: resp.content_length(),
                        rows,
                    };
                    let url = format!("{}{path}", self.api.url());
                    return stream(resp, &url, expected, format, sink).await;
                }
                StatusCode::SEE_OTHER => {
                    let link: Link = json_of(resp, &path).await?;
                    let resp = self.api.fetch_link(&link.url).await?;
                    let expected = Expected {
                        bytes: Some(link.bytes),
                        rows: Some(link.rows),
                    };
                    return stream(resp, &link.url, expected, format, sink).await;
                }
                StatusCode::ACCEPTED => {
                    let fetching: Fetching = json_of(resp, &path).await?;
                    self.wait(&fetching).await?;
                }
                s if s.is_success() || s.is_redirection() => {
                    return Err(CliError::Unexpected(format!(
                        "GET {path}: unexpected answer {s}"
                    )));
                }
                _ => return Err(Api::refusal(resp).await),
            }
        }
        Err(CliError::Unexpected(format!(
            "the rows were still being fetched after {ROUNDS} rounds of fetching what was \
             missing (job groups {}); run the command again later",
            self.groups().join(", ")
        )))
    }

    fn to_parquet<W: Write + Send>(&self, ndjson: File, out: W) -> Result<u64, CliError> {
        crate::schema::convert(ndjson, out)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::config::Config;
    use crate::fake_api::fake;

    fn group(status: &str) -> String {
        format!(
            r#"{{"id":"g1","status":"{status}","total_jobs":2,"completed_jobs":1,"failed_jobs":1,"error_message":"provider said no"}}"#
        )
    }

    const FETCHING: &str = r#"{"status":"fetching","groups":[{"id":"g1","status":"pending","total_jobs":2,"completed_jobs":0,"failed_jobs":0}],"missing":[{"symbol":"72030","from":"2024-01-01","to":"2024-01-31"}]}"#;
    const ROWS: &str = "{\"Date\":\"2024-01-04\",\"Code\":\"72030\"}\n{\"Date\":\"2024-01-05\",\"Code\":\"72030\"}\n";

    async fn read(base: &str, refresh: bool) -> (Result<u64, CliError>, Vec<u8>) {
        let api = Api::new(&Config::new(base, "mmk_test")).unwrap();
        let query = Query {
            dataset: dataset(),
            symbols: vec!["72030".into()],
            from: NaiveDate::from_ymd_opt(2024, 1, 1),
            to: NaiveDate::from_ymd_opt(2024, 1, 31),
            refresh,
            ..Query::default()
        };
        let mut sink = Vec::new();
        let rows = DataRows::new(&api, query, true)
            .download(Format::Ndjson, &mut sink)
            .await;
        (rows, sink)
    }

    #[tokio::test]
    async fn a_202_is_waited_out_then_a_303_link_fetched_without_the_key() {
        let round = Arc::new(Mutex::new(0));
        let (base, seen) = fake(move |path, url| {
            if path.starts_with("/v1/job-groups/g1") {
                return (200, String::new(), group("completed"));
            }
            if path.starts_with("/bucket/") {
                return (200, String::new(), ROWS.to_owned());
            }
            let mut round = round.lock().unwrap();
            *round += 1;
            if *round == 1 {
                return (202, String::new(), FETCHING.to_owned());
            }
            let link = format!("{url}/bucket/rows.ndjson?x-amz-signature=s");
            (
                303,
                format!("location: {link}\r\n"),
                format!(
                    r#"{{"url":"{link}","expires_at":"2026-12-06T00:00:00Z","bytes":{},"rows":2}}"#,
                    ROWS.len()
                ),
            )
        })
        .await;
        let (rows, sink) = read(&base, true).await;
        assert_eq!(rows.unwrap(), 2);
        assert_eq!(sink, ROWS.as_bytes());
        let data = "/v1/data/jquants-v2/eq-bars-daily?symbols=72030&from=2024-01-01&to=2024-01-31&format=ndjson";
        assert_eq!(
            *seen.lock().unwrap(),
            [
                (format!("{data}&refresh=true"), true),
                ("/v1/job-groups/g1".to_owned(), true),
                (data.to_owned(), true),
                ("/bucket/rows.ndjson?x-amz-signature=s".to_owned(), false),
            ],
            "refresh once; the redirect is not followed with the key"
        );
    }

    #[tokio::test]
    async fn a_failed_group_is_the_error_and_a_short_answer_too() {
        let (base, _) = fake(|path, _| {
            if path.starts_with("/v1/job-groups/g1") {
                return (200, String::new(), group("failed"));
            }
            (202, String::new(), FETCHING.to_owned())
        })
        .await;
        let e = read(&base, false).await.0.unwrap_err();
        assert_eq!(e.exit_code(), 7);
        let text = e.to_string();
        assert!(
            text.contains("job group g1 ended failed: provider said no")
                && text.contains("moomoo groups retry g1 --watch"),
            "{text}"
        );

        let (base, _) =
            fake(|_, _| (200, "x-moomoo-rows: 3\r\n".to_owned(), ROWS.to_owned())).await;
        let e = read(&base, false).await.0.unwrap_err();
        assert!(e.to_string().contains("2 of 3 rows"), "{e}");

        let (base, _) = fake(|_, _| {
            let problem =
                r#"{"title":"Bad Request","status":400,"detail":"give both `from` and `to`"}"#;
            (400, String::new(), problem.to_owned())
        })
        .await;
        let e = read(&base, false).await.0.unwrap_err();
        assert_eq!(e.to_string(), "give both `from` and `to` (HTTP 400)");
    }

    #[tokio::test]
    async fn rows_still_missing_after_every_round_are_an_error() {
        let (base, seen) = fake(|path, _| {
            if path.starts_with("/v1/job-groups/g1") {
                return (200, String::new(), group("completed"));
            }
            (202, String::new(), FETCHING.to_owned())
        })
        .await;
        let e = read(&base, false).await.0.unwrap_err();
        assert!(
            e.to_string().contains(&format!("after {ROUNDS} rounds")),
            "{e}"
        );
        let reads = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.starts_with("/v1/data/"))
            .count();
        assert_eq!(reads, ROUNDS);
    }

    fn dataset() -> Dataset {
        Dataset {
            data_source: "jquants-v2".into(),
            endpoint: "eq-bars-daily".into(),
        }
    }

    #[test]
    fn the_query_names_symbols_dates_format_and_params() {
        let q = Query {
            dataset: dataset(),
            symbols: vec!["72030".into(), "67580".into()],
            from: NaiveDate::from_ymd_opt(2024, 1, 1),
            to: NaiveDate::from_ymd_opt(2024, 1, 31),
            params: vec![("note".into(), "a b&c=d".into())],
            refresh: true,
            held_only: false,
        };
        assert_eq!(
            q.path(Format::Ndjson, true),
            "/v1/data/jquants-v2/eq-bars-daily?symbols=72030,67580&from=2024-01-01&\
             to=2024-01-31&format=ndjson&refresh=true&note=a%20b%26c%3Dd"
        );
        assert_eq!(
            q.path(Format::Csv, false),
            "/v1/data/jquants-v2/eq-bars-daily?symbols=72030,67580&from=2024-01-01&\
             to=2024-01-31&format=csv&note=a%20b%26c%3Dd",
            "no refresh after the first round"
        );
        let all_held = Query {
            dataset: dataset(),
            from: NaiveDate::from_ymd_opt(2024, 1, 1),
            held_only: true,
            ..Query::default()
        };
        assert_eq!(
            all_held.path(Format::Ndjson, false),
            "/v1/data/jquants-v2/eq-bars-daily?from=2024-01-01&format=ndjson&held=only"
        );
    }

    #[test]
    fn a_202_is_told_with_its_groups_and_pieces() {
        let f: Fetching = serde_json::from_value(serde_json::json!({
            "status": "fetching",
            "groups": [{"id": "g1", "status": "pending", "total_jobs": 2,
                        "completed_jobs": 0, "failed_jobs": 0}],
            "missing": (0..7).map(|i| serde_json::json!({
                "symbol": format!("7203{i}"), "from": "2024-01-01", "to": "2024-01-31"
            })).collect::<Vec<_>>(),
        }))
        .unwrap();
        let text = describe(&f);
        assert!(
            text.starts_with("fetching what you do not hold yet (7 pieces) in job group g1\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  72030 2024-01-01..2024-01-31\n"),
            "{text}"
        );
        assert!(text.ends_with("\n  and 2 more"), "{text}");
    }
}
