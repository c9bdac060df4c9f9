//! `tessera rights grant|revoke|list` (easydb-rights.md §10.4), run as a real process on
//! the database of a running server: what it changes shows in the server's answers on the
//! next request, and each exit status has its case.

use serde_json::{json, Value};
use tessera_tests::import::{run_tessera, Run};
use tessera_tests::{Server, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

/// A logged-in easydb session's token.
fn session(s: &Server, login: &str, password: &str) -> String {
    let token = s.get("/api/v1/session").assert_status(200).json()["token"]
        .as_str()
        .expect("token")
        .to_owned();
    s.request("POST", "/api/v1/session/authenticate")
        .form(&[("token", &token), ("login", login), ("password", password)])
        .send()
        .assert_status(200);
    token
}

fn rights_of(s: &Server, token: &str) -> Value {
    s.get(&format!("/api/v1/session?token={token}"))
        .assert_status(200)
        .json()["system_rights"]
        .clone()
}

fn rights(db: &TestDb, args: &[&str]) -> Run {
    let mut all = vec!["rights"];
    all.extend_from_slice(args);
    run_tessera(Some(db), &all, None)
}

#[track_caller]
fn assert_ok(run: &Run) {
    assert_eq!(run.code, Some(0), "{}{}", run.stderr, run.stdout);
}

/// Exit 1 with one line on stderr holding `needle`.
#[track_caller]
fn assert_refused(run: &Run, needle: &str) {
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line: {}", run.stderr);
    assert!(lines[0].starts_with("tessera: "), "{}", lines[0]);
    assert!(lines[0].contains(needle), "{needle:?} in {}", lines[0]);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

fn preset_post(s: &Server, token: &str) -> tessera_tests::Resp {
    s.request(
        "POST",
        &format!("/api/v1/right/object/presets?token={token}"),
    )
    .json(&json!([{"_basetype": "right_preset",
            "right_preset": {"_version": 1, "preset": {"rights": {"read": {}}}}}]))
    .send()
}

fn own_rights_listed(db: &TestDb, args: &[&str]) -> Value {
    let mut all = vec!["list"];
    all.extend_from_slice(args);
    let run = rights(db, &all);
    assert_ok(&run);
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn a_grant_and_a_revoke_reach_a_running_servers_sessions_on_their_next_request() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    s.create_user(&admin, "alice", "alice@test.com", "alice-password");
    let alice = session(&s, "alice", "alice-password");
    assert_eq!(rights_of(&s, &alice), json!({}));
    assert_eq!(
        preset_post(&s, &alice).json()["code"],
        "error.user.no_system_right"
    );

    let run = rights(&db, &["grant", "alice", "system.rightpresetmanager"]);
    assert_ok(&run);
    assert!(run.stderr.contains("_version 2"), "{}", run.stderr);
    assert_eq!(
        rights_of(&s, &alice),
        json!({"system.rightpresetmanager": {}})
    );
    preset_post(&s, &alice).assert_status(200);
    assert_eq!(
        own_rights_listed(&db, &["alice@test.com"]),
        json!({"system.rightpresetmanager": {}})
    );

    assert_ok(&rights(
        &db,
        &["revoke", "alice@test.com", "system.rightpresetmanager"],
    ));
    assert_eq!(rights_of(&s, &alice), json!({}));
    assert_eq!(
        preset_post(&s, &alice).json()["code"],
        "error.user.no_system_right"
    );
    // Revoking what is not held succeeds and still counts a version.
    assert_ok(&rights(&db, &["revoke", "alice", "system.search"]));
    let admin_session = session(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let users = s
        .get(&format!("/api/v1/user?token={admin_session}"))
        .assert_status(200)
        .json();
    let alice_record = users
        .as_array()
        .expect("array")
        .iter()
        .find(|u| u["user"]["login"] == "alice")
        .expect("alice listed");
    assert_eq!(alice_record["user"]["_version"], 4, "{alice_record}");
}

#[test]
fn parameters_are_read_as_json_or_text_and_a_group_grant_reaches_its_members() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    let bob_id = s.create_user(&admin, "bob", "bob@test.com", "bob-password");
    let org = s.new_organization(&admin, "curators");
    s.set_member(&admin, &org, &bob_id, "member");
    let bob = session(&s, "bob", "bob-password");

    assert_ok(&rights(
        &db,
        &[
            "grant",
            "--group",
            "curators",
            "system.user",
            "--param",
            "create=true",
            "--param",
            "hide_frontend_app=false",
        ],
    ));
    let expected = json!({"system.user": {"create": true, "hide_frontend_app": false}});
    assert_eq!(rights_of(&s, &bob), expected);
    assert_eq!(own_rights_listed(&db, &["--group", &org]), expected);
    // The member's own set is untouched.
    assert_eq!(own_rights_listed(&db, &["bob"]), json!({}));
    // Granting again replaces the parameters.
    assert_ok(&rights(
        &db,
        &["grant", "--group", "curators", "system.user"],
    ));
    assert_eq!(rights_of(&s, &bob), json!({"system.user": {}}));
}

#[test]
fn the_alias_is_stored_under_the_canonical_name() {
    let (_s, db) = Server::start();
    assert_ok(&rights(
        &db,
        &["grant", "admin", "system.righpresetmanager"],
    ));
    assert_eq!(
        own_rights_listed(&db, &["admin"]),
        json!({"system.root": {}, "system.rightpresetmanager": {}})
    );
}

#[test]
fn it_is_the_recovery_path_when_nobody_holds_root() {
    let (s, db) = Server::start();
    let admin = session(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let me = s.get(&format!("/api/v1/session?token={admin}")).json()["user"]["user"].clone();
    // The admin gives up root: nobody holds it any more.
    s.request("POST", &format!("/api/v1/user?token={admin}"))
        .json(&json!([{"_basetype": "user",
            "user": {"_id": me["_id"], "_version": me["_version"].as_i64().unwrap() + 1},
            "_system_rights": {}}]))
        .send()
        .assert_status(200);
    let refused = s.get(&format!("/api/v1/user?token={admin}")).json();
    assert_eq!(refused["code"], "error.user.no_system_right", "{refused}");

    assert_ok(&rights(&db, &["grant", "admin", "system.root"]));
    assert_eq!(rights_of(&s, &admin), json!({"system.root": {}}));
    s.get(&format!("/api/v1/user?token={admin}"))
        .assert_status(200);
}

#[test]
fn refusals_exit_1_with_one_line_and_change_nothing() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    s.create_user(&admin, "twin", "twin1@test.com", "twin-password");
    s.create_user(&admin, "twin", "twin2@test.com", "twin-password");
    assert_refused(
        &rights(&db, &["grant", "nobody", "system.search"]),
        "no user \"nobody\"",
    );
    assert_refused(
        &rights(&db, &["grant", "twin", "system.search"]),
        "more than one user \"twin\"",
    );
    assert_refused(
        &rights(&db, &["grant", "--group", "nobody", "system.search"]),
        "no group \"nobody\"",
    );
    assert_refused(
        &rights(&db, &["list", "--group", "nobody"]),
        "no group \"nobody\"",
    );
    assert_refused(
        &rights(&db, &["grant", "admin", "system.nope"]),
        "\"system.nope\" is not a system right",
    );
    assert_refused(
        &rights(&db, &["grant", "admin", "read"]),
        "\"read\" is not a system right",
    );
    assert_refused(
        &rights(&db, &["revoke", "admin", "system.nope"]),
        "\"system.nope\" is not a system right",
    );
    assert_refused(
        &rights(
            &db,
            &["grant", "admin", "system.user", "--param", "create=3"],
        ),
        "parameter \"create\" of right \"system.user\" must be a boolean",
    );
    assert_refused(
        &rights(
            &db,
            &["grant", "admin", "system.user", "--param", "create=yes"],
        ),
        "must be a boolean",
    );
    assert_refused(
        &rights(
            &db,
            &["grant", "admin", "system.user", "--param", "colour=red"],
        ),
        "right \"system.user\" has no parameter \"colour\"",
    );
    // Nothing of it is stored: the admin holds what it was created with, at version 1.
    assert_eq!(
        own_rights_listed(&db, &["admin"]),
        json!({"system.root": {}})
    );
    let admin_session = session(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let me = s
        .get(&format!("/api/v1/session?token={admin_session}"))
        .json();
    assert_eq!(me["user"]["user"]["_version"], 1, "{me}");
}

#[test]
fn usage_errors_exit_2() {
    let (_s, db) = Server::start();
    for args in [
        vec!["grant", "admin"],
        vec!["grant"],
        vec!["grant", "admin", "system.user", "--param", "create"],
        vec!["grant", "admin", "system.user", "--param", "=true"],
        vec!["revoke", "admin"],
        vec!["list"],
        vec!["promote", "admin", "system.root"],
        vec!["grant", "admin", "system.root", "--colour"],
    ] {
        let run = rights(&db, &args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        let line = run.stderr.lines().next().unwrap_or_default();
        assert!(line.starts_with("tessera: "), "{args:?}: {}", run.stderr);
    }
    assert_eq!(
        own_rights_listed(&db, &["admin"]),
        json!({"system.root": {}})
    );
}
