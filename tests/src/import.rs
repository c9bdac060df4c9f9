//! `tessera import keyrock` (keyrock.md 9, issue 12) from an operator's side: runs the real
//! binary as a child process on a [`TestDb`], feeds it a dump file or stdin, and reads back
//! its exit code, its output and the one-line summary it ends with. Also: a logical snapshot
//! of a database that does not migrate it (to prove a refused import wrote nothing), the
//! fixture dump of keyrock.md 11, and pieces to write small Keyrock dumps by hand.
//!
//! The summary line (the last line of stderr on success):
//! `tessera: keyrock import: imported user=10 organization=2 ...; skipped role=2 (built-in) auth_token=4 (not imported)`,
//! or `...; skipped nothing`; with `--dry-run` the prefix is
//! `tessera: keyrock import (dry run, nothing written): `. A failure ends stderr with
//! `tessera: keyrock import: <reason>`, exit code 1.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use storage::diesel::{self, Connection, RunQueryDsl};

use crate::{tessera_bin, TestDb, PANIC_MARK};

/// The prefix of every line the command ends with, success or failure.
pub const PREFIX: &str = "tessera: keyrock import: ";
/// The prefix of a dry run's summary.
pub const DRY_RUN_PREFIX: &str = "tessera: keyrock import (dry run, nothing written): ";

/// Every Keyrock table the importer maps (keyrock.md 9), as the summary names them.
pub const MAPPED_TABLES: [&str; 15] = [
    "user",
    "oauth_client",
    "organization",
    "role",
    "permission",
    "role_permission",
    "role_assignment",
    "user_organization",
    "trusted_application",
    "user_authorized_application",
    "pep_proxy",
    "iot",
    "oauth_authorization_code",
    "oauth_refresh_token",
    "oauth_access_token",
];

// The reasons of the summary's `skipped` part.
pub const BUILT_IN: &str = "built-in";
pub const DANGLING: &str = "dangling reference";
pub const NOT_IMPORTED: &str = "not imported";
pub const UNKNOWN_TABLE: &str = "unknown table";
pub const NO_PLAINTEXT: &str = "no plaintext token";

/// No child may run longer than this (a hang guard, not a timing assertion).
const CHILD_LIMIT: Duration = Duration::from_secs(300);

/// The real Keyrock dump of keyrock.md 11, kept in the repository
/// (`tests/fixtures/keyrock-test-fixture.sql`, a copy of `shared/fixtures/`), or
/// `TESSERA_KEYROCK_FIXTURE`.
pub fn fixture_path() -> PathBuf {
    if let Some(path) = std::env::var_os("TESSERA_KEYROCK_FIXTURE") {
        return PathBuf::from(path);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keyrock-test-fixture.sql")
}

/// The fixture dump's text.
pub fn fixture_text() -> String {
    std::fs::read_to_string(fixture_path()).expect("read the Keyrock fixture")
}

/// The 1-based number of the first line of `text` that contains `needle`.
#[track_caller]
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is not in the dump"))
        + 1
}

/// The `CREATE TABLE` statement of `table` in the fixture, as mysqldump wrote it (to build
/// small dumps of the same Keyrock version).
/// The text of the fixture as compiled in (for the dump generator, which runs anywhere).
pub const FIXTURE_TEXT: &str = include_str!("../fixtures/keyrock-test-fixture.sql");

/// Every `CREATE TABLE` of a dump `text`, in its order: the table's name and the
/// statement without its `;` and without the `AUTO_INCREMENT=N` option, which `mysqldump`
/// writes from the data.
pub fn create_tables(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("CREATE TABLE `") {
        let after = &rest[start..];
        let end = after.find(";\n").expect("the CREATE TABLE ends");
        let statement = &after[..end];
        let name = statement["CREATE TABLE `".len()..]
            .split('`')
            .next()
            .unwrap_or_default()
            .to_owned();
        let statement = match statement.find(" AUTO_INCREMENT=") {
            Some(i) => {
                let digits = statement[i + " AUTO_INCREMENT=".len()..]
                    .find(' ')
                    .map_or(statement.len(), |j| i + " AUTO_INCREMENT=".len() + j);
                format!("{}{}", &statement[..i], &statement[digits..])
            }
            None => statement.to_owned(),
        };
        out.push((name, statement));
        rest = &after[end..];
    }
    out
}

/// The fixture's `CREATE TABLE` statement for `table`, with its `;` and newline.
pub fn fixture_create_table(table: &str) -> String {
    let text = fixture_text();
    let head = format!("CREATE TABLE `{table}` (");
    let start = text
        .find(&head)
        .unwrap_or_else(|| panic!("no CREATE TABLE {table} in the fixture"));
    let end = text[start..]
        .find(";\n")
        .map(|i| start + i + 2)
        .expect("the CREATE TABLE ends");
    text[start..end].to_owned()
}

/// A dump string literal in MySQL's escaping (`'` and `\` escaped), or `NULL`.
pub fn sql_str(value: Option<&str>) -> String {
    match value {
        None => "NULL".to_owned(),
        Some(v) => format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'")),
    }
}

/// What one run of the binary gave.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The last non-empty line of stderr.
    pub fn last_line(&self) -> &str {
        self.stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim_end()
    }

    /// The summary of a successful import: exit 0, and the last stderr line parses.
    #[track_caller]
    pub fn assert_success(&self) -> Summary {
        assert_eq!(
            self.code,
            Some(0),
            "the import failed:\nstderr: {}\nstdout: {}",
            self.stderr,
            self.stdout
        );
        parse_summary(self.last_line())
            .unwrap_or_else(|e| panic!("{e}; the last stderr line: {:?}", self.last_line()))
    }

    /// The reason of a refused import: exit code 1, and the last stderr line is
    /// `tessera: keyrock import: <reason>` (returned) and no summary.
    #[track_caller]
    pub fn assert_refused(&self) -> String {
        assert_eq!(
            self.code,
            Some(1),
            "expected exit code 1:\nstderr: {}\nstdout: {}",
            self.stderr,
            self.stdout
        );
        let line = self.last_line();
        let reason = line.strip_prefix(PREFIX).unwrap_or_else(|| {
            panic!("the last stderr line {line:?} does not start with {PREFIX:?}")
        });
        assert!(
            !reason.starts_with("imported "),
            "a refused import printed a summary: {line:?}"
        );
        assert!(!reason.trim().is_empty(), "no reason given: {line:?}");
        reason.to_owned()
    }

    /// [`Run::assert_refused`] for a reason about the dump: it starts with `line N: `, and
    /// contains every needle. Returns the reason.
    #[track_caller]
    pub fn assert_refused_at(&self, line: usize, needles: &[&str]) -> String {
        let reason = self.assert_refused();
        let head = format!("line {line}: ");
        assert!(
            reason.starts_with(&head),
            "the reason {reason:?} does not start with {head:?}"
        );
        for needle in needles {
            assert!(
                reason.contains(needle),
                "the reason {reason:?} does not mention {needle:?}"
            );
        }
        reason
    }
}

/// The one-line summary of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub dry_run: bool,
    /// Every mapped table and its imported row count (zeros included).
    pub imported: BTreeMap<String, u64>,
    /// `(table, reason)` → rows skipped; only non-zero counts appear.
    pub skipped: BTreeMap<(String, String), u64>,
}

impl Summary {
    /// Rows of `table` imported (0 when the summary does not list it).
    pub fn imported(&self, table: &str) -> u64 {
        self.imported.get(table).copied().unwrap_or(0)
    }

    /// Rows of `table` skipped for `reason`.
    pub fn skipped(&self, table: &str, reason: &str) -> u64 {
        self.skipped
            .get(&(table.to_owned(), reason.to_owned()))
            .copied()
            .unwrap_or(0)
    }
}

/// The `imported` part of a summary from `(table, count)`, zeros added for every other
/// mapped table.
pub fn imported_counts(counts: &[(&str, u64)]) -> BTreeMap<String, u64> {
    let mut map: BTreeMap<String, u64> = MAPPED_TABLES.iter().map(|t| (t.to_string(), 0)).collect();
    for (table, n) in counts {
        assert!(
            map.contains_key(*table),
            "{table} is not a mapped Keyrock table"
        );
        map.insert((*table).to_owned(), *n);
    }
    map
}

/// The `skipped` part of a summary from `(table, count, reason)`.
pub fn skipped_counts(counts: &[(&str, u64, &str)]) -> BTreeMap<(String, String), u64> {
    counts
        .iter()
        .map(|(t, n, r)| (((*t).to_owned(), (*r).to_owned()), *n))
        .collect()
}

/// Parses a summary line (see the module documentation).
pub fn parse_summary(line: &str) -> Result<Summary, String> {
    let (dry_run, rest) = if let Some(rest) = line.strip_prefix(DRY_RUN_PREFIX) {
        (true, rest)
    } else if let Some(rest) = line.strip_prefix(PREFIX) {
        (false, rest)
    } else {
        return Err(format!("no {PREFIX:?} or {DRY_RUN_PREFIX:?} prefix"));
    };
    let rest = rest
        .strip_prefix("imported ")
        .ok_or("no `imported ` after the prefix")?;
    let (imported_part, skipped_part) = rest
        .split_once("; skipped ")
        .ok_or("no `; skipped ` part")?;
    let mut imported = BTreeMap::new();
    for item in imported_part.split_whitespace() {
        let (table, n) = name_count(item)?;
        if imported.insert(table.clone(), n).is_some() {
            return Err(format!("{table} listed twice as imported"));
        }
    }
    let mut skipped = BTreeMap::new();
    let skipped_part = skipped_part.trim();
    if skipped_part != "nothing" {
        let mut rest = skipped_part;
        while !rest.is_empty() {
            let (item, after) = rest
                .split_once(" (")
                .ok_or_else(|| format!("no `(reason)` after {rest:?}"))?;
            let (table, n) = name_count(item.trim())?;
            let (reason, after) = after
                .split_once(')')
                .ok_or_else(|| format!("an unclosed reason in {rest:?}"))?;
            if n == 0 {
                return Err(format!("a zero count listed as skipped: {item}"));
            }
            if skipped.insert((table, reason.to_owned()), n).is_some() {
                return Err(format!("{item} ({reason}) listed twice"));
            }
            rest = after.trim_start();
        }
    }
    Ok(Summary {
        dry_run,
        imported,
        skipped,
    })
}

fn name_count(item: &str) -> Result<(String, u64), String> {
    let (name, n) = item
        .split_once('=')
        .ok_or_else(|| format!("{item:?} is not name=count"))?;
    let n = n
        .parse()
        .map_err(|_| format!("{item:?}: the count is not a number"))?;
    if name.is_empty() {
        return Err(format!("{item:?}: no table name"));
    }
    Ok((name.to_owned(), n))
}

/// A file removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn with(bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "tessera_dump_{}.sql",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, bytes).expect("write the dump");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `tessera <args>` on `db` (when given) with the kit's settings, feeding `stdin`;
/// waits for it to exit. A child that panics fails the test.
pub fn run_tessera(db: Option<&TestDb>, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let work_dir =
        std::env::temp_dir().join(format!("tessera_cli_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work_dir).expect("create a work dir");
    let mut cmd = Command::new(tessera_bin());
    for (key, _) in std::env::vars() {
        if key.starts_with("TESSERA_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(&work_dir)
        .args(args)
        .env("TESSERA_BCRYPT_COST", "4")
        .env("TESSERA_LOG", "info")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(db) = db {
        cmd.env("TESSERA_DATABASE_URL", db.url());
    }
    let mut child = cmd.spawn().expect("spawn tessera");
    let writer = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let bytes = bytes.to_vec();
        // A writer thread: the child may fill its output pipes before reading all of stdin.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let mut out = child.stdout.take().expect("stdout pipe");
    let mut err = child.stderr.take().expect("stderr pipe");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + CHILD_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for tessera") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tessera {args:?} did not exit within {CHILD_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    let _ = std::fs::remove_dir_all(&work_dir);
    assert!(
        !stderr.contains(PANIC_MARK) && !stdout.contains(PANIC_MARK),
        "tessera {args:?} panicked:\n{stderr}{stdout}"
    );
    Run {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// `tessera import keyrock --dump <path> <extra>` on `db`.
pub fn import_file(db: &TestDb, path: &Path, extra: &[&str]) -> Run {
    let path = path.to_str().expect("a UTF-8 path");
    let mut args = vec!["import", "keyrock", "--dump", path];
    args.extend_from_slice(extra);
    run_tessera(Some(db), &args, None)
}

/// [`import_file`] of these bytes, written to a temporary file.
pub fn import_dump(db: &TestDb, dump: &[u8], extra: &[&str]) -> Run {
    let file = TempFile::with(dump);
    import_file(db, &file.0, extra)
}

/// `tessera import keyrock --dump - <extra>` on `db`, with these bytes on stdin.
pub fn import_stdin(db: &TestDb, dump: &[u8], extra: &[&str]) -> Run {
    let mut args = vec!["import", "keyrock", "--dump", "-"];
    args.extend_from_slice(extra);
    run_tessera(Some(db), &args, Some(dump))
}

/// Imports the fixture into `db`, which must succeed; returns its summary.
#[track_caller]
pub fn import_fixture(db: &TestDb) -> Summary {
    import_file(db, &fixture_path(), &[]).assert_success()
}

/// `tessera migrate` on `db`, which must succeed.
#[track_caller]
pub fn migrate(db: &TestDb) {
    let run = run_tessera(Some(db), &["migrate"], None);
    assert_eq!(run.code, Some(0), "tessera migrate failed: {}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// What a database holds, read without migrating it.

#[derive(diesel::QueryableByName)]
struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

/// A logical snapshot of a database: its tables (with their definitions on SQLite) and
/// every row of each, sorted; plus the bytes of the SQLite file. Two equal snapshots mean
/// nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub tables: Vec<String>,
    pub rows: BTreeMap<String, Vec<String>>,
    /// The SQLite main file, read after every connection of the snapshot closed (so that
    /// committed WAL content is in it); `None` on PostgreSQL or when there is no file.
    pub sqlite_file: Option<Vec<u8>>,
}

impl Snapshot {
    /// Rows of one table (empty when there is no such table).
    pub fn rows_of(&self, table: &str) -> &[String] {
        self.rows.get(table).map(Vec::as_slice).unwrap_or(&[])
    }
}

fn sqlite_path(db: &TestDb) -> Option<PathBuf> {
    match storage::DatabaseUrl::parse(db.url()).expect("test url") {
        storage::DatabaseUrl::SqliteFile(path) => Some(path),
        _ => None,
    }
}

fn sqlite_rows(conn: &mut diesel::SqliteConnection, q: &str) -> Vec<String> {
    diesel::sql_query(q)
        .load::<TextRow>(conn)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .into_iter()
        .map(|r| r.v)
        .collect()
}

fn pg_rows(conn: &mut diesel::PgConnection, q: &str) -> Vec<String> {
    diesel::sql_query(q)
        .load::<TextRow>(conn)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .into_iter()
        .map(|r| r.v)
        .collect()
}

/// SQL text quoting of an identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl TestDb {
    /// The names of the tables the database holds, sorted, read without migrating it (an
    /// absent SQLite file holds none).
    pub fn table_names(&self) -> Vec<String> {
        self.snapshot().tables
    }

    /// A [`Snapshot`] of the database, read without migrating it.
    pub fn snapshot(&self) -> Snapshot {
        let mut rows = BTreeMap::new();
        match sqlite_path(self) {
            Some(path) => {
                if !path.exists() {
                    return Snapshot {
                        tables: Vec::new(),
                        rows,
                        sqlite_file: None,
                    };
                }
                let tables = {
                    let mut conn =
                        diesel::SqliteConnection::establish(path.to_str().expect("UTF-8 path"))
                            .expect("open the SQLite file");
                    let tables = sqlite_rows(
                        &mut conn,
                        "SELECT name AS v FROM sqlite_master WHERE type = 'table' ORDER BY name",
                    );
                    // The definitions too (tables, indexes, triggers): a migration rolled
                    // back must leave none behind.
                    rows.insert(
                        "(schema)".to_owned(),
                        sqlite_rows(
                            &mut conn,
                            "SELECT type || ' ' || name || ': ' || coalesce(sql, '') AS v \
                             FROM sqlite_master ORDER BY type, name",
                        ),
                    );
                    for table in &tables {
                        let columns = sqlite_rows(
                            &mut conn,
                            &format!(
                                "SELECT name AS v FROM pragma_table_info('{}') ORDER BY cid",
                                table.replace('\'', "''")
                            ),
                        );
                        let select = if columns.is_empty() {
                            "''".to_owned()
                        } else {
                            columns
                                .iter()
                                .map(|c| format!("quote({})", ident(c)))
                                .collect::<Vec<_>>()
                                .join(" || ',' || ")
                        };
                        let mut table_rows = sqlite_rows(
                            &mut conn,
                            &format!("SELECT {select} AS v FROM {}", ident(table)),
                        );
                        table_rows.sort();
                        rows.insert(table.clone(), table_rows);
                    }
                    tables
                };
                // The connection is closed: committed WAL frames are now in the main file.
                let sqlite_file = std::fs::read(&path).ok();
                Snapshot {
                    tables,
                    rows,
                    sqlite_file,
                }
            }
            None => {
                let mut conn =
                    diesel::PgConnection::establish(self.url()).expect("connect to PostgreSQL");
                let tables = pg_rows(
                    &mut conn,
                    "SELECT tablename::text AS v FROM pg_tables WHERE schemaname = 'public' \
                     ORDER BY tablename",
                );
                for table in &tables {
                    let mut table_rows = pg_rows(
                        &mut conn,
                        &format!("SELECT row_to_json(t)::text AS v FROM {} t", ident(table)),
                    );
                    table_rows.sort();
                    rows.insert(table.clone(), table_rows);
                }
                Snapshot {
                    tables,
                    rows,
                    sqlite_file: None,
                }
            }
        }
    }

    /// What a migrated database holds: its [`Snapshot`], then its [`TestDb::dump_text`]
    /// (which would migrate a database that is not, hence the check).
    #[track_caller]
    pub fn capture(&self) -> (Snapshot, String) {
        let snapshot = self.snapshot();
        assert!(
            !snapshot.tables.is_empty(),
            "capture() needs a migrated database (dump_text() would migrate it)"
        );
        let dump = self.dump_text();
        (snapshot, dump)
    }

    /// Asserts that the database is as [`TestDb::capture`] saw it: the same tables and
    /// rows, the same SQLite main file, and the same [`TestDb::dump_text`].
    #[track_caller]
    pub fn assert_unchanged(&self, before: &(Snapshot, String)) {
        let (before, dump_before) = before;
        let after = self.snapshot();
        assert_eq!(
            after.tables, before.tables,
            "the tables of the database changed"
        );
        for (table, rows) in &before.rows {
            let now = after.rows_of(table);
            if now != rows.as_slice() {
                let added: Vec<&String> = now.iter().filter(|r| !rows.contains(r)).collect();
                let removed: Vec<&String> = rows.iter().filter(|r| !now.contains(r)).collect();
                panic!(
                    "{table} changed: {} rows before, {} after\nadded: {added:#?}\nremoved: {removed:#?}",
                    rows.len(),
                    now.len()
                );
            }
        }
        assert_eq!(after.rows, before.rows, "the rows of the database changed");
        if let (Some(a), Some(b)) = (&after.sqlite_file, &before.sqlite_file) {
            assert!(
                a == b,
                "the SQLite file changed ({} bytes before, {} after) though its rows did not",
                b.len(),
                a.len()
            );
        }
        assert!(
            &self.dump_text() == dump_before,
            "dump_text() changed though the rows did not"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_summary_with_skipped_rows() {
        let s = parse_summary(
            "tessera: keyrock import: imported user=10 organization=2 oauth_client=2; skipped \
             oauth_access_token=10 (dangling reference) oauth_client=1 (built-in) auth_token=3 (not imported)",
        )
        .unwrap();
        assert!(!s.dry_run);
        assert_eq!(s.imported("user"), 10);
        assert_eq!(s.imported.len(), 3);
        assert_eq!(s.skipped("oauth_access_token", DANGLING), 10);
        assert_eq!(s.skipped("oauth_client", BUILT_IN), 1);
        assert_eq!(s.skipped("auth_token", NOT_IMPORTED), 3);
        assert_eq!(s.skipped.len(), 3);
    }

    #[test]
    fn parses_a_dry_run_summary_with_nothing_skipped() {
        let s = parse_summary(
            "tessera: keyrock import (dry run, nothing written): imported user=0 iot=0; skipped nothing",
        )
        .unwrap();
        assert!(s.dry_run);
        assert_eq!(s.imported("iot"), 0);
        assert!(s.skipped.is_empty());
    }

    #[test]
    fn refuses_what_is_no_summary() {
        for line in [
            "tessera: keyrock import: line 3: the dump is not UTF-8",
            "tessera: keyrock import: imported user=x; skipped nothing",
            "tessera: keyrock import: imported user=1; skipped user=1",
            "tessera: keyrock import: imported user=1",
            "imported user=1; skipped nothing",
        ] {
            assert!(parse_summary(line).is_err(), "{line}");
        }
    }

    #[test]
    fn finds_the_line_of_a_needle() {
        assert_eq!(line_of("a\nb c\nd", "c"), 2);
        assert_eq!(sql_str(Some("it's \\ x")), "'it\\'s \\\\ x'");
        assert_eq!(sql_str(None), "NULL");
    }
}
