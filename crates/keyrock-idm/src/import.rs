//! `tessera import keyrock`: loading a `mysqldump` of a Keyrock database (keyrock.md §9).
//!
//! [`import_keyrock`] reads the dump through a [`DumpSource`] and writes it in one
//! transaction, pending migrations included: any failure leaves the target as it was, and
//! a dry run rolls everything back after counting.
//!
//! A dump lists its tables alphabetically, so rows come before the rows they reference
//! (`oauth_access_token` before `user`). Rather than hold the dump in memory, the import
//! reads it three times, once per level of references ([`Table::pass`]): users,
//! applications and organizations; then what references only those; then the rest. Each
//! `INSERT` statement is mapped, its references checked against the target in one query
//! per referenced table, and written in batches. Memory stays bounded by the longest
//! statement whatever the dump's size.

pub mod dump;
mod rows;
mod write;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::mpsc::SyncSender;

use storage::{DbConn, StorageError};
use time::OffsetDateTime;

use dump::{DumpError, Kind, ReadError, Statements};
use rows::Columns;

/// Where the dump is read from. It is opened once per pass, so it must read the same
/// bytes each time: a file (standard input is spooled to one first).
pub trait DumpSource: Sync {
    fn open(&self) -> std::io::Result<Box<dyn BufRead + Send + '_>>;
}

/// A dump file.
pub struct DumpFile(pub PathBuf);

impl DumpSource for DumpFile {
    fn open(&self) -> std::io::Result<Box<dyn BufRead + Send + '_>> {
        let file = std::fs::File::open(&self.0)?;
        Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, file)))
    }
}

/// A dump held in memory (tests, small dumps).
pub struct DumpBytes<'a>(pub &'a [u8]);

impl DumpSource for DumpBytes<'_> {
    fn open(&self) -> std::io::Result<Box<dyn BufRead + Send + '_>> {
        Ok(Box::new(self.0))
    }
}

/// What the import reports while it runs.
pub trait Progress {
    /// Pass `pass` (0-based) of `passes` starts reading the dump from its beginning.
    fn pass(&mut self, _pass: usize, _passes: usize) {}
    /// `bytes` of the dump have been read in this pass.
    fn read(&mut self, _bytes: u64) {}
    /// A table is finished.
    fn table_done(&mut self, _count: &TableCount) {}
}

/// Reports nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// Why a dumped row was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// One of Keyrock's seeded built-ins, which the target already holds.
    BuiltIn,
    /// It references a row that is not in the target after the import.
    DanglingReference,
    /// An access token row without its plaintext (only a digest could be made from it).
    NoPlaintextToken,
    /// A value Tessera needs is NULL (a user without an email, a code without expiry).
    MissingValue,
    /// The row contradicts itself (an assignment to both a user and an organization, a
    /// membership role other than owner or member).
    InconsistentRow,
    /// The same key as a row imported before it.
    Duplicate,
    /// A Keyrock table the import does not carry over (keyrock.md §9).
    NotImported,
    /// A table Keyrock does not have.
    UnknownTable,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::BuiltIn => "built-in",
            SkipReason::DanglingReference => "dangling reference",
            SkipReason::NoPlaintextToken => "no plaintext token",
            SkipReason::MissingValue => "missing value",
            SkipReason::InconsistentRow => "inconsistent row",
            SkipReason::Duplicate => "duplicate",
            SkipReason::NotImported => "not imported",
            SkipReason::UnknownTable => "unknown table",
        }
    }
}

/// The rows of one dumped table: imported, and skipped by reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    /// The table's name in Keyrock.
    pub table: String,
    /// Whether the import maps this table (or only counts its rows as skipped).
    pub mapped: bool,
    pub imported: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
}

impl TableCount {
    fn new(table: &str) -> Self {
        TableCount {
            table: table.to_owned(),
            mapped: Table::from_name(table).is_some(),
            imported: 0,
            skipped: BTreeMap::new(),
        }
    }

    fn skip(&mut self, reason: SkipReason, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason).or_default() += n;
        }
    }
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub dry_run: bool,
    /// Every table the import maps, in the order of keyrock.md §9, then the other tables
    /// of the dump in the order they came.
    pub tables: Vec<TableCount>,
}

impl ImportSummary {
    pub fn table(&self, name: &str) -> Option<&TableCount> {
        self.tables.iter().find(|t| t.table == name)
    }

    /// Rows imported, over all tables.
    pub fn imported(&self) -> u64 {
        self.tables.iter().map(|t| t.imported).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The dump could not be read.
    #[error("cannot read the dump: {0}")]
    Read(std::io::Error),
    /// The dump is not one the import understands.
    #[error(transparent)]
    Dump(#[from] DumpError),
    /// The target holds more than the seeded rows and the bootstrap admin.
    /// No table of the dump is one Keyrock has: not a Keyrock dump.
    #[error("the dump holds no Keyrock table (user, oauth_client, ...): is it a dump of Keyrock's database?")]
    NotKeyrock,
    #[error("the target database is not empty: it holds {0}; import into a fresh database")]
    NotEmpty(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<ReadError> for ImportError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(e) => ImportError::Read(e),
            ReadError::Dump(e) => ImportError::Dump(e),
        }
    }
}

impl From<storage::diesel::result::Error> for ImportError {
    fn from(e: storage::diesel::result::Error) -> Self {
        ImportError::Storage(e.into())
    }
}

/// The Keyrock tables the import maps (keyrock.md §9), in the summary's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    User,
    OauthClient,
    Organization,
    Role,
    Permission,
    RolePermission,
    RoleAssignment,
    UserOrganization,
    TrustedApplication,
    UserAuthorizedApplication,
    PepProxy,
    Iot,
    AccessToken,
    RefreshToken,
    AuthorizationCode,
}

impl Table {
    const ALL: [Table; 15] = [
        Table::User,
        Table::OauthClient,
        Table::Organization,
        Table::Role,
        Table::Permission,
        Table::RolePermission,
        Table::RoleAssignment,
        Table::UserOrganization,
        Table::TrustedApplication,
        Table::UserAuthorizedApplication,
        Table::PepProxy,
        Table::Iot,
        Table::AccessToken,
        Table::RefreshToken,
        Table::AuthorizationCode,
    ];

    fn name(self) -> &'static str {
        match self {
            Table::User => "user",
            Table::OauthClient => "oauth_client",
            Table::Organization => "organization",
            Table::Role => "role",
            Table::Permission => "permission",
            Table::RolePermission => "role_permission",
            Table::RoleAssignment => "role_assignment",
            Table::UserOrganization => "user_organization",
            Table::TrustedApplication => "trusted_application",
            Table::UserAuthorizedApplication => "user_authorized_application",
            Table::PepProxy => "pep_proxy",
            Table::Iot => "iot",
            Table::AccessToken => "oauth_access_token",
            Table::RefreshToken => "oauth_refresh_token",
            Table::AuthorizationCode => "oauth_authorization_code",
        }
    }

    fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The pass that loads this table: every table it references is loaded by an earlier one.
    fn pass(self) -> usize {
        match self {
            Table::User | Table::OauthClient | Table::Organization => 0,
            Table::Role
            | Table::Permission
            | Table::UserOrganization
            | Table::TrustedApplication
            | Table::UserAuthorizedApplication
            | Table::PepProxy
            | Table::Iot
            | Table::AuthorizationCode => 1,
            Table::RolePermission
            | Table::RoleAssignment
            | Table::AccessToken
            | Table::RefreshToken => 2,
        }
    }
}

const PASSES: usize = 3;
/// The SQLite page cache of the importing connection, in KiB.
const SQLITE_CACHE_KIB: u32 = 48 * 1024;

/// Keyrock tables that exist in some Keyrock version and are deliberately not imported
/// (keyrock.md §9): API tokens are short-lived, the rest are features Tessera does not
/// serve or bookkeeping.
const NOT_IMPORTED: [&str; 10] = [
    "auth_token",
    "authzforce",
    "eidas_credentials",
    "usage_policy",
    "role_usage_policy",
    "ptp",
    "delegation_evidence",
    "oauth_scope",
    "user_registration_profile",
    "SequelizeMeta",
];

/// The mapped table a name is a likely typo of: within two edits, and fewer than a third
/// of its letters.
fn likely_typo(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    Table::ALL.into_iter().map(Table::name).find(|known| {
        let allowed = (known.len() / 3).clamp(1, 2);
        strsim::levenshtein(&lower, known) <= allowed
    })
}

/// The options of one import.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Parse, map and write everything, then roll it all back.
    pub dry_run: bool,
    pub now: OffsetDateTime,
}

/// Imports a Keyrock dump into the database of `conn`, in one transaction that also runs
/// the pending migrations. See the module documentation.
pub fn import_keyrock(
    conn: &mut DbConn,
    source: &dyn DumpSource,
    options: ImportOptions,
    progress: &mut dyn Progress,
) -> Result<ImportSummary, ImportError> {
    // A dry run ends by rolling back: it leaves the transaction as an error that carries
    // the summary.
    enum Ended {
        Failed(ImportError),
        DryRun(ImportSummary),
    }
    impl From<StorageError> for Ended {
        fn from(e: StorageError) -> Self {
            Ended::Failed(e.into())
        }
    }
    if let DbConn::Sqlite(c) = conn {
        // One transaction writes every page of the import: a page cache larger than
        // SQLite's 2 MB default keeps the indexes' pages in memory instead of re-reading
        // them from the WAL. This connection only; bounded, so memory stays bounded.
        storage::diesel::connection::SimpleConnection::batch_execute(
            c,
            &format!("PRAGMA cache_size = -{}", SQLITE_CACHE_KIB),
        )
        .map_err(StorageError::from)?;
    }
    let result = storage::write_tx(conn, |conn| {
        storage::run_migrations(conn)?;
        let summary = run(conn, source, options, progress).map_err(Ended::Failed)?;
        if options.dry_run {
            Err(Ended::DryRun(summary))
        } else {
            Ok(summary)
        }
    });
    match result {
        Ok(summary) => Ok(summary),
        Err(Ended::DryRun(summary)) => Ok(summary),
        Err(Ended::Failed(e)) => Err(e),
    }
}

/// What the reading thread hands the writing one: a statement parsed, with how far into
/// the dump it ends.
enum Parsed {
    Columns(String, Vec<String>),
    Rows {
        table: Table,
        name: String,
        line: u64,
        rows: dump::Rows,
    },
    /// Rows of a table the import does not map.
    Other {
        name: String,
        rows: u64,
    },
}

/// Statements parsed ahead of the writer: enough to keep both cores busy, few enough to
/// keep memory bounded (each is at most one dump statement).
const READ_AHEAD: usize = 2;

fn run(
    conn: &mut DbConn,
    source: &dyn DumpSource,
    options: ImportOptions,
    progress: &mut dyn Progress,
) -> Result<ImportSummary, ImportError> {
    write::require_empty(conn)?;
    let deferred = write::defer_constraints(conn)?;
    let mut mapped: Vec<TableCount> = Table::ALL
        .iter()
        .map(|t| TableCount::new(t.name()))
        .collect();
    let mut others: Vec<TableCount> = Vec::new();
    let mut writer = write::Writer::new(options.now);
    let mut saw_keyrock_table = false;

    for pass in 0..PASSES {
        progress.pass(pass, PASSES);
        let reader = source.open().map_err(ImportError::Read)?;
        // One thread reads and parses the dump while this one maps and writes.
        std::thread::scope(|scope| -> Result<(), ImportError> {
            let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD);
            scope.spawn(move || read_pass(reader, pass, tx));
            let mut columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for item in rx {
                let (parsed, bytes) = item?;
                progress.read(bytes);
                match parsed {
                    Parsed::Columns(name, list) => {
                        saw_keyrock_table |= Table::from_name(&name).is_some();
                        columns.insert(name, list);
                    }
                    Parsed::Rows {
                        table,
                        name,
                        line,
                        rows,
                    } => {
                        saw_keyrock_table = true;
                        let cols = Columns::for_insert(table, &name, &columns, &rows, line)?;
                        writer.load(conn, table, &cols, rows.rows, &mut mapped[table as usize])?;
                    }
                    Parsed::Other { name, rows } => {
                        let reason = if NOT_IMPORTED.contains(&name.as_str()) {
                            SkipReason::NotImported
                        } else {
                            SkipReason::UnknownTable
                        };
                        let i = match others.iter().position(|t| t.table == name) {
                            Some(i) => i,
                            None => {
                                others.push(TableCount::new(&name));
                                others.len() - 1
                            }
                        };
                        others[i].skip(reason, rows);
                    }
                }
            }
            Ok(())
        })?;
        if pass == 0 && !saw_keyrock_table {
            return Err(ImportError::NotKeyrock);
        }
        for count in &mapped {
            if Table::from_name(&count.table).is_some_and(|t| t.pass() == pass) {
                progress.table_done(count);
            }
        }
        if pass == 0 {
            for count in &others {
                progress.table_done(count);
            }
        }
    }
    write::restore_constraints(conn, &deferred)?;
    mapped.extend(others);
    Ok(ImportSummary {
        dry_run: options.dry_run,
        tables: mapped,
    })
}

type Sent = Result<(Parsed, u64), ImportError>;

/// Reads one pass over the dump and sends what the pass needs: every table's columns, the
/// rows of the tables loaded in this pass, and (in the first pass) the row counts of the
/// tables not imported. Stops at the first error (sent) or when the writer hangs up.
fn read_pass(reader: Box<dyn BufRead + Send + '_>, pass: usize, tx: SyncSender<Sent>) {
    let mut statements = Statements::new(reader);
    loop {
        let sent = match next_parsed(&mut statements, pass) {
            Ok(None) => return,
            Ok(Some(parsed)) => tx.send(Ok((parsed, statements.bytes_read()))),
            Err(e) => {
                // The writer may have hung up already; then nobody needs the error.
                let _ = tx.send(Err(e));
                return;
            }
        };
        if sent.is_err() {
            return; // the writer stopped
        }
    }
}

fn next_parsed<R: BufRead>(
    statements: &mut Statements<R>,
    pass: usize,
) -> Result<Option<Parsed>, ImportError> {
    while let Some(statement) = statements.next_statement()? {
        match dump::kind(&statement.text) {
            Kind::CreateTable(name) => {
                check_known(&name, statement.line)?;
                let list = dump::table_columns(&statement)?;
                return Ok(Some(Parsed::Columns(name, list)));
            }
            Kind::Insert(name) => {
                check_known(&name, statement.line)?;
                match Table::from_name(&name) {
                    Some(table) if table.pass() == pass => {
                        let rows = dump::insert_rows(&statement)?;
                        return Ok(Some(Parsed::Rows {
                            table,
                            name,
                            line: statement.line,
                            rows,
                        }));
                    }
                    // Parsed all the same: a broken statement is an error anywhere.
                    None if pass == 0 => {
                        let rows = dump::insert_rows(&statement)?.rows.len() as u64;
                        return Ok(Some(Parsed::Other { name, rows }));
                    }
                    _ => {}
                }
            }
            Kind::Other => {}
        }
    }
    Ok(None)
}

/// Refuses a table name that is a typo of a mapped one: its rows would silently vanish.
fn check_known(name: &str, line: u64) -> Result<(), DumpError> {
    if Table::from_name(name).is_some() || NOT_IMPORTED.contains(&name) {
        return Ok(());
    }
    match likely_typo(name) {
        Some(known) => Err(DumpError::new(
            line,
            format!("unknown table {name} (did you mean {known}?)"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
