//! easydb server errors (easydb-rights.md §2): a failing database answers 500 in the
//! family's envelope, realm `server`, with a fresh `uuid` that is also in the server's log
//! next to the cause; the body carries no SQL.

use tessera_tests::schema::Doc;
use tessera_tests::{Server, TestDb};

#[test]
fn a_database_failure_is_a_server_error_with_a_fresh_uuid_that_is_logged() {
    let db = TestDb::new();
    let s = Server::start_on(&db, Default::default());
    let doc = Doc::fetch(&s);
    let token = s.get("/api/v1/session").assert_status(200).json()["token"]
        .as_str()
        .expect("token")
        .to_owned();
    db.cut_off();
    let mut uuids = Vec::new();
    // The session calls, and the four calls of the seed document (each lists its 500).
    let preset = tessera_tests::json!([{"_basetype": "right_preset",
        "right_preset": {"_version": 1, "preset": {"rights": {"read": {}}}}}]);
    let calls = [
        (
            "GET",
            format!("/api/v1/session?token={token}"),
            "/api/v1/session",
        ),
        (
            "GET",
            format!("/api/v1/session?token={token}"),
            "/api/v1/session",
        ),
        ("GET", "/api/v1/session".to_owned(), "/api/v1/session"),
        (
            "GET",
            format!("/api/v1/right?token={token}"),
            "/api/v1/right",
        ),
        (
            "GET",
            format!("/api/v1/right/object/presets?token={token}"),
            "/api/v1/right/{context}/presets",
        ),
        (
            "POST",
            format!("/api/v1/right/object/presets?token={token}"),
            "/api/v1/right/{context}/presets",
        ),
        (
            "DELETE",
            format!("/api/v1/right/object/presets/1?token={token}"),
            "/api/v1/right/{context}/presets/{id}",
        ),
    ];
    // All at once: on PostgreSQL each waits for the pool's connection timeout.
    let answers: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = calls
            .iter()
            .map(|(method, path, _)| {
                let (s, preset) = (&s, &preset);
                scope.spawn(move || s.request(method, path).json(preset).send())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a request thread"))
            .collect()
    });
    for ((method, path, documented), resp) in calls.iter().zip(answers) {
        let (method, documented) = (*method, *documented);
        assert_eq!(resp.status, 500, "{method} {path}: {}", resp.body);
        let body = doc.check(method, documented, &resp);
        assert_eq!(body["realm"], "server", "{body}");
        assert_eq!(body["code"], "error.server.database", "{body}");
        assert!(body.get("parameters").is_none(), "{body}");
        let description = body["description"].as_str().expect("description");
        for leak in ["SELECT", "sqlite", "postgres", "easydb_sessions", &token] {
            assert!(!description.contains(leak), "{leak:?} in {description}");
        }
        let uuid = body["uuid"].as_str().expect("uuid").to_owned();
        uuid::Uuid::parse_str(&uuid).expect("a UUID");
        uuids.push(uuid);
    }
    uuids.sort();
    uuids.dedup();
    assert_eq!(uuids.len(), 7, "each failure has its own uuid");
    let log = s.log();
    for uuid in &uuids {
        assert!(log.contains(uuid.as_str()), "{uuid} is not in the log");
    }
    db.restore();
}
