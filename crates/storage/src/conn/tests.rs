use super::*;

#[test]
fn parses_every_documented_url_form() {
    assert_eq!(
        DatabaseUrl::parse("sqlite://./tessera-data/tessera.db").unwrap(),
        DatabaseUrl::SqliteFile(PathBuf::from("./tessera-data/tessera.db"))
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(),
        DatabaseUrl::SqliteFile(PathBuf::from("/tmp/x.db"))
    );
    assert!(matches!(
        DatabaseUrl::parse("sqlite::memory:").unwrap(),
        DatabaseUrl::SqliteMemory(_)
    ));
    assert_eq!(
        DatabaseUrl::parse("postgres://postgres@127.0.0.1:5432/db").unwrap(),
        DatabaseUrl::Postgres("postgres://postgres@127.0.0.1:5432/db".to_owned())
    );
    let err = DatabaseUrl::parse("mysql://root@localhost/db").unwrap_err();
    assert!(err.to_string().contains("mysql"), "{err}");
    assert!(DatabaseUrl::parse("sqlite://").is_err());
}

#[test]
fn sqlite_pool_migrates_and_sets_pragmas() {
    let dir = std::env::temp_dir().join(format!("tessera-storage-{}", std::process::id()));
    let url = DatabaseUrl::SqliteFile(dir.join("nested").join("t.db"));
    let pool = open_pool(&url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let mode: Value = diesel::sql_query("PRAGMA journal_mode")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(mode.journal_mode, "wal");
    #[derive(QueryableByName)]
    struct Fk {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        foreign_keys: i32,
    }
    let fk: Fk = diesel::sql_query("PRAGMA foreign_keys")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(fk.foreign_keys, 1);
    // Seeded built-ins are present after the migrations.
    let roles: i64 = crate::schema::roles::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(roles, 2);
    drop(conn);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn write_tx_rolls_back_on_error() {
    let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
    let pool = open_pool(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let result: Result<(), StorageError> = write_tx(&mut conn, |c| {
        diesel::insert_into(crate::schema::organizations::table)
            .values((
                crate::schema::organizations::id.eq("o1"),
                crate::schema::organizations::name.eq("x"),
            ))
            .execute(c)?;
        Err(StorageError::Conflict("forced".into()))
    });
    assert!(result.is_err());
    let n: i64 = crate::schema::organizations::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn unique_violation_maps_to_conflict() {
    let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
    let pool = open_pool(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let insert = |c: &mut DbConn| {
        diesel::insert_into(crate::schema::organizations::table)
            .values((
                crate::schema::organizations::id.eq("dup"),
                crate::schema::organizations::name.eq("x"),
            ))
            .execute(c)
            .map_err(StorageError::from)
    };
    insert(&mut conn).unwrap();
    assert!(matches!(insert(&mut conn), Err(StorageError::Conflict(_))));
    let missing = crate::schema::organizations::table
        .filter(crate::schema::organizations::id.eq("nope"))
        .select(crate::schema::organizations::name)
        .first::<String>(&mut *conn)
        .map_err(StorageError::from);
    assert!(matches!(missing, Err(StorageError::NotFound)));
}

mod unavailable_tests {
    use super::*;

    #[test]
    fn an_unreachable_server_is_unavailable() {
        // Port 1 on loopback: nothing listens there.
        let url = DatabaseUrl::parse("postgres://postgres@127.0.0.1:1/none").unwrap();
        assert!(matches!(
            open_pool(&url, 1),
            Err(StorageError::Unavailable(_))
        ));
    }

    /// Needs a PostgreSQL server: runs when TESSERA_TEST_DATABASE_URL names one (CI does).
    #[test]
    fn a_lost_postgres_connection_is_unavailable() {
        let Ok(server) = std::env::var("TESSERA_TEST_DATABASE_URL") else {
            eprintln!("skipped: TESSERA_TEST_DATABASE_URL is not set");
            return;
        };
        let url = DatabaseUrl::parse(&server).unwrap();
        let mut victim = url.connect().unwrap();
        let mut killer = url.connect().unwrap();
        #[derive(QueryableByName)]
        struct Pid {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            pid: i32,
        }
        let pid: Pid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
            .get_result(&mut victim)
            .unwrap();
        killer
            .batch_execute(&format!("SELECT pg_terminate_backend({})", pid.pid))
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let err = victim.batch_execute("SELECT 1").map_err(StorageError::from);
        assert!(matches!(err, Err(StorageError::Unavailable(_))), "{err:?}");
    }
}
