//! Ctrl-C leaves the group running; failures carry distinct exit codes.

use super::*;

/// Ctrl-C stops following, never the group: the CLI exits 130 and says how to reattach, the
/// group runs on, and `groups watch` follows it to the end. Failures carry the API's detail
/// and an exit code per kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_leaves_the_group_running_and_errors_have_distinct_exit_codes() {
    let mut w = World::on_plan(50, Default::default(), &[], sandbox::Plan::Premium).await;
    let user = User::new(&w);
    let (from, to) = window();
    let (from, to) = (from.to_string(), to.to_string());
    let fetch = [
        "fetch",
        "eq-bars-daily",
        "--symbols",
        "72030,67580",
        "--from",
        &from,
        "--to",
        &to,
        "--out",
        "rows.csv",
    ];

    // No pollers yet: the group stays pending while the CLI follows it.
    let mut child = user
        .moomoo(fetch)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (id, stderr) = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let id = line
            .strip_prefix("job group ")
            .and_then(|l| l.split(':').next())
            .unwrap_or_else(|| panic!("no group line: {line}"))
            .to_owned();
        (id, stderr)
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (status, rest) = tokio::task::spawn_blocking(move || {
        let rest: Vec<String> = stderr.lines().map(Result::unwrap).collect();
        (child.wait().unwrap(), rest.join("\n"))
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("keeps running on the server"), "{rest}");
    assert!(
        rest.contains(&format!("moomoo groups watch {id}")),
        "{rest}"
    );
    assert!(!user.dir.join("rows.csv").exists() && !user.dir.join("rows.csv.part").exists());
    let g = w
        .user
        .expect(Method::GET, &format!("/v1/job-groups/{id}"), None, 200)
        .await
        .unwrap();
    assert_eq!(
        (&g["status"], &g["error_message"]),
        (&Value::from("pending"), &Value::Null)
    );

    w.stack.start_pollers(2);
    let out = run(user.moomoo(["groups", "watch", &id, "--json"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let g: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&g["status"], &g["completed_jobs"]),
        (&Value::from("completed"), &Value::from(2))
    );
    let out = run(user.moomoo(["export", &id, "--format", "ndjson"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ndjson = text(&out.stdout);
    let (from, to) = window();
    assert_eq!(
        ndjson.lines().count(),
        expected_rows(&["72030", "67580"], from, to, &w).len()
    );

    // Each failure: its exit code and the API's own words.
    let failure = |out: &Output| (out.status.code(), text(&out.stderr));
    let missing = uuid::Uuid::new_v4().to_string();
    let (code, err) = failure(&run(user.moomoo(["groups", "show", &missing])).await);
    assert_eq!(
        (code, err.trim()),
        (Some(4), "error: job group not found (HTTP 404)")
    );
    let (code, err) = failure(&run(user.moomoo(["fetch", "eq-nope", "--symbols", "72030"])).await);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("has no endpoint `eq-nope`: use one of"),
        "{err}"
    );
    let mut wrong_key = user.moomoo(["groups", "show", &id]);
    wrong_key.env("MOOMOO_API_KEY", "not-a-key");
    let (code, err) = failure(&run(wrong_key).await);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("missing or invalid API key"), "{err}");
    let mut nowhere = user.moomoo(["groups", "show", &id]);
    nowhere.env("MOOMOO_API_URL", "http://127.0.0.1:9");
    let (code, err) = failure(&run(nowhere).await);
    assert_eq!(code, Some(6), "{err}");
    assert!(
        err.contains("cannot reach the API at http://127.0.0.1:9"),
        "{err}"
    );
    let mut unconfigured = user.moomoo(["groups", "show", &id]);
    unconfigured
        .env_remove("MOOMOO_CONFIG")
        .env_remove("MOOMOO_API_KEY");
    let (code, err) = failure(&run(unconfigured).await);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no API URL: set MOOMOO_API_URL"), "{err}");

    // Credentials: without one a fetch is refused with what to do; set reads stdin.
    let out = run(user.moomoo(["credentials", "delete", "jquants-v2"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, err) = failure(&run(user.moomoo(fetch)).await);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("no credential stored for `jquants-v2`"),
        "{err}"
    );
    let set = user.moomoo([
        "credentials",
        "set",
        "jquants-v2",
        "--plan",
        "premium",
        "--verify",
    ]);
    let out = run_with_stdin(set, format!("{KEY}\n")).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(user.moomoo(["credentials", "show", "jquants-v2", "--json"])).await;
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(meta["plan"], "premium", "{meta}");
    assert!(!text(&out.stdout).contains(KEY), "the key never comes back");

    // J-Quants V1: the mail address on the command line, the password on stdin; verifying
    // signs in, and the tokens it got are stored.
    w.sandbox.add_v1_user(
        "cli-v1@example.com",
        "cli-v1-password",
        sandbox::Plan::Light,
    );
    let set = user.moomoo([
        "credentials",
        "set",
        "jquants-v1",
        "--mail-address",
        "cli-v1@example.com",
        "--plan",
        "light",
        "--verify",
    ]);
    let out = run_with_stdin(set, "cli-v1-password\n".to_owned()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(user.moomoo(["credentials", "show", "jquants-v1", "--json"])).await;
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (meta["refresh_token"].as_str(), meta["id_token"].as_str()),
        (Some("valid"), Some("valid")),
        "{meta}"
    );
    assert!(!text(&out.stdout).contains("cli-v1-password"));
}
