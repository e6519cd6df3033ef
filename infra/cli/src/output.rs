//! Writing rows to a file or stdout. A group's rows: `POST /v1/job-groups/{id}/exports` writes
//! them to a file in the deployment's object storage and answers with a link, which is
//! downloaded (with a progress bar on a terminal). Other sources of rows (`moomoo data get`)
//! plug in as a [`Source`]. CSV and NDJSON are written as downloaded; Parquet is built here
//! from the NDJSON rows ([`crate::to_parquet`]). A download is checked against the byte and
//! row counts its answer gave, so a transfer cut short is an error, never a short file.
//!
//! A file is written beside its final name and renamed once complete, so `--out FILE` never
//! holds half an export, even after Ctrl-C.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use reqwest::Method;

use crate::api::{Api, segment};
use crate::args::{Format, OutputArgs};
use crate::error::CliError;

/// Where rows go and in which format, checked before anything is sent.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The file, or stdout when `None`.
    pub path: Option<PathBuf>,
    /// The format.
    pub format: Format,
}

impl Destination {
    /// Resolves `--out` and `--format`: the format defaults to the file's extension, else CSV.
    ///
    /// # Errors
    /// [`CliError::Usage`] when `--json` and the rows would both go to stdout, or Parquet
    /// would be written to a terminal.
    pub fn resolve(args: &OutputArgs, json: bool) -> Result<Self, CliError> {
        let from_extension = args
            .out
            .as_deref()
            .and_then(Path::extension)
            .and_then(|e| e.to_str())
            .and_then(|e| match e.to_ascii_lowercase().as_str() {
                "csv" => Some(Format::Csv),
                "ndjson" | "jsonl" => Some(Format::Ndjson),
                "parquet" | "pq" => Some(Format::Parquet),
                _ => None,
            });
        let format = args.format.or(from_extension).unwrap_or(Format::Csv);
        if args.out.is_none() {
            if json {
                return Err(CliError::Usage(
                    "--json prints a summary on stdout, where the rows would go too: add --out FILE"
                        .into(),
                ));
            }
            if format == Format::Parquet && std::io::stdout().is_terminal() {
                return Err(CliError::Usage(
                    "Parquet is binary: write it to a file with --out FILE, or pipe stdout".into(),
                ));
            }
        }
        Ok(Self {
            path: args.out.clone(),
            format,
        })
    }

    /// Where the file is written until it is complete.
    fn partial(&self) -> Option<PathBuf> {
        self.path.as_ref().map(|p| suffixed(p, ".part"))
    }

    /// The path as shown to the user.
    pub fn shown(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "stdout".into(), |p| p.display().to_string())
    }
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes group `id`'s rows to `dest`; returns how many rows were written. Removes its partial
/// files when it fails or is dropped halfway (Ctrl-C).
///
/// # Errors
/// The API's error (404 for an unknown group), [`CliError::Io`] for local files.
pub async fn write(api: &Api, id: &str, dest: &Destination) -> Result<u64, CliError> {
    write_from(dest, id, &GroupExport { api, id }).await
}

/// Where rows come from: something that downloads them in a text format.
pub(crate) trait Source {
    /// Writes the rows in `format` (CSV or NDJSON) into `sink`; returns how many.
    async fn download<W: Write>(&self, format: Format, sink: &mut W) -> Result<u64, CliError>;

    /// Writes the NDJSON rows in `ndjson` to `out` as Parquet; returns how many.
    fn to_parquet<W: Write + Send>(&self, ndjson: File, out: W) -> Result<u64, CliError> {
        crate::to_parquet::convert(ndjson, out)
    }
}

/// Writes the rows of `source` to `dest` (`tag` names its scratch file); returns how many rows
/// were written. Removes its partial files when it fails or is dropped halfway (Ctrl-C).
///
/// # Errors
/// The source's error, [`CliError::Io`] for local files.
pub(crate) async fn write_from(
    dest: &Destination,
    tag: &str,
    source: &impl Source,
) -> Result<u64, CliError> {
    let part = dest.partial();
    let scratch = match dest.format {
        Format::Parquet => Some(match &dest.path {
            Some(p) => suffixed(p, ".ndjson.part"),
            None => {
                std::env::temp_dir().join(format!("moomoo-{}-{tag}.ndjson", std::process::id()))
            }
        }),
        _ => None,
    };
    let _cleanup = Cleanup(part.iter().chain(&scratch).cloned().collect());
    let rows = match (&scratch, &part) {
        (Some(ndjson), _) => {
            source
                .download(Format::Ndjson, &mut create(ndjson)?)
                .await?;
            let input = File::open(ndjson).map_err(CliError::io("reading the downloaded rows"))?;
            match &part {
                Some(p) => to_file(p, |f| source.to_parquet(input, f))?,
                None => source.to_parquet(input, std::io::stdout())?,
            }
        }
        (None, Some(p)) => {
            let mut file = create(p)?;
            let rows = source.download(dest.format, &mut file).await?;
            file.sync_all()
                .map_err(CliError::io(format!("writing {}", p.display())))?;
            rows
        }
        (None, None) => {
            source
                .download(dest.format, &mut std::io::stdout().lock())
                .await?
        }
    };
    if let (Some(p), Some(path)) = (&part, &dest.path) {
        std::fs::rename(p, path).map_err(CliError::io(format!("writing {}", path.display())))?;
    }
    Ok(rows)
}

/// Removes its files when dropped (those already renamed are gone and ignored).
#[derive(Debug, Default)]
pub(crate) struct Cleanup(pub(crate) Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn create(path: &Path) -> Result<File, CliError> {
    File::create(path).map_err(CliError::io(format!("creating {}", path.display())))
}

fn to_file(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<u64, CliError>,
) -> Result<u64, CliError> {
    let mut file = create(path)?;
    let rows = write(&mut file)?;
    file.sync_all()
        .map_err(CliError::io(format!("writing {}", path.display())))?;
    Ok(rows)
}

/// An export as `POST /v1/job-groups/{id}/exports` answers it.
#[derive(Debug, serde::Deserialize)]
struct ExportLink {
    url: String,
    rows: u64,
    bytes: u64,
}

/// How long the API may take to write an export before it answers.
const EXPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// A group's rows, through an export.
struct GroupExport<'a> {
    api: &'a Api,
    id: &'a str,
}

impl Source for GroupExport<'_> {
    /// Exports the group in `format` and downloads it.
    async fn download<W: Write>(&self, format: Format, sink: &mut W) -> Result<u64, CliError> {
        let path = format!("/v1/job-groups/{}/exports", segment(self.id)?);
        let link: ExportLink = self
            .api
            .call_within(
                Method::POST,
                &path,
                Some(&serde_json::json!({ "format": format.as_str() })),
                EXPORT_TIMEOUT,
            )
            .await?;
        let resp = self.api.fetch_link(&link.url).await?;
        let expected = Expected {
            bytes: Some(link.bytes),
            rows: Some(link.rows),
        };
        stream(resp, &link.url, expected, format, sink).await
    }
}

/// What an answer says it holds, to check the download against.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Expected {
    /// Bytes of the body.
    pub(crate) bytes: Option<u64>,
    /// Rows in it.
    pub(crate) rows: Option<u64>,
}

/// Streams the body of `resp` (from `url`), rows in `format`, into `sink`, with a progress bar
/// when its size is known; returns the rows it held.
///
/// # Errors
/// [`CliError::Unreachable`] when the transfer stops halfway or falls short of `expected`.
pub(crate) async fn stream<W: Write>(
    mut resp: reqwest::Response,
    url: &str,
    expected: Expected,
    format: Format,
    sink: &mut W,
) -> Result<u64, CliError> {
    let bar = match expected.bytes {
        Some(total) => crate::progress::download_bar(total),
        None => indicatif::ProgressBar::hidden(),
    };
    let cut = |cause: String| CliError::Unreachable {
        url: url.split('?').next().unwrap_or_default().to_owned(),
        cause,
    };
    let mut rows = RowCounter::new(format);
    let mut got = 0u64;
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        bar.abandon();
        cut(format!(
            "the download stopped halfway: {}",
            crate::error::chain(&e)
        ))
    })? {
        rows.feed(&chunk);
        got += chunk.len() as u64;
        bar.set_position(got);
        sink.write_all(&chunk)
            .map_err(CliError::io("writing the rows"))?;
    }
    bar.finish_and_clear();
    sink.flush().map_err(CliError::io("writing the rows"))?;
    if expected.bytes.is_some_and(|b| b != got) || expected.rows.is_some_and(|r| r != rows.rows()) {
        let of = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
        return Err(cut(format!(
            "the download is incomplete: {got} of {} bytes, {} of {} rows",
            of(expected.bytes),
            rows.rows(),
            of(expected.rows)
        )));
    }
    Ok(rows.rows())
}

/// Counts the rows of a CSV or NDJSON stream as it passes, chunk by chunk.
#[derive(Debug)]
struct RowCounter {
    csv: bool,
    in_quotes: bool,
    lines: u64,
    pending: bool,
}

impl RowCounter {
    fn new(format: Format) -> Self {
        Self {
            csv: format == Format::Csv,
            in_quotes: false,
            lines: 0,
            pending: false,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                // A quoted CSV field may hold line breaks; `""` inside one toggles twice.
                b'"' if self.csv => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => {
                    self.lines += 1;
                    self.pending = false;
                    continue;
                }
                _ => {}
            }
            self.pending = true;
        }
    }

    fn rows(&self) -> u64 {
        let lines = self.lines + u64::from(self.pending);
        // A CSV export's first line is its header.
        if self.csv {
            lines.saturating_sub(1)
        } else {
            lines
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(out: Option<&str>, format: Option<Format>) -> OutputArgs {
        OutputArgs {
            out: out.map(PathBuf::from),
            format,
        }
    }

    #[test]
    fn the_format_follows_the_flag_then_the_extension_then_csv() {
        let f = |out, format| Destination::resolve(&args(out, format), false).map(|d| d.format);
        assert_eq!(f(Some("a.parquet"), None).unwrap(), Format::Parquet);
        assert_eq!(f(Some("a.JSONL"), None).unwrap(), Format::Ndjson);
        assert_eq!(f(Some("a.txt"), None).unwrap(), Format::Csv);
        assert_eq!(
            f(Some("a.csv"), Some(Format::Ndjson)).unwrap(),
            Format::Ndjson
        );
    }

    #[test]
    fn json_needs_a_file_for_the_rows() {
        let e = Destination::resolve(&args(None, None), true).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(Destination::resolve(&args(Some("x.csv"), None), true).is_ok());
    }

    #[test]
    fn rows_are_counted_across_chunks_and_quoted_line_breaks() {
        let csv = "Code,Note\n72030,\"two\nlines, \"\"quoted\"\"\"\n67580,x\n";
        let mut c = RowCounter::new(Format::Csv);
        for chunk in csv.as_bytes().chunks(3) {
            c.feed(chunk);
        }
        assert_eq!(c.rows(), 2);
        let mut n = RowCounter::new(Format::Ndjson);
        n.feed(b"{\"a\":\"x\\\"\"}\n{\"a\":1}");
        assert_eq!(n.rows(), 2, "a last line without a newline counts");
        assert_eq!(RowCounter::new(Format::Csv).rows(), 0);
    }

    #[test]
    fn partial_files_sit_beside_the_final_name() {
        let d = Destination::resolve(&args(Some("/tmp/x.csv"), None), false).unwrap();
        assert_eq!(d.partial(), Some(PathBuf::from("/tmp/x.csv.part")));
    }
}
