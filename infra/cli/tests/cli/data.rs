//! `moomoo data get` and `data sync` (#20), read back by DuckDB.

use super::*;

/// Rows of an NDJSON file, in the file's order.
fn ndjson_rows(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Rows sorted by `Code`, then `Date`, as the DuckDB script sorts them.
fn by_code_and_date(mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by(|a, b| {
        (a["Code"].as_str(), a["Date"].as_str()).cmp(&(b["Code"].as_str(), b["Date"].as_str()))
    });
    rows
}

/// What `duckdb_sync.py` computes, computed here from rows the API returned: the count, and
/// the SHA-256 of `Date,Code,<bits of C>` lines sorted by Code then Date.
fn checksum(rows: &[Value]) -> (usize, String) {
    let lines: Vec<String> = by_code_and_date(rows.to_vec())
        .iter()
        .map(|r| {
            let c = r["C"]
                .as_f64()
                .map_or_else(|| "null".to_owned(), |c| format!("{:016x}", c.to_bits()));
            format!(
                "{},{},{c}",
                r["Date"].as_str().unwrap(),
                r["Code"].as_str().unwrap()
            )
        })
        .collect();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, lines.join("\n").as_bytes());
    let hex = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    (rows.len(), hex)
}

/// DuckDB (PyPI, from the test virtualenv) reads `dir` as an analyst would:
/// `read_parquet('dir/**/*.parquet', hive_partitioning = true)`.
async fn duckdb_reads(dir: &Path) -> Value {
    let mut cmd = Command::new(python());
    cmd.arg(here().join("tests/duckdb_sync.py")).arg(dir);
    let out = run(cmd).await;
    assert!(out.status.success(), "duckdb: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The columns DuckDB sees are typed as the issue asks: Date and Code first, dates as DATE,
/// codes as VARCHAR, prices as DOUBLE.
fn assert_typed_columns(read: &Value) {
    let columns: Vec<(&str, &str)> = read["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_str().unwrap(), c[1].as_str().unwrap()))
        .collect();
    assert_eq!(
        columns[..2],
        [("Date", "DATE"), ("Code", "VARCHAR")],
        "{columns:?}"
    );
    for (name, kind) in &columns {
        if [
            "O",
            "H",
            "L",
            "C",
            "AdjO",
            "AdjH",
            "AdjL",
            "AdjC",
            "AdjFactor",
        ]
        .contains(name)
        {
            assert_eq!(*kind, "DOUBLE", "{name}: {columns:?}");
        }
    }
    assert!(columns.iter().any(|c| c.0 == "AdjC"), "{columns:?}");
}

/// `moomoo data …` (#20): the second `data get` of the same rows asks the provider nothing;
/// `data sync` mirrors the holdings as Hive-partitioned Parquet that DuckDB reads back as
/// exactly the rows the API returned (count and checksum), typed; a second sync transfers
/// nothing, one more month rewrites only its year, and a deletion empties the mirror.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_get_twice_asks_the_provider_once_and_sync_feeds_duckdb() {
    let mut w = World::on_plan(100, Default::default(), &[], sandbox::Plan::Premium).await;
    w.stack.start_pollers(2);
    let user = User::new(&w);
    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .step_by(131)
        .take(3)
        .map(String::as_str)
        .collect();
    let codes = symbols.join(",");
    // Last year's: every month of it is over, whenever the test runs.
    let this_year = Utc::now().date_naive().year() - 1;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    // Across a new year, so the mirror has two partitions.
    let (from, to) = (day(this_year - 1, 11, 1), day(this_year, 1, 31));
    let get = |from: NaiveDate, to: NaiveDate, extra: &[&str]| {
        let mut words: Vec<String> = [
            "data",
            "get",
            "jquants-v2/eq-bars-daily",
            "--symbols",
            &codes,
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
        ]
        .map(str::to_owned)
        .to_vec();
        words.extend(extra.iter().map(|s| (*s).to_owned()));
        user.moomoo(words)
    };
    let requests = || w.sandbox.stats().requests(integration_tests::KEY);

    let before = requests();
    let out = run(get(
        from,
        to,
        &["--format", "ndjson", "--out", "first.ndjson"],
    ))
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(
        said.contains("fetching what you do not hold yet (3 pieces)"),
        "{said}"
    );
    let fetched = requests() - before;
    assert!(fetched >= 3, "one request a symbol at least: {fetched}");
    let first = ndjson_rows(&user.dir.join("first.ndjson"));
    let want: Vec<Map<String, Value>> = by_code_and_date(expected_rows(&symbols, from, to, &w))
        .iter()
        .map(normalized)
        .collect();
    let got: Vec<Map<String, Value>> = by_code_and_date(first.clone())
        .iter()
        .map(normalized)
        .collect();
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want, "exactly the provider's rows");
    let keys: Vec<&String> = first[0].as_object().unwrap().keys().collect();
    assert_eq!(keys[..2], ["Date", "Code"], "Date and Code first: {keys:?}");

    let before = requests();
    let out = run(get(
        from,
        to,
        &["--format", "ndjson", "--out", "second.ndjson"],
    ))
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        requests() - before,
        0,
        "the second read asks the provider nothing"
    );
    assert!(
        !text(&out.stderr).contains("fetching"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read(user.dir.join("second.ndjson")).unwrap(),
        std::fs::read(user.dir.join("first.ndjson")).unwrap()
    );

    // CSV on stdout, header first with Date and Code.
    let out = run(get(from, to, &[])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv_text = text(&out.stdout);
    assert!(
        csv_text.starts_with("Date,Code,"),
        "{}",
        &csv_text[..80.min(csv_text.len())]
    );
    assert_eq!(csv_text.lines().count(), first.len() + 1);

    // Parquet from `data get`, typed, read by DuckDB.
    let single = user.dir.join("single");
    std::fs::create_dir_all(&single).unwrap();
    let out = run(get(from, to, &["--out", "single/rows.parquet"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let read = duckdb_reads(&single).await;
    assert_typed_columns(&read);
    let (count, sum) = checksum(&first);
    assert_eq!(
        (read["count"].as_u64(), read["checksum"].as_str()),
        (Some(count as u64), Some(sum.as_str()))
    );

    // What is held.
    let out = run(user.moomoo(["--json", "data", "ls"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let held: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(held["holdings"].as_array().unwrap().len(), 3, "{held}");
    let out = run(user.moomoo(["data", "ls"])).await;
    let listing = text(&out.stdout);
    assert!(
        listing.starts_with("jquants-v2 eq-bars-daily: 3 symbols, ")
            && symbols.iter().all(|s| listing.contains(s))
            && listing.contains(&format!("{from}..")),
        "{listing}"
    );

    // The mirror: two years, read back by DuckDB as exactly the rows the API returned.
    let sync = || {
        user.moomoo([
            "--json",
            "data",
            "sync",
            "jquants-v2/eq-bars-daily",
            "--dir",
            "mirror",
        ])
    };
    let synced = |out: &Output| -> Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = requests();
    let report = synced(&run(sync()).await);
    assert_eq!(
        (&report["written"], &report["unchanged"], &report["removed"]),
        (&Value::from(2), &Value::from(0), &Value::from(0)),
        "{report}"
    );
    assert_eq!(requests() - before, 0, "a sync never asks the provider");
    let mirror = user.dir.join("mirror");
    for year in [this_year - 1, this_year] {
        let file = mirror.join(format!("dataset=eq-bars-daily/year={year}/part-0.parquet"));
        assert!(file.is_file(), "{}", file.display());
    }
    assert!(
        mirror
            .join(".moomoo-sync/jquants-v2__eq-bars-daily.json")
            .is_file()
    );
    let read = duckdb_reads(&mirror).await;
    assert_typed_columns(&read);
    assert_eq!(
        (read["count"].as_u64(), read["checksum"].as_str()),
        (Some(count as u64), Some(sum.as_str()))
    );

    let report = synced(&run(sync()).await);
    assert_eq!(
        (
            &report["written"],
            &report["unchanged"],
            &report["rows_transferred"]
        ),
        (&Value::from(0), &Value::from(2), &Value::from(0)),
        "nothing new, nothing travels: {report}"
    );

    // One more month: only its year is rewritten.
    let (march_1, march_31) = (day(this_year, 3, 1), day(this_year, 3, 31));
    let out = run(get(
        march_1,
        march_31,
        &["--format", "ndjson", "--out", "march.ndjson"],
    ))
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = synced(&run(sync()).await);
    let actions: Vec<(i64, &str)> = report["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["year"].as_i64().unwrap(), p["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            (i64::from(this_year) - 1, "unchanged"),
            (i64::from(this_year), "written")
        ],
        "{report}"
    );
    let mut all = first.clone();
    all.extend(ndjson_rows(&user.dir.join("march.ndjson")));
    let read = duckdb_reads(&mirror).await;
    let (count, sum) = checksum(&all);
    assert_eq!(
        (read["count"].as_u64(), read["checksum"].as_str()),
        (Some(count as u64), Some(sum.as_str()))
    );
    let out = run(user.moomoo([
        "data",
        "sync",
        "jquants-v2/eq-bars-daily",
        "--dir",
        "mirror",
    ]))
    .await;
    let said = text(&out.stdout);
    assert!(
        said.contains(&format!("year={this_year}  unchanged"))
            && said.contains("0 written, 2 unchanged, 0 removed; 0 rows transferred"),
        "{said}"
    );

    // Deleting the dataset empties the mirror at its next sync.
    let out = run(user.moomoo(["--json", "data", "rm", "jquants-v2/eq-bars-daily"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let deleted: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(deleted["holdings_changed"], 3, "{deleted}");
    let report = synced(&run(sync()).await);
    assert_eq!(
        (&report["written"], &report["removed"]),
        (&Value::from(0), &Value::from(2)),
        "{report}"
    );
    assert!(
        !mirror
            .join(format!("dataset=eq-bars-daily/year={this_year}"))
            .exists()
    );
}
