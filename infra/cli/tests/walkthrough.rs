//! The README's deploy walkthrough (section "Deploying"), followed as written against the local
//! stack (moto + the sandbox) instead of AWS: every line of the section's `sh` blocks, in
//! order, each `moomoo` command run by `sh` exactly as the README writes it, with the built
//! `moomoo` first on `PATH`. Only what AWS answers comes from the local stack instead: the
//! stack's outputs (`out ApiUrl`), the bootstrap secret (`aws secretsmanager …`), and the
//! data sources' `--base-url`, the sandbox's. `export MOOMOO_API_KEY=...` takes the key the
//! previous commands printed, as the reader copies it. A line the test does not know fails it,
//! so the walkthrough cannot change without this test following.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use devstack::stack::{Counters, LocalStack};
use integration_tests::{KEY, capture_logs, require_emulator, unique};
use moomoo_cli::args::KnownSource;
use moomoo_cli::commands::admin::defaults;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

const MOOMOO: &str = env!("CARGO_BIN_EXE_moomoo");

/// The commands the walkthrough must hold, in this order: onboarding without curl, from the
/// first administrator to a first fetched group.
const REQUIRED: [&str; 5] = [
    "moomoo admin bootstrap",
    "moomoo admin data-sources put jquants-v2",
    "moomoo admin users create",
    "moomoo credentials set jquants-v2",
    "moomoo fetch",
];

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A command of the walkthrough: its text with continuation lines joined, and the README line
/// it starts on.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    number: usize,
}

/// Every command of the `sh` blocks of the README's "## Deploying" section (up to its next
/// heading), in order.
fn walkthrough(readme: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let (mut in_section, mut in_block) = (false, false);
    let mut pending: Option<Line> = None;
    for (i, raw) in readme.lines().enumerate() {
        let trimmed = raw.trim();
        if raw.starts_with('#') && !in_block {
            in_section = raw == "## Deploying";
            continue;
        }
        if !in_section {
            continue;
        }
        if trimmed.starts_with("```") {
            in_block = !in_block && trimmed == "```sh";
            continue;
        }
        if !in_block || (trimmed.is_empty() && pending.is_none()) {
            continue;
        }
        let (part, continues) = match trimmed.strip_suffix('\\') {
            Some(p) => (p.trim_end(), true),
            None => (trimmed, false),
        };
        let line = match pending.take() {
            Some(mut l) => {
                l.text.push(' ');
                l.text.push_str(part);
                l
            }
            None => Line {
                text: part.to_owned(),
                number: i + 1,
            },
        };
        if continues {
            pending = Some(line);
        } else {
            lines.push(line);
        }
    }
    assert!(pending.is_none(), "a block ends on a continued line");
    lines
}

/// What the test does with a line of the walkthrough.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// `cargo install --path infra/cli`: the binary under test is this crate's `moomoo`.
    Install,
    /// Only AWS answers it (the `out` helper reading the stack's outputs).
    AwsOnly,
    /// `export MOOMOO_API_URL=$(out ApiUrl)`: the local stack's URL.
    ApiUrl,
    /// `export MOOMOO_API_KEY=...`: the key printed since the last one.
    KeyFromOutput,
    /// A `moomoo` command, run by `sh` as written; `with_secret` when the README gives it
    /// `MOOMOO_ADMIN_SECRET=$(aws …)` (the local stack's secret is given instead).
    Run { command: String, with_secret: bool },
}

fn step(line: &str) -> Step {
    if line.starts_with("cargo install --locked --path infra/cli") {
        return Step::Install;
    }
    if line.starts_with("out() { aws cloudformation describe-stacks") {
        return Step::AwsOnly;
    }
    if line == "export MOOMOO_API_URL=$(out ApiUrl)" {
        return Step::ApiUrl;
    }
    if line.starts_with("export MOOMOO_API_KEY=...") {
        return Step::KeyFromOutput;
    }
    if let Some(rest) = line.strip_prefix("MOOMOO_ADMIN_SECRET=$(aws secretsmanager ") {
        let command = after_substitution(rest)
            .unwrap_or_else(|| panic!("unbalanced $( in `{line}`"))
            .trim_start();
        assert!(command.starts_with("moomoo "), "`{line}`");
        return Step::Run {
            command: command.to_owned(),
            with_secret: true,
        };
    }
    if line.starts_with("moomoo ") {
        return Step::Run {
            command: line.to_owned(),
            with_secret: false,
        };
    }
    panic!(
        "the README's walkthrough has a line this test does not know how to follow: `{line}` \
         (teach infra/cli/tests/walkthrough.rs what it means locally)"
    );
}

/// What follows the `)` closing a `$(` whose inside starts `text`.
fn after_substitution(text: &str) -> Option<&str> {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[i + 1..]);
                }
            }
            _ => {}
        }
    }
    None
}

/// `command` without a trailing `# comment`, and the comment.
fn split_comment(command: &str) -> (&str, Option<&str>) {
    match command.find(" #") {
        Some(i) => (command[..i].trim_end(), Some(command[i + 2..].trim())),
        None => (command.trim_end(), None),
    }
}

/// The value of `--flag VALUE` in `command`.
fn flag<'a>(command: &'a str, name: &str) -> Option<&'a str> {
    let words: Vec<&str> = command.split_whitespace().collect();
    words
        .iter()
        .position(|w| *w == name)
        .and_then(|i| words.get(i + 1).copied())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The reader's shell: a scratch directory as `HOME` and working directory (no real
/// configuration is read), the built `moomoo` first on `PATH`, and the variables the
/// walkthrough exported so far.
struct Shell {
    dir: PathBuf,
    path: String,
    api_url: Option<String>,
    api_key: Option<String>,
}

impl Shell {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("moomoo-walkthrough-"));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = Path::new(MOOMOO).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Self {
            dir,
            path,
            api_url: None,
            api_key: None,
        }
    }

    /// `sh -c command`, off the runtime's threads (the API it calls is served on them).
    async fn run(&self, command: &str, admin_secret: Option<&str>) -> Output {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(command)
            .current_dir(&self.dir)
            .env("PATH", &self.path)
            .env("HOME", &self.dir)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("MOOMOO_CONFIG")
            .env_remove("MOOMOO_API_URL")
            .env_remove("MOOMOO_API_KEY")
            .env_remove("MOOMOO_ADMIN_SECRET");
        if let Some(url) = &self.api_url {
            c.env("MOOMOO_API_URL", url);
        }
        if let Some(key) = &self.api_key {
            c.env("MOOMOO_API_KEY", key);
        }
        if let Some(secret) = admin_secret {
            c.env("MOOMOO_ADMIN_SECRET", secret);
        }
        tokio::task::spawn_blocking(move || c.output().expect("sh starts"))
            .await
            .unwrap()
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The rows the sandbox serves for `symbols` from `from` to `to` on `plan`, symbol after
/// symbol, as the export lists them.
fn expected_rows(symbols: &str, from: NaiveDate, to: NaiveDate, plan: sandbox::Plan) -> Vec<Value> {
    symbols
        .split(',')
        .flat_map(|code| {
            sandbox::trading_days(from, to)
                .filter_map(move |d| sandbox::daily_bar(code, d, plan))
                .map(Value::Object)
        })
        .collect()
}

fn assert_csv_holds(path: &Path, expected: &[Value]) {
    let mut csv = csv::Reader::from_path(path).unwrap();
    let header = csv.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), expected.len(), "rows in {}", path.display());
    for (record, row) in records.iter().zip(expected) {
        assert_eq!(header.len(), row.as_object().unwrap().len(), "columns");
        for (column, cell) in header.iter().zip(record.iter()) {
            let want = match &row[column] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(cell, want, "column {column}");
        }
    }
}

#[test]
fn the_walkthrough_is_read_from_the_readme() {
    let lines = walkthrough(&readme());
    let steps: Vec<Step> = lines.iter().map(|l| step(&l.text)).collect();
    let commands: Vec<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Run { command, .. } => Some(command.as_str()),
            _ => None,
        })
        .collect();
    let mut rest = commands.iter();
    for want in REQUIRED {
        assert!(
            rest.any(|c| c.starts_with(want)),
            "the walkthrough has no `{want}…` after the commands before it: {commands:#?}"
        );
    }
    assert!(steps.contains(&Step::ApiUrl) && steps.contains(&Step::KeyFromOutput));
    assert!(
        steps.iter().any(|s| matches!(
            s,
            Step::Run {
                with_secret: true,
                ..
            }
        )),
        "the bootstrap reads the secret from Secrets Manager"
    );
    assert!(
        !lines.iter().any(|l| l.text.contains("curl")),
        "onboarding needs no curl"
    );
    assert_eq!(
        after_substitution("a $(b) c) moomoo x"),
        Some(" moomoo x"),
        "nested substitutions"
    );
    assert_eq!(
        split_comment("moomoo a b          # c d"),
        ("moomoo a b", Some("c d"))
    );
}

/// Steps 4 to 6 of "Deploying" as a reader runs them, against a fresh local stack where no one
/// is onboarded yet: the bootstrap with the stack's admin secret, the data sources at the
/// sandbox, a user, the user's J-Quants key stored (and verified), and a fetch whose file holds
/// exactly the provider's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_deploy_walkthrough_runs_as_written_on_the_local_stack() {
    require_emulator();
    capture_logs();
    let lines = walkthrough(&readme());
    let steps: Vec<(Line, Step)> = lines
        .into_iter()
        .map(|l| {
            let s = step(&l.text);
            (l, s)
        })
        .collect();
    // The J-Quants account the reader stores: the plan the walkthrough names.
    let credential = steps
        .iter()
        .find_map(|(_, s)| match s {
            Step::Run { command, .. }
                if command.starts_with("moomoo credentials set jquants-v2") =>
            {
                Some(command.clone())
            }
            _ => None,
        })
        .expect("a credential is stored");
    let plan_name = flag(&credential, "--plan").expect("--plan");
    let plan: sandbox::Plan = plan_name.parse().unwrap();
    let sandbox = Sandbox::start(SandboxConfig {
        keys: vec![format!("{KEY}:{plan_name}").parse().unwrap()],
        page_size: 1000,
        today: None,
    })
    .await;
    let mut stack = LocalStack::start(&unique("walk"), Counters::default())
        .await
        .expect("stack starts");
    stack.start_pollers(2);
    let secret = stack.admin_secret().await.expect("admin secret");

    let mut shell = Shell::new();
    // The reader's key file, as `< jquants-key.txt` reads it.
    if credential.contains("< jquants-key.txt") {
        std::fs::write(shell.dir.join("jquants-key.txt"), format!("{KEY}\n")).unwrap();
    }
    let mut printed_key: Option<String> = None;
    let mut defined: Vec<String> = Vec::new();
    let mut ran: Vec<String> = Vec::new();
    for (line, step) in &steps {
        let at = format!("README.md:{}: `{}`", line.number, line.text);
        let (command, with_secret) = match step {
            Step::Install => {
                assert!(Path::new(MOOMOO).exists(), "{at}");
                continue;
            }
            Step::AwsOnly => continue,
            Step::ApiUrl => {
                shell.api_url = Some(stack.api_url.clone());
                continue;
            }
            Step::KeyFromOutput => {
                shell.api_key = Some(
                    printed_key
                        .take()
                        .unwrap_or_else(|| panic!("{at}: no key was printed since the last one")),
                );
                continue;
            }
            Step::Run {
                command,
                with_secret,
            } => (command.clone(), *with_secret),
        };
        let mut command = command;
        if let Some(rest) = command.strip_prefix("moomoo admin data-sources put ") {
            // The README's command, its provider's URL replaced by the sandbox's.
            let (bare, comment) = split_comment(&command);
            let id = rest.split_whitespace().next().unwrap();
            let (source, local) = match id {
                "jquants-v2" => (KnownSource::JquantsV2, sandbox.base_url()),
                "jquants-v1" => (KnownSource::JquantsV1, sandbox.v1_base_url()),
                "yahoo" => (KnownSource::Yahoo, sandbox.yahoo_base_url()),
                other => panic!("{at}: no sandbox URL for `{other}`"),
            };
            if let Some(url) = comment {
                assert_eq!(
                    url,
                    defaults(source).base_url,
                    "{at}: the comment names the URL `put` defines"
                );
            }
            assert!(!bare.contains("--base-url"), "{at}");
            defined.push(id.to_owned());
            command = format!("{bare} --base-url {local}");
        }
        let out = shell
            .run(&command, with_secret.then_some(secret.as_str()))
            .await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        // Shown when the test fails (or with --nocapture): what the reader would have seen.
        println!("$ {command}\n{stdout}{stderr}");
        assert!(
            out.status.success(),
            "{at} failed ({:?}):\n{stdout}\n{stderr}",
            out.status.code()
        );
        if let Some(key) = stdout.lines().find(|l| l.starts_with("mmk_")) {
            printed_key = Some(key.to_owned());
        }
        if command.starts_with("moomoo admin data-sources ls") {
            for id in &defined {
                assert!(
                    stdout.lines().any(|l| l.starts_with(id.as_str())),
                    "{at}: `{id}` is listed:\n{stdout}"
                );
            }
        }
        ran.push(command);
    }

    // Every required command ran, in order.
    let mut rest = ran.iter();
    for want in REQUIRED {
        assert!(rest.any(|c| c.starts_with(want)), "`{want}` ran: {ran:#?}");
    }
    // The key in use at the end is the new user's, not an administrator's.
    let whoami: Value = reqwest::Client::new()
        .get(format!("{}/v1/whoami", stack.api_url))
        .bearer_auth(shell.api_key.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = ran
        .iter()
        .find_map(|c| c.strip_prefix("moomoo admin users create "))
        .unwrap();
    let name = split_comment(created).0;
    assert_eq!(
        (whoami["name"].as_str(), whoami["is_admin"].as_bool()),
        (Some(name), Some(false)),
        "{whoami}"
    );
    // The fetch wrote exactly the provider's rows.
    let fetch = ran.iter().find(|c| c.starts_with("moomoo fetch ")).unwrap();
    let date = |f: &str| -> NaiveDate { flag(fetch, f).unwrap().parse().unwrap() };
    let out = shell.dir.join(flag(fetch, "--out").expect("--out"));
    let expected = expected_rows(
        flag(fetch, "--symbols").unwrap(),
        date("--from"),
        date("--to"),
        plan,
    );
    assert!(!expected.is_empty(), "the range holds trading days");
    assert_csv_holds(&out, &expected);
}
