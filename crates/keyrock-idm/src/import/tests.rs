//! The import over a real (in-memory SQLite) store; the black-box suite runs the command
//! on files, on both backends.

use auth_core::secrets::sha256_hex;
use storage::diesel::prelude::*;
use storage::schema::{oauth_access_tokens, oauth_clients, users};
use storage::DbConn;
use time::OffsetDateTime;

use super::*;
use crate::test_support::pool;

const FIXTURE: &[u8] = include_bytes!("../../../../tests/fixtures/keyrock-test-fixture.sql");

fn options(dry_run: bool) -> ImportOptions {
    ImportOptions {
        dry_run,
        now: OffsetDateTime::now_utc(),
    }
}

fn import(conn: &mut DbConn, dump: &[u8], dry_run: bool) -> Result<ImportSummary, ImportError> {
    import_keyrock(conn, &DumpBytes(dump), options(dry_run), &mut Quiet)
}

fn skipped(summary: &ImportSummary, table: &str, reason: SkipReason) -> u64 {
    summary
        .table(table)
        .and_then(|t| t.skipped.get(&reason).copied())
        .unwrap_or(0)
}

fn user_count(conn: &mut DbConn) -> i64 {
    users::table.count().get_result(conn).unwrap()
}

#[test]
fn the_fixture_imports_with_its_counts() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let summary = import(&mut conn, FIXTURE, false).unwrap();
    let imported = |t: &str| summary.table(t).unwrap().imported;
    assert_eq!(imported("user"), 10);
    assert_eq!(imported("oauth_client"), 2);
    // Tokens of applications and users absent from the dump are dangling.
    assert_eq!(imported("oauth_access_token"), 2);
    assert_eq!(
        skipped(
            &summary,
            "oauth_access_token",
            SkipReason::DanglingReference
        ),
        8
    );
    assert_eq!(imported("oauth_refresh_token"), 3);
    assert_eq!(imported("oauth_authorization_code"), 2);
    assert!(skipped(&summary, "auth_token", SkipReason::NotImported) > 0);
    // Secrets are stored as digests only.
    let secret: Option<String> = oauth_clients::table
        .find("tutorial-dckr-site-0000-xpresswebapp")
        .select(oauth_clients::secret_digest)
        .first(&mut *conn)
        .unwrap();
    assert_eq!(
        secret.as_deref(),
        Some(sha256_hex("tutorial-dckr-site-0000-clientsecret").as_str())
    );
    let m4: i64 = oauth_access_tokens::table
        .filter(oauth_access_tokens::digest.eq(sha256_hex(&"m4".repeat(20))))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(m4, 1);
    // Legacy hashes are kept as they are.
    let (hash, salt): (Option<String>, Option<String>) = users::table
        .filter(users::email.eq("alice-the-admin@test.com"))
        .select((users::password_hash, users::password_salt))
        .first(&mut *conn)
        .unwrap();
    assert_eq!(
        hash.as_deref(),
        Some("89e48c55e4e4b3b86141fb15f5e6abf70f8c32c0")
    );
    assert_eq!(salt.as_deref(), Some("fbba54b6750b16e8"));
    // Users get their integer ids in dump order.
    let order: Vec<String> = users::table
        .order(users::num_id)
        .select(users::id)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(order[0], "aaaaaaaa-good-0000-0000-000000000000");
    assert_eq!(order[9], "rob-evil-0000-0000-000000000000");
}

#[test]
fn a_second_import_is_refused_and_changes_nothing() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    import(&mut conn, FIXTURE, false).unwrap();
    let err = import(&mut conn, FIXTURE, false).unwrap_err();
    assert!(
        matches!(&err, ImportError::NotEmpty(what) if what.contains("10 users")),
        "{err}"
    );
    assert_eq!(user_count(&mut conn), 10);
}

#[test]
fn a_dry_run_counts_the_same_and_writes_nothing() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let dry = import(&mut conn, FIXTURE, true).unwrap();
    assert!(dry.dry_run);
    assert_eq!(user_count(&mut conn), 0);
    let real = import(&mut conn, FIXTURE, false).unwrap();
    assert_eq!(dry.tables, real.tables);
}

#[test]
fn a_failure_late_in_the_dump_leaves_nothing_behind() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let mut dump = FIXTURE.to_vec();
    // A row of the last pass's table with a wrong column count.
    dump.extend_from_slice(b"\nINSERT INTO `role_permission` VALUES (1,'a');\n");
    let err = import(&mut conn, &dump, false).unwrap_err();
    assert!(
        err.to_string()
            .contains("a row of role_permission has 2 values"),
        "{err}"
    );
    assert_eq!(user_count(&mut conn), 0);
}

#[test]
fn a_typo_of_a_table_is_an_error_and_other_tables_are_counted() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let err = import(&mut conn, b"INSERT INTO `usr` VALUES ('x');\n", false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1: unknown table usr (did you mean user?)"
    );
    let err = import(
        &mut conn,
        b"INSERT INTO `favourite_colours` VALUES ('x'),('y');\n",
        false,
    )
    .unwrap_err();
    assert!(matches!(err, ImportError::NotKeyrock), "{err}");
    let summary = import(
        &mut conn,
        b"INSERT INTO `favourite_colours` VALUES ('x'),('y');\nINSERT INTO `user` (`id`, `email`) VALUES ('u', 'u@x.org');\n",
        false,
    )
    .unwrap();
    assert_eq!(
        skipped(&summary, "favourite_colours", SkipReason::UnknownTable),
        2
    );
}

#[test]
fn columns_are_matched_by_name() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let dump = b"INSERT INTO `user` (`email`, `id`, `username`, `description`) VALUES\n\
('a@x.org', 'a-id', 'a', 'it\\'s \\\"quoted\\\"\\nand ''doubled'''),\n('b@x.org','b-id','b',NULL);\n";
    import(&mut conn, dump, false).unwrap();
    let description: Option<String> = users::table
        .filter(users::id.eq("a-id"))
        .select(users::description)
        .first(&mut *conn)
        .unwrap();
    assert_eq!(
        description.as_deref(),
        Some("it's \"quoted\"\nand 'doubled'")
    );
    let err = import(
        &mut crate::test_support::pool().get().unwrap(),
        b"INSERT INTO `user` (`id`, `username`) VALUES ('c-id', 'c');\n",
        false,
    )
    .unwrap_err();
    assert!(err.to_string().contains("has no column email"), "{err}");
}

#[test]
fn a_nul_in_a_value_is_refused_naming_the_column() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let err = import(
        &mut conn,
        b"INSERT INTO `user` (`id`, `email`, `description`) VALUES\n('u', 'u@x.org', 'a\\0b');\n",
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2: user.description holds a NUL character (\\0), which Tessera does not store"
    );
    assert_eq!(user_count(&mut conn), 0);
}

#[test]
fn a_target_holding_right_presets_is_not_empty() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    storage::run_migrations(&mut conn).unwrap();
    diesel::insert_into(storage::schema::right_presets::table)
        .values((
            storage::schema::right_presets::context.eq("object"),
            storage::schema::right_presets::position.eq(0_i64),
            storage::schema::right_presets::version.eq(1_i64),
            storage::schema::right_presets::displayname.eq("{}"),
            storage::schema::right_presets::description.eq("{}"),
            storage::schema::right_presets::rights.eq("{}"),
            storage::schema::right_presets::created_at
                .eq(storage::to_db_time(OffsetDateTime::now_utc())),
        ))
        .execute(&mut *conn)
        .unwrap();
    let err = import(&mut conn, FIXTURE, false).unwrap_err();
    assert!(
        matches!(&err, ImportError::NotEmpty(what) if what == "1 right presets"),
        "{err}"
    );
    assert_eq!(user_count(&mut conn), 0);
}
