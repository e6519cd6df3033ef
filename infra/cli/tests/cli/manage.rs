//! `moomoo schedules`, `keys` and `groups jobs` against the stack.

use super::*;

/// `moomoo schedules …`, `moomoo keys …` and `moomoo groups jobs …` against the stack: each
/// change visible through the API, secrets printed once and never listed, refusals with the
/// API's words and their exit codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_keys_and_jobs_from_the_command_line() {
    let mut w = World::new(100, Default::default()).await;
    w.stack.start_pollers(1);
    let user = User::new(&w);
    let failure = |out: &Output| (out.status.code(), text(&out.stderr));
    let json_of = |out: &Output| -> Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("one JSON document")
    };

    // Jobs of a group, filtered and paged.
    let (from, to) = window();
    let g = w
        .user
        .expect(
            Method::POST,
            "/v1/job-groups",
            Some(&serde_json::json!({
                "data_source": "jquants-v2", "endpoint": "eq-bars-daily",
                "symbols": ["72030", "67580"],
                "params": {"from": from.to_string(), "to": to.to_string()},
            })),
            202,
        )
        .await
        .unwrap();
    let group = g["id"].as_str().unwrap().to_owned();
    w.user
        .wait_for_group(&group, Duration::from_secs(120))
        .await
        .unwrap();
    let done = json_of(
        &run(user.moomoo(["--json", "groups", "jobs", &group, "--status", "completed"])).await,
    );
    let symbols: Vec<&str> = done["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["72030", "67580"], "{done}");
    let none = json_of(
        &run(user.moomoo(["--json", "groups", "jobs", &group, "--status", "failed"])).await,
    );
    assert_eq!(none["jobs"], serde_json::json!([]), "{none}");
    let out = run(user.moomoo(["groups", "jobs", &group, "--limit", "1"])).await;
    let listing = text(&out.stdout);
    assert!(
        out.status.success() && listing.contains("completed") && listing.contains("72030"),
        "{listing}"
    );
    assert!(
        listing.contains(&format!(
            "more: moomoo groups jobs {group} --cursor {group}.0"
        )),
        "{listing}"
    );
    let (code, err) =
        failure(&run(user.moomoo(["groups", "jobs", &group, "--status", "done"])).await);
    assert_eq!(code, Some(2), "{err}");

    // Schedules: create, list, disable, enable, update, show, delete.
    let created = json_of(
        &run(user.moomoo([
            "--json",
            "schedules",
            "create",
            "eq-bars-daily",
            "--name",
            "close",
            "--cron",
            "0 18 * * 1-5",
            "--symbols",
            "72030",
            "--window",
            "previous-trading-day",
        ]))
        .await,
    );
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&created["enabled"], &created["time_zone"]),
        (&Value::from(true), &Value::from("Asia/Tokyo"))
    );
    let listed = json_of(&run(user.moomoo(["--json", "schedules", "list"])).await);
    assert_eq!(listed["schedules"][0]["id"], id.as_str(), "{listed}");
    let off = json_of(&run(user.moomoo(["--json", "schedules", "disable", &id])).await);
    assert_eq!(
        (&off["enabled"], &off["next_fire_at"]),
        (&Value::from(false), &Value::Null)
    );
    let on = json_of(&run(user.moomoo(["--json", "schedules", "enable", &id])).await);
    assert_eq!(on["enabled"], true);
    let changed = json_of(
        &run(user.moomoo([
            "--json",
            "schedules",
            "update",
            &id,
            "--cron",
            "30 18 * * 1-5",
            "--window",
            "last-trading-days:3",
        ]))
        .await,
    );
    assert_eq!(
        (
            &changed["cron"],
            &changed["name"],
            &changed["template"]["window"],
            &changed["template"]["symbols"]
        ),
        (
            &Value::from("30 18 * * 1-5"),
            &Value::from("close"),
            &serde_json::json!({"kind": "last-trading-days", "days": 3}),
            &serde_json::json!(["72030"])
        ),
        "what the update does not name stays"
    );
    let out = run(user.moomoo(["schedules", "show", &id])).await;
    let shown = text(&out.stdout);
    assert!(
        shown.contains("30 18 * * 1-5 (Asia/Tokyo)") && shown.contains("last-trading-days:3"),
        "{shown}"
    );
    let out = run(user.moomoo(["schedules", "list"])).await;
    assert!(text(&out.stdout).contains(&id), "{}", text(&out.stdout));
    let (code, err) = failure(
        &run(user.moomoo([
            "schedules",
            "create",
            "eq-nope",
            "--name",
            "x",
            "--cron",
            "0 18 * * *",
            "--window",
            "previous-trading-day",
        ]))
        .await,
    );
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("has no endpoint `eq-nope`"), "{err}");
    let (code, err) = failure(
        &run(user.moomoo([
            "schedules",
            "create",
            "eq-bars-daily",
            "--name",
            "x",
            "--cron",
            "0 18 * * *",
            "--window",
            "yesterday",
        ]))
        .await,
    );
    assert_eq!(code, Some(2), "{err}");
    let out = run(user.moomoo(["schedules", "delete", &id])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, err) = failure(&run(user.moomoo(["schedules", "show", &id])).await);
    assert_eq!(
        (code, err.trim()),
        (Some(4), "error: schedule not found (HTTP 404)")
    );

    // Keys: create (secret once), use, rotate, revoke; the last one stays.
    let keys = json_of(&run(user.moomoo(["--json", "keys", "list"])).await);
    let first = keys["api_keys"][0]["id"].as_str().unwrap().to_owned();
    let out = run(user.moomoo(["keys", "create", "--name", "laptop"])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let secret = printed
        .lines()
        .find(|l| l.starts_with("mmk_"))
        .unwrap_or_else(|| panic!("the secret is printed: {printed}"))
        .to_owned();
    assert!(text(&out.stderr).contains("shown once"));
    let as_laptop = |args: &[&str]| {
        let mut c = user.moomoo(args);
        c.env("MOOMOO_API_KEY", &secret);
        c
    };
    let keys = json_of(&run(as_laptop(&["--json", "keys", "list"])).await);
    let listed = keys["api_keys"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{keys}");
    assert!(!keys.to_string().contains(&secret), "never listed: {keys}");
    let laptop = listed[1]["id"].as_str().unwrap().to_owned();
    let rotated = json_of(&run(as_laptop(&["--json", "keys", "rotate", &laptop])).await);
    let (code, err) = failure(&run(as_laptop(&["keys", "list"])).await);
    assert_eq!(code, Some(3), "the old secret stops at once: {err}");
    let new_secret = rotated["api_key"].as_str().unwrap().to_owned();
    let new_id = rotated["id"].as_str().unwrap().to_owned();
    let as_new = |args: &[&str]| {
        let mut c = user.moomoo(args);
        c.env("MOOMOO_API_KEY", &new_secret);
        c
    };
    let out = run(as_new(&["keys", "revoke", &first])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, _) = failure(&run(user.moomoo(["keys", "list"])).await);
    assert_eq!(code, Some(3), "the revoked first key is refused");
    let (code, err) = failure(&run(as_new(&["keys", "revoke", &new_id])).await);
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("only active API key"), "{err}");
    let out = run(as_new(&["keys", "list"])).await;
    let listing = text(&out.stdout);
    assert!(
        listing.contains("laptop") && listing.matches("revoked ").count() == 2,
        "{listing}"
    );
}
