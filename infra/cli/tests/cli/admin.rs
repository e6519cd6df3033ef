//! `moomoo admin` as an operator runs it.

use super::*;

/// `moomoo admin …` as an operator runs it: a second bootstrap is refused (409, exit 5) and the
/// old secret after a rotation too (401, exit 3); an administrator lists users, disables one
/// (their commands fail at once), enables them, revokes all their keys and issues a new one.
#[tokio::test]
async fn administration_from_the_command_line() {
    let w = World::new(100, Default::default()).await;
    let user = User::new(&w);
    let secret = w.stack.admin_secret().await.unwrap();
    let json_of = |out: &Output| -> Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("one JSON document")
    };
    let operator = |args: &[&str]| {
        let mut c = user.moomoo(args);
        c.env("MOOMOO_API_KEY", w.admin.key().unwrap());
        c
    };

    let mut boot = user.moomoo(["admin", "bootstrap", "--name", "ops"]);
    boot.env_remove("MOOMOO_API_KEY");
    let out = run(boot).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "no secret: {}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("MOOMOO_ADMIN_SECRET"));
    let mut boot = user.moomoo(["admin", "bootstrap", "--name", "ops"]);
    boot.env("MOOMOO_ADMIN_SECRET", &secret);
    let out = run(boot).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("bootstrapped already"));

    let users = json_of(&run(operator(&["--json", "admin", "users", "ls"])).await);
    let me = w
        .user
        .expect(Method::GET, "/v1/whoami", None, 200)
        .await
        .unwrap();
    let id = me["user_id"].as_str().unwrap().to_owned();
    assert!(
        users["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["user_id"] == me["user_id"]),
        "{users}"
    );
    let out = run(operator(&["admin", "users", "ls"])).await;
    assert!(
        text(&out.stdout).contains(&format!("{id}  user   enabled")),
        "{}",
        text(&out.stdout)
    );

    let (code, err) = {
        let out = run(user.moomoo(["admin", "users", "ls"])).await;
        (out.status.code(), text(&out.stderr))
    };
    assert_eq!(
        code,
        Some(3),
        "a user's key is not an administrator's: {err}"
    );

    let out = run(operator(&["admin", "users", "disable", &id])).await;
    assert!(
        text(&out.stdout).contains("disabled"),
        "{}",
        text(&out.stdout)
    );
    let out = run(user.moomoo(["keys", "list"])).await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "refused at once: {}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("disabled"));
    json_of(&run(operator(&["--json", "admin", "users", "enable", &id])).await);
    assert!(run(user.moomoo(["keys", "list"])).await.status.success());

    let revoked = json_of(&run(operator(&["--json", "admin", "users", "revoke-keys", &id])).await);
    assert_eq!(revoked["revoked"], 1);
    assert_eq!(
        run(user.moomoo(["keys", "list"])).await.status.code(),
        Some(3)
    );
    let out = run(operator(&["admin", "users", "issue-key", &id])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let issued = text(&out.stdout)
        .lines()
        .find(|l| l.starts_with("mmk_"))
        .expect("the key is printed")
        .to_owned();
    let mut back = user.moomoo(["keys", "list"]);
    back.env("MOOMOO_API_KEY", &issued);
    assert!(run(back).await.status.success());

    // After a rotation of the admin secret, the old one is refused.
    w.stack
        .aws
        .secrets
        .put_secret_value()
        .secret_id(&w.stack.api_config.admin_secret_id)
        .secret_string("rotated-admin-secret-0123456789")
        .send()
        .await
        .unwrap();
    let mut boot = user.moomoo(["admin", "bootstrap"]);
    boot.env("MOOMOO_ADMIN_SECRET", &secret);
    assert_eq!(run(boot).await.status.code(), Some(3));
}
