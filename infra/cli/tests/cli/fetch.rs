//! `moomoo fetch`: the progress bar in a terminal, the rows as CSV and Parquet, `--json`.

use super::*;

/// The README's promise: `moomoo fetch` creates the group, draws a live progress bar in the
/// terminal, and writes exactly the provider's rows; the same rows as Parquet, read back by
/// pyarrow; `--json` gives scripts one document and no control sequences.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_draws_progress_in_a_terminal_and_writes_exactly_the_rows() {
    // Premium, so two groups of ~25 page requests each are not paced by the rate limiter.
    let mut w = World::on_plan(7, Default::default(), &[], sandbox::Plan::Premium).await;
    w.stack.start_pollers(3);
    let user = User::new(&w);
    let symbols: Vec<&str> = sandbox::issue_codes()
        .iter()
        .step_by(97)
        .take(6)
        .map(String::as_str)
        .collect();
    let (from, to) = window();
    let (from_s, to_s, codes) = (from.to_string(), to.to_string(), symbols.join(","));
    let fetch = |out: &str| {
        vec![
            "fetch",
            "eq-bars-daily",
            "--symbols",
            &codes,
            "--from",
            &from_s,
            "--to",
            &to_s,
            "--out",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([out.to_owned()])
        .collect::<Vec<String>>()
    };
    let expected = expected_rows(&symbols, from, to, &w);
    assert!(expected.len() > 6 * 14, "every job spans pages");

    let mut in_terminal = user.command(python());
    in_terminal
        .arg(here().join("tests/pty_run.py"))
        .arg(MOOMOO)
        .args(fetch("rows.csv"));
    let out = run(in_terminal).await;
    let screen = text(&out.stdout);
    assert!(out.status.success(), "moomoo fetch failed:\n{screen}");
    assert!(
        screen.contains("6/6 jobs"),
        "the last frame shows every job done:\n{screen}"
    );
    assert!(
        screen.contains(&format!("[{}]", "=".repeat(30))),
        "a full bar:\n{screen}"
    );
    assert!(
        screen.matches(" jobs · ").count() >= 2,
        "the bar is redrawn as the group runs:\n{screen}"
    );
    assert!(
        screen.contains("jobs/s") && screen.contains("ETA"),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("wrote {} rows to rows.csv (csv)", expected.len())),
        "{screen}"
    );
    assert_csv_holds(&user.dir.join("rows.csv"), &expected);
    assert!(!user.dir.join("rows.csv.part").exists());

    let out = run(user.moomoo(
        ["--json".to_owned()]
            .into_iter()
            .chain(fetch("rows.parquet")),
    ))
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(
        (
            &summary["group"]["status"],
            &summary["rows"],
            &summary["format"]
        ),
        (
            &Value::from("completed"),
            &Value::from(expected.len()),
            &Value::from("parquet")
        ),
        "{summary}"
    );
    assert!(
        !text(&out.stderr).contains('\u{1b}'),
        "no progress bar drawn when stderr is not a terminal"
    );
    assert_parquet_holds(&user.dir.join("rows.parquet"), &expected).await;
    assert!(!user.dir.join("rows.parquet.ndjson.part").exists());

    // The first group's rows again, now as Parquet through `export`.
    let first = screen
        .split("job group ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .expect("fetch names its group");
    assert_ne!(first, summary["group"]["id"]);
    let out = run(user.moomoo(["export", first, "--out", "again.parquet"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_parquet_holds(&user.dir.join("again.parquet"), &expected).await;

    // The user's groups, newest first, a page at a time.
    let second = summary["group"]["id"].as_str().unwrap();
    let page = |args: &[&str]| {
        let mut words = vec!["--json", "groups", "list"];
        words.extend(args);
        user.moomoo(words)
    };
    let out = run(page(&["--limit", "1"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let one: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(one["job_groups"][0]["id"], second, "{one}");
    let cursor = one["next_cursor"].as_str().expect("a next page");
    let out = run(page(&["--limit", "1", "--cursor", cursor])).await;
    let two: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(two["job_groups"][0]["id"], first, "{two}");
    let out = run(page(&["--all"])).await;
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = all["job_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        (ids, &all["next_cursor"]),
        (vec![second, first], &Value::Null)
    );
    let out = run(user.moomoo(["groups", "list"])).await;
    let listing = text(&out.stdout);
    assert!(
        listing.lines().count() == 2 && listing.contains(second) && listing.contains("completed"),
        "{listing}"
    );
}
