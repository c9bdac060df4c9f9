//! `keyrock-dump-gen`: writes a synthetic Keyrock 8.3 database dump, as MariaDB's
//! `mysqldump` writes it, for the `tessera import keyrock` benchmark (`just bench-import`,
//! docs/benchmarks.md).
//!
//! The dump has the shape of `keyrock-test-fixture.sql` (a real `mysqldump` of Keyrock 8.3):
//! the same header (`/*M!999999\- enable the sandbox mode */`, the `/*!40101 ... */`
//! directives), every Keyrock table in `mysqldump`'s order (byte order of the names) with the
//! fixture's own `DROP TABLE` / `CREATE TABLE` text, `LOCK TABLES`, extended `INSERT`s of at
//! most `mysqldump`'s default `net_buffer_length` (1 MiB - 1025 bytes) one row a line,
//! `UNLOCK TABLES` and the trailer. Values are escaped as `mysql_real_escape_string` does.
//!
//! The data is realistic where the importer cares: uuid ids, Keyrock's built-ins
//! (`idm_admin_app`, roles `provider`/`purchaser`, permissions 1..6 and their links) and a user
//! `admin`, per-user salts with their HMAC-SHA1 legacy hashes of the password `test`,
//! descriptions holding `'`, `\`, `"`, tabs, newlines and latin1 letters, JSON `extra`
//! columns, 40-hex-char tokens with their SHA3-256 `hash`, permanent (NULL `expires`),
//! expired and revoked tokens, access tokens issued with a refresh token, and client
//! credentials and IoT agent tokens. Every reference points at a row of the dump (nothing is
//! dangling), and nothing repeats where Tessera has a unique key.
//!
//! Output is a pure function of the flags: every value is derived from `--seed` and the row's
//! index (no shared random stream), so memory stays constant whatever the sizes. A summary
//! (rows per table, bytes) goes to stderr.
//!
//! ```text
//! keyrock-dump-gen --out /tmp/keyrock.sql            # the issue's sizes
//! keyrock-dump-gen --users 1000 --applications 10 --role-assignments 100 \
//!     --access-tokens 10000 > small.sql
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use auth_core::password::legacy_keyrock_hash;
use clap::Parser;
use sha3::{Digest, Sha3_256};

#[derive(Debug, Parser)]
#[command(
    name = "keyrock-dump-gen",
    about = "Write a synthetic Keyrock 8.3 mysqldump (MariaDB style) for the import benchmark"
)]
struct Args {
    /// Users, the user `admin` included.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    users: u64,
    /// Applications (`oauth_client` rows), besides Keyrock's built-in `idm_admin_app`.
    #[arg(long, value_name = "N", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    applications: u64,
    /// Role assignments: first each application's provider, then its own roles to users
    /// and organizations.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    role_assignments: u64,
    /// OAuth2 access tokens.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    access_tokens: u64,
    /// OAuth2 refresh tokens; the first this many access tokens were issued with one.
    /// Default: a tenth of the access tokens.
    #[arg(long, value_name = "N")]
    refresh_tokens: Option<u64>,
    /// Organizations (5 members each). Default: one per 100 users.
    #[arg(long, value_name = "N")]
    organizations: Option<u64>,
    /// Seed of every generated value: the same flags always write the same bytes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `mysqldump`'s default `net_buffer_length`: an extended INSERT grows up to this size.
const NET_BUFFER_LENGTH: usize = 1024 * 1024 - 1025;
/// The password of every generated user (as in the fixture), hashed with the user's salt.
const PASSWORD: &str = "test";

const HEADER: &str = "/*M!999999\\- enable the sandbox mode */ \n\
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)\n\
--\n\
-- Host: 127.0.0.1    Database: idm\n\
-- ------------------------------------------------------\n\
-- Server version\t10.11.19-MariaDB-0+deb12u1\n\
\n\
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n\
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;\n\
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;\n\
/*!40101 SET NAMES utf8mb4 */;\n\
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n\
/*!40103 SET TIME_ZONE='+00:00' */;\n\
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n\
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n\
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n\
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;\n";

const TRAILER: &str = "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\
\n\
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n\
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n\
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n\
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;\n\
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;\n\
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;\n\
\n\
-- Dump completed\n";

/// Keyrock 8.3's tables, in `mysqldump`'s order, with the `CREATE TABLE` statements of
/// `keyrock-test-fixture.sql` (compiled in) except for `AUTO_INCREMENT=N`, which
/// `mysqldump` writes from the data (see [`create_table`]).
fn tables() -> Vec<(String, String)> {
    tessera_tests::import::create_tables(tessera_tests::import::FIXTURE_TEXT)
}

/// Keyrock's migrations, as the fixture's `SequelizeMeta` lists them.
const MIGRATIONS: [&str; 43] = [
    "201802190000-CreateUserTable.js",
    "201802190003-CreateUserRegistrationProfileTable.js",
    "201802190005-CreateOrganizationTable.js",
    "201802190008-CreateOAuthClientTable.js",
    "201802190009-CreateUserAuthorizedApplicationTable.js",
    "201802190010-CreateRoleTable.js",
    "201802190015-CreatePermissionTable.js",
    "201802190020-CreateRoleAssignmentTable.js",
    "201802190025-CreateRolePermissionTable.js",
    "201802190030-CreateUserOrganizationTable.js",
    "201802190035-CreateIotTable.js",
    "201802190040-CreatePepProxyTable.js",
    "201802190045-CreateAuthZForceTable.js",
    "201802190050-CreateAuthTokenTable.js",
    "201802190060-CreateOAuthAuthorizationCodeTable.js",
    "201802190065-CreateOAuthAccessTokenTable.js",
    "201802190070-CreateOAuthRefreshTokenTable.js",
    "201802190075-CreateOAuthScopeTable.js",
    "20180405125424-CreateUserTourAttribute.js",
    "20180612134640-CreateEidasTable.js",
    "20180727101745-CreateUserEidasIdAttribute.js",
    "20180730094347-CreateTrustedApplicationsTable.js",
    "20180828133454-CreatePasswordSalt.js",
    "20180921104653-CreateEidasNifColumn.js",
    "20180922140934-CreateOauthTokenType.js",
    "20181022103002-CreateEidasTypeAndAttributes.js",
    "20181108144720-RevokeToken.js",
    "20181113121450-FixExtraAndScopeAttribute.js",
    "20181203120316-FixTokenTypesLength.js",
    "20190116101526-CreateSignOutUrl.js",
    "20190316203230-CreatePermissionIsRegex.js",
    "20190429164755-CreateUsagePolicyTable.js",
    "20190507112246-CreateRoleUsagePolicyTable.js",
    "20190507112259-CreatePtpTable.js",
    "20191019153205-UpdateUserAuthorizedApplicationTable.js",
    "20200107102154-CreatePermissionFiwareService.js",
    "20200107102154-CreatePermissionUseFiwareService.js",
    "20200928134556-AddDisable2faKey.js",
    "20210422214057-init-visible_attributes.js",
    "20210423161823-AddOidcNonce.js.js",
    "20210603073911-hashed-access-tokens.js",
    "20210607162019-CreateDelegationEvidenceTable.js",
    "20210707102154-CreatePermissionFiwarePayload.js",
];

fn main() -> ExitCode {
    let args = Args::parse();
    let plan = match Plan::new(&args) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("keyrock-dump-gen: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&plan, args.out.as_ref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("keyrock-dump-gen: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(plan: &Plan, out: Option<&PathBuf>) -> io::Result<()> {
    let started = Instant::now();
    let sink: Box<dyn Write> = match out {
        Some(path) => Box::new(
            File::create(path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = Counting {
        inner: BufWriter::with_capacity(1 << 20, sink),
        bytes: 0,
    };
    out.write_all(HEADER.as_bytes())?;
    let tables = tables();
    let mut counts = Vec::with_capacity(tables.len());
    for (name, create) in &tables {
        let name = name.as_str();
        let planned = plan.rows(name);
        write!(
            out,
            "\n--\n-- Table structure for table `{name}`\n--\n\n\
             DROP TABLE IF EXISTS `{name}`;\n\
             /*!40101 SET @saved_cs_client     = @@character_set_client */;\n\
             /*!40101 SET character_set_client = utf8mb4 */;\n\
             {};\n\
             /*!40101 SET character_set_client = @saved_cs_client */;\n\
             \n--\n-- Dumping data for table `{name}`\n--\n\n\
             LOCK TABLES `{name}` WRITE;\n\
             /*!40000 ALTER TABLE `{name}` DISABLE KEYS */;\n",
            create_table(create, planned)
        )?;
        let mut insert = Insert::new(&mut out, name);
        plan.write_rows(name, &mut insert)?;
        let written = insert.finish()?;
        if written != planned {
            return Err(io::Error::other(format!(
                "internal error: table {name}: planned {planned} rows, wrote {written}"
            )));
        }
        write!(
            out,
            "/*!40000 ALTER TABLE `{name}` ENABLE KEYS */;\nUNLOCK TABLES;\n"
        )?;
        counts.push((name, written));
    }
    out.write_all(TRAILER.as_bytes())?;
    out.flush()?;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let tables: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name}={n}"))
        .collect();
    eprintln!(
        "keyrock-dump-gen: wrote {total} rows, {} bytes in {:.1}s: {}",
        out.bytes,
        started.elapsed().as_secs_f64(),
        tables.join(" ")
    );
    Ok(())
}

/// The fixture's `CREATE TABLE` with the `AUTO_INCREMENT=N` table option `mysqldump` writes
/// for a table with an auto-increment column and rows (ids 1..=rows here).
fn create_table(create: &str, rows: u64) -> String {
    if rows > 0 && create.contains(" NOT NULL AUTO_INCREMENT,") {
        create.replacen(
            ") ENGINE=InnoDB ",
            &format!(") ENGINE=InnoDB AUTO_INCREMENT={} ", rows + 1),
            1,
        )
    } else {
        create.to_owned()
    }
}

/// Counts the bytes written, for the summary.
struct Counting<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The extended INSERTs of one table, as `mysqldump` splits them: a row joins the open
/// statement while the statement stays below [`NET_BUFFER_LENGTH`], else a new one starts.
struct Insert<'a, W: Write> {
    out: &'a mut W,
    prefix: String,
    /// The row being built, from its `(`.
    row: Vec<u8>,
    /// Bytes of the open statement; 0 when none is open.
    statement: usize,
    rows: u64,
}

impl<'a, W: Write> Insert<'a, W> {
    fn new(out: &'a mut W, table: &str) -> Self {
        let mut row = Vec::with_capacity(4096);
        row.push(b'(');
        Insert {
            out,
            prefix: format!("INSERT INTO `{table}` VALUES\n"),
            row,
            statement: 0,
            rows: 0,
        }
    }

    fn sep(&mut self) {
        if self.row.len() > 1 {
            self.row.push(b',');
        }
    }

    fn null(&mut self) -> &mut Self {
        self.sep();
        self.row.extend_from_slice(b"NULL");
        self
    }

    fn int(&mut self, n: u64) -> &mut Self {
        self.sep();
        push_u64(&mut self.row, n);
        self
    }

    fn opt_int(&mut self, n: Option<u64>) -> &mut Self {
        match n {
            Some(n) => self.int(n),
            None => self.null(),
        }
    }

    fn bool(&mut self, b: bool) -> &mut Self {
        self.int(u64::from(b))
    }

    /// A string, escaped as `mysql_real_escape_string` does.
    fn str(&mut self, s: &str) -> &mut Self {
        self.sep();
        self.row.push(b'\'');
        escape_into(&mut self.row, s.as_bytes());
        self.row.push(b'\'');
        self
    }

    fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    /// A string known to need no escape (ids, hex).
    fn plain(&mut self, s: &[u8]) -> &mut Self {
        self.sep();
        self.row.push(b'\'');
        self.row.extend_from_slice(s);
        self.row.push(b'\'');
        self
    }

    fn opt_plain(&mut self, s: Option<&[u8]>) -> &mut Self {
        match s {
            Some(s) => self.plain(s),
            None => self.null(),
        }
    }

    /// Bytes as a quoted lowercase hex string.
    fn hex(&mut self, bytes: &[u8]) -> &mut Self {
        self.sep();
        self.row.push(b'\'');
        push_hex(&mut self.row, bytes);
        self.row.push(b'\'');
        self
    }

    fn datetime(&mut self, unix: i64) -> &mut Self {
        self.sep();
        self.row.push(b'\'');
        push_datetime(&mut self.row, unix);
        self.row.push(b'\'');
        self
    }

    fn opt_datetime(&mut self, unix: Option<i64>) -> &mut Self {
        match unix {
            Some(unix) => self.datetime(unix),
            None => self.null(),
        }
    }

    fn end_row(&mut self) -> io::Result<()> {
        self.row.push(b')');
        if self.statement > 0 && self.statement + self.row.len() + 2 < NET_BUFFER_LENGTH {
            self.out.write_all(b",\n")?;
            self.statement += self.row.len() + 2;
        } else {
            if self.statement > 0 {
                self.out.write_all(b";\n")?;
            }
            self.out.write_all(self.prefix.as_bytes())?;
            self.statement = self.prefix.len() + self.row.len();
        }
        self.out.write_all(&self.row)?;
        self.rows += 1;
        self.row.clear();
        self.row.push(b'(');
        Ok(())
    }

    fn finish(self) -> io::Result<u64> {
        if self.statement > 0 {
            self.out.write_all(b";\n")?;
        }
        Ok(self.rows)
    }
}

/// `mysql_real_escape_string` (without `NO_BACKSLASH_ESCAPES`): `\0 \n \r \\ \' \" \Z`.
fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    for &b in s {
        let escaped = match b {
            0 => b'0',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\\' => b'\\',
            b'\'' => b'\'',
            b'"' => b'"',
            0x1a => b'Z',
            _ => {
                out.push(b);
                continue;
            }
        };
        out.push(b'\\');
        out.push(escaped);
    }
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn push_padded(out: &mut Vec<u8>, n: i64, width: usize) {
    let mut digits = [b'0'; 8];
    let mut n = n.unsigned_abs();
    for slot in digits[..width].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits[..width]);
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a Unix time, as MySQL prints a `datetime`.
fn push_datetime(out: &mut Vec<u8>, unix: i64) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    push_padded(out, year, 4);
    out.push(b'-');
    push_padded(out, month, 2);
    out.push(b'-');
    push_padded(out, day, 2);
    out.push(b' ');
    push_padded(out, secs / 3600, 2);
    out.push(b':');
    push_padded(out, secs / 60 % 60, 2);
    out.push(b':');
    push_padded(out, secs % 60, 2);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// SplitMix64's finalizer: a good 64-bit mix of its input.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The random decisions of one row (SplitMix64 from the row's own key).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `percent`/100.
    fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'t>(&mut self, items: &[&'t str]) -> &'t str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A Unix time in `[from, to)`.
    fn time(&mut self, from: i64, to: i64) -> i64 {
        from + self.below((to - from) as u64) as i64
    }

    /// `N` random lowercase hex digits.
    fn hex<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let mut word = 0;
        for (i, slot) in out.iter_mut().enumerate() {
            if i % 16 == 0 {
                word = self.next();
            }
            *slot = HEX[((word >> ((i % 16) * 4)) & 15) as usize];
        }
        out
    }
}

/// A short identifier on the stack (uuid, `pep_proxy_<uuid>`, ...).
#[derive(Clone, Copy)]
struct Id {
    buf: [u8; 48],
    len: usize,
}

impl Id {
    fn from_parts(prefix: &str, uuid: &[u8; 36]) -> Self {
        let mut buf = [0u8; 48];
        buf[..prefix.len()].copy_from_slice(prefix.as_bytes());
        buf[prefix.len()..prefix.len() + 36].copy_from_slice(uuid);
        Id {
            buf,
            len: prefix.len() + 36,
        }
    }

    fn literal(s: &str) -> Self {
        let mut buf = [0u8; 48];
        buf[..s.len()].copy_from_slice(s.as_bytes());
        Id { buf, len: s.len() }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

// Kinds of derived values: each (kind, index) has its own stream.
const K_USER: u64 = 1;
const K_APP: u64 = 2;
const K_SECRET: u64 = 3;
const K_ORG: u64 = 4;
const K_ROLE: u64 = 5;
const K_PERM: u64 = 6;
const K_PEP: u64 = 7;
const K_IOT: u64 = 8;
const K_ACCESS: u64 = 9;
const K_REFRESH: u64 = 10;
const K_CODE: u64 = 11;
const K_AUTH: u64 = 12;
const K_OWNER: u64 = 13;
const K_CONSENT: u64 = 14;
const K_ROW: u64 = 100;

// Times: 2018-01-01, 2024-01-01 (end of "past"), 2031-01-01 and 2036-01-01 ("future").
const T_2018: i64 = 1_514_764_800;
const T_2024: i64 = 1_704_067_200;
const T_2031: i64 = 1_924_992_000;
const T_2036: i64 = 2_082_758_400;

const FIRST_NAMES: [(&str, &str); 24] = [
    ("Alice", "alice"),
    ("Bob", "bob"),
    ("Charlie", "charlie"),
    ("Dolores", "dolores"),
    ("Émile", "emile"),
    ("François", "francois"),
    ("Greta", "greta"),
    ("Hugo", "hugo"),
    ("Inés", "ines"),
    ("Jürgen", "jurgen"),
    ("Lars", "lars"),
    ("María", "maria"),
    ("Noël", "noel"),
    ("Olga", "olga"),
    ("Pedro", "pedro"),
    ("Quentin", "quentin"),
    ("Rosa", "rosa"),
    ("Søren", "soren"),
    ("Tomás", "tomas"),
    ("Ulla", "ulla"),
    ("Víctor", "victor"),
    ("Wanda", "wanda"),
    ("Yolanda", "yolanda"),
    ("Zoë", "zoe"),
];
const LAST_NAMES: [&str; 16] = [
    "García",
    "Müller",
    "O'Brien",
    "Smith",
    "Rossi",
    "Dubois",
    "Nowak",
    "Jensen",
    "Fernández",
    "Kowalski",
    "D'Angelo",
    "Schmidt",
    "Björk",
    "Núñez",
    "van der Berg",
    "Papadopoulos",
];
const VISIBLE_ATTRIBUTES: &str = r#"{"visible_attributes": ["username", "description", "website", "identity_attributes", "image", "gravatar"]}"#;
const GRANT_TYPES_ALL: &str =
    "authorization_code,implicit,password,client_credentials,refresh_token";
const INTERNAL_PERMISSIONS: [&str; 6] = [
    "Get and assign all internal application roles",
    "Manage the application",
    "Manage roles",
    "Manage authorizations",
    "Get and assign all public application roles",
    "Get and assign only public owned roles",
];
const INTERNAL_ROLE_PERMISSIONS: [(&str, &str); 7] = [
    ("provider", "1"),
    ("provider", "2"),
    ("provider", "3"),
    ("provider", "4"),
    ("provider", "5"),
    ("provider", "6"),
    ("purchaser", "5"),
];

/// The sizes, and every row as a function of its index.
struct Plan {
    seed: u64,
    users: u64,
    apps: u64,
    orgs: u64,
    role_assignments: u64,
    access_tokens: u64,
    refresh_tokens: u64,
    codes: u64,
    auth_tokens: u64,
    consents: u64,
    /// One PEP proxy, one IoT agent and one trust link per ten applications.
    per_ten_apps: u64,
    members_per_org: u64,
}

impl Plan {
    fn new(args: &Args) -> Result<Self, String> {
        let users = args.users;
        let apps = args.applications;
        let orgs = args.organizations.unwrap_or(users / 100);
        let refresh_tokens = args.refresh_tokens.unwrap_or(args.access_tokens / 10);
        if refresh_tokens > args.access_tokens {
            return Err("--refresh-tokens cannot exceed --access-tokens".into());
        }
        // Custom-role assignments go to distinct (role, user) pairs: 2 roles per application.
        let custom = args.role_assignments.saturating_sub(apps);
        if custom > 2 * apps * users {
            return Err(format!(
                "--role-assignments {} is more than distinct (role, user) pairs allow",
                args.role_assignments
            ));
        }
        Ok(Plan {
            seed: args.seed,
            users,
            apps,
            orgs,
            role_assignments: args.role_assignments,
            access_tokens: args.access_tokens,
            refresh_tokens,
            codes: (users / 100).max(1),
            auth_tokens: (users / 1000).max(1),
            consents: users / 20,
            per_ten_apps: apps.div_ceil(10),
            members_per_org: users.min(5),
        })
    }

    fn rows(&self, table: &str) -> u64 {
        match table {
            "SequelizeMeta" => MIGRATIONS.len() as u64,
            "auth_token" => self.auth_tokens,
            "iot" | "pep_proxy" => self.per_ten_apps,
            "trusted_application" if self.apps >= 2 => self.per_ten_apps,
            "oauth_access_token" => self.access_tokens,
            "oauth_authorization_code" => self.codes,
            "oauth_client" => 1 + self.apps,
            "oauth_refresh_token" => self.refresh_tokens,
            "organization" => self.orgs,
            "permission" => 6 + 3 * self.apps,
            "role" => 2 + 2 * self.apps,
            "role_assignment" => self.role_assignments,
            "role_permission" => 7 + 4 * self.apps,
            "user" => self.users,
            "user_authorized_application" => self.consents,
            "user_organization" => self.orgs * self.members_per_org,
            _ => 0,
        }
    }

    /// A well-mixed 64-bit key of (kind, index).
    fn key(&self, kind: u64, i: u64) -> u64 {
        mix(mix(self.seed ^ kind.wrapping_mul(0x2545_f491_4f6c_dd1d)) ^ i)
    }

    fn rng(&self, kind: u64, i: u64) -> Rng {
        Rng(self.key(K_ROW + kind, i))
    }

    /// A version 4 uuid, lowercase as Keyrock writes them.
    fn uuid(&self, kind: u64, i: u64) -> [u8; 36] {
        let a = self.key(kind, i);
        let b = mix(a);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_be_bytes());
        bytes[8..].copy_from_slice(&b.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let mut out = [0u8; 36];
        let mut at = 0;
        for (i, b) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out[at] = b'-';
                at += 1;
            }
            out[at] = HEX[usize::from(b >> 4)];
            out[at + 1] = HEX[usize::from(b & 15)];
            at += 2;
        }
        out
    }

    /// A 40-hex-char token (Keyrock: 20 random bytes as hex).
    fn token(&self, kind: u64, i: u64) -> [u8; 40] {
        let mut rng = Rng(self.key(kind, i));
        let mut bytes = [0u8; 24];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_be_bytes());
        }
        let mut out = [0u8; 40];
        for (i, b) in bytes[..20].iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        out
    }

    fn user_id(&self, u: u64) -> Id {
        if u == 0 {
            Id::literal("admin")
        } else {
            Id::from_parts("", &self.uuid(K_USER, u))
        }
    }

    fn app_id(&self, a: u64) -> Id {
        Id::from_parts("", &self.uuid(K_APP, a))
    }

    fn org_id(&self, o: u64) -> Id {
        Id::from_parts("", &self.uuid(K_ORG, o))
    }

    /// Application `a` has roles `2a` and `2a + 1`.
    fn role_id(&self, r: u64) -> Id {
        Id::from_parts("", &self.uuid(K_ROLE, r))
    }

    /// Application `a` has permissions `3a`, `3a + 1` and `3a + 2`.
    fn perm_id(&self, p: u64) -> Id {
        Id::from_parts("", &self.uuid(K_PERM, p))
    }

    fn pep_id(&self, j: u64) -> Id {
        Id::from_parts("pep_proxy_", &self.uuid(K_PEP, j))
    }

    fn iot_id(&self, j: u64) -> Id {
        Id::from_parts("iot_sensor_", &self.uuid(K_IOT, j))
    }

    /// PEP proxy `j` belongs to application `10j` (at most one per application).
    fn pep_app(&self, j: u64) -> u64 {
        (10 * j) % self.apps
    }

    fn iot_app(&self, j: u64) -> u64 {
        (10 * j + 5) % self.apps
    }

    /// The (application, user) of refresh token `i` and of access token `i` issued with it.
    fn token_owner(&self, i: u64) -> (u64, u64) {
        let mut rng = Rng(self.key(K_OWNER, i));
        (rng.below(self.apps), rng.below(self.users))
    }

    fn write_rows<W: Write>(&self, table: &str, ins: &mut Insert<'_, W>) -> io::Result<()> {
        match table {
            "SequelizeMeta" => {
                for name in MIGRATIONS {
                    ins.str(name).end_row()?;
                }
            }
            "auth_token" => self.auth_tokens(ins)?,
            "iot" => self.iots(ins)?,
            "oauth_access_token" => self.access_tokens(ins)?,
            "oauth_authorization_code" => self.codes(ins)?,
            "oauth_client" => self.applications(ins)?,
            "oauth_refresh_token" => self.refresh_tokens(ins)?,
            "organization" => self.organizations(ins)?,
            "pep_proxy" => self.pep_proxies(ins)?,
            "permission" => self.permissions(ins)?,
            "role" => self.roles(ins)?,
            "role_assignment" => self.role_assignments(ins)?,
            "role_permission" => self.role_permissions(ins)?,
            "trusted_application" => self.trusted_applications(ins)?,
            "user" => self.users(ins)?,
            "user_authorized_application" => self.consents(ins)?,
            "user_organization" => self.user_organizations(ins)?,
            _ => {}
        }
        Ok(())
    }

    fn auth_tokens<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        for i in 0..self.auth_tokens {
            let mut rng = self.rng(K_AUTH, i);
            ins.plain(&self.uuid(K_AUTH, i))
                .datetime(rng.time(T_2018, T_2024))
                .int(1)
                .plain(self.user_id(rng.below(self.users)).as_bytes())
                .null()
                .end_row()?;
        }
        Ok(())
    }

    fn iots<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        for j in 0..self.per_ten_apps {
            let mut rng = self.rng(K_IOT, j);
            let salt = rng.hex::<16>();
            let salt = std::str::from_utf8(&salt).unwrap_or_default();
            let password = rng.hex::<32>();
            let password = std::str::from_utf8(&password).unwrap_or_default();
            ins.plain(self.iot_id(j).as_bytes())
                .str(&legacy_keyrock_hash(password, Some(salt)))
                .plain(self.app_id(self.iot_app(j)).as_bytes())
                .str(salt)
                .end_row()?;
        }
        Ok(())
    }

    fn pep_proxies<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        for j in 0..self.per_ten_apps {
            let mut rng = self.rng(K_PEP, j);
            let salt = rng.hex::<16>();
            let salt = std::str::from_utf8(&salt).unwrap_or_default();
            let password = rng.hex::<32>();
            let password = std::str::from_utf8(&password).unwrap_or_default();
            ins.plain(self.pep_id(j).as_bytes())
                .str(&legacy_keyrock_hash(password, Some(salt)))
                .plain(self.app_id(self.pep_app(j)).as_bytes())
                .str(salt)
                .end_row()?;
        }
        Ok(())
    }

    /// `expires`: NULL (permanent) with probability `permanent`%, else half expired, half
    /// valid for years.
    fn expires(rng: &mut Rng, permanent: u64) -> Option<i64> {
        if rng.percent(permanent) {
            None
        } else if rng.percent(50) {
            Some(rng.time(T_2018, T_2024))
        } else {
            Some(rng.time(T_2031, T_2036))
        }
    }

    fn access_tokens<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        for i in 0..self.access_tokens {
            let mut rng = self.rng(K_ACCESS, i);
            let token = self.token(K_ACCESS, i);
            let hash: [u8; 32] = Sha3_256::digest(token).into();
            let expires = Self::expires(&mut rng, 10);
            let scope = match (expires, rng.below(10)) {
                (None, 0..=5) => Some("permanent"),
                (_, 0..=7) => Some("bearer"),
                _ => None,
            };
            let valid = match rng.below(20) {
                0 => Some(0),
                1..=3 => None,
                _ => Some(1),
            };
            let (app, user, iot, refresh) = if i < self.refresh_tokens {
                let (app, user) = self.token_owner(i);
                (app, Some(user), None, Some(self.token(K_REFRESH, i)))
            } else {
                match rng.below(100) {
                    // client_credentials: no user
                    0..=7 => (rng.below(self.apps), None, None, None),
                    // an IoT agent's password grant
                    8..=9 => {
                        let j = rng.below(self.per_ten_apps);
                        (self.iot_app(j), None, Some(self.iot_id(j)), None)
                    }
                    _ => (
                        rng.below(self.apps),
                        Some(rng.below(self.users)),
                        None,
                        None,
                    ),
                }
            };
            ins.plain(&token)
                .opt_datetime(expires)
                .opt_str(scope)
                .opt_plain(refresh.as_ref().map(|r| &r[..]))
                .opt_int(valid)
                .null()
                .plain(self.app_id(app).as_bytes())
                .opt_plain(user.map(|u| self.user_id(u)).as_ref().map(Id::as_bytes))
                .opt_plain(iot.as_ref().map(Id::as_bytes))
                .null()
                .hex(&hash)
                .end_row()?;
        }
        Ok(())
    }

    fn codes<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        for i in 0..self.codes {
            let mut rng = self.rng(K_CODE, i);
            let app = rng.below(self.apps);
            let user = rng.below(self.users);
            let expires = Self::expires(&mut rng, 0);
            let redirect = rng
                .percent(70)
                .then(|| format!("https://app{app}.example.com/login"));
            let scope = match rng.below(10) {
                0..=5 => None,
                6..=7 => Some("openid"),
                _ => Some("bearer"),
            };
            let nonce = rng.hex::<16>();
            ins.plain(&self.token(K_CODE, i))
                .opt_datetime(expires)
                .opt_str(redirect.as_deref())
                .opt_str(scope)
                .bool(rng.percent(80))
                .null()
                .plain(self.app_id(app).as_bytes())
                .plain(self.user_id(user).as_bytes())
                .opt_plain(rng.percent(20).then_some(&nonce[..]))
                .end_row()?;
        }
        Ok(())
    }

    fn applications<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        // Keyrock's own application, created by its seeders.
        ins.str("idm_admin_app")
            .str("idm")
            .str("idm")
            .null()
            .str("")
            .str("")
            .str("default")
            .str("")
            .str("")
            .null()
            .null()
            .null()
            .null()
            .null()
            .null()
            .end_row()?;
        const ADJECTIVES: [&str; 8] = [
            "Smart", "Open", "Green", "Urban", "Secure", "Rapid", "Civic", "Blue",
        ];
        const NOUNS: [&str; 8] = [
            "Parking", "Waste", "Lighting", "Mobility", "Water", "Energy", "Health", "Portal",
        ];
        for a in 0..self.apps {
            let mut rng = self.rng(K_APP, a);
            let name = format!("{} {} {a}", rng.pick(&ADJECTIVES), rng.pick(&NOUNS));
            let description = match rng.below(6) {
                0 => format!("{name}: the city's \"official\" app"),
                1 => format!("Keyrock application {a}\nSecond line of the description"),
                2 => format!("Registered by the IT department's team (ticket #{a})"),
                3 => format!("Windows build at C:\\Program Files\\App{a}\\"),
                4 => format!("Aplicación para la gestión de {a} señales en la vía pública"),
                _ => format!("Application {a}"),
            };
            let url = format!("https://app{a}.example.com");
            let (grants, responses) = if rng.percent(70) {
                (GRANT_TYPES_ALL, "code,token")
            } else {
                ("authorization_code,refresh_token", "code")
            };
            let token_types = match rng.below(10) {
                0..=5 => "bearer",
                6..=7 => "bearer,jwt",
                8 => "bearer,permanent",
                _ => "bearer,jwt,permanent",
            };
            let jwt_secret = rng.hex::<16>();
            let extra = rng.percent(20).then_some(
                r#"{"attributes_list": {"username": "Display \"name\""}, "tfa": false}"#,
            );
            ins.plain(self.app_id(a).as_bytes())
                .str(&name)
                .str(&description)
                .plain(&self.uuid(K_SECRET, a))
                .str(&url)
                .str(&format!("{url}/login"))
                .str("default")
                .str(grants)
                .str(responses)
                .null()
                .opt_str(rng.percent(10).then_some("openid"))
                .opt_str(extra)
                .str(token_types)
                .opt_plain(token_types.contains("jwt").then_some(&jwt_secret[..]))
                .opt_str(rng.percent(30).then(|| format!("{url}/logout")).as_deref())
                .end_row()?;
        }
        Ok(())
    }

    fn refresh_tokens<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        for i in 0..self.refresh_tokens {
            let mut rng = self.rng(K_REFRESH, i);
            let (app, user) = self.token_owner(i);
            let expires = Self::expires(&mut rng, 0);
            ins.plain(&self.token(K_REFRESH, i))
                .opt_datetime(expires)
                .opt_str(rng.percent(50).then_some("bearer"))
                .plain(self.app_id(app).as_bytes())
                .plain(self.user_id(user).as_bytes())
                .null()
                .null()
                .bool(rng.percent(90))
                .end_row()?;
        }
        Ok(())
    }

    fn organizations<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        for o in 0..self.orgs {
            let mut rng = self.rng(K_ORG, o);
            let last = rng.pick(&LAST_NAMES);
            let name = match rng.below(3) {
                0 => format!("Team {o}"),
                1 => format!("{last}'s group {o}"),
                _ => format!("Département {o}"),
            };
            let description = match rng.below(4) {
                0 => None,
                1 => Some(format!("Members of \"{name}\"\nand their partners")),
                2 => Some(format!("Share: \\\\fileserver\\org{o}")),
                _ => Some(format!("Organization {o}")),
            };
            ins.plain(self.org_id(o).as_bytes())
                .str(&name)
                .opt_str(description.as_deref())
                .opt_str(
                    rng.percent(40)
                        .then(|| format!("https://org{o}.example.org"))
                        .as_deref(),
                )
                .str("default")
                .end_row()?;
        }
        Ok(())
    }

    fn permissions<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        for (i, name) in INTERNAL_PERMISSIONS.iter().enumerate() {
            let id = (i + 1).to_string();
            ins.str(&id)
                .str(name)
                .null()
                .int(1)
                .null()
                .null()
                .null()
                .str("idm_admin_app")
                .int(0)
                .null()
                .int(0)
                .null()
                .null()
                .null()
                .end_row()?;
        }
        for p in 0..3 * self.apps {
            let mut rng = self.rng(K_PERM, p);
            let a = p / 3;
            ins.plain(self.perm_id(p).as_bytes());
            match p % 3 {
                0 => ins
                    .str("Read entities")
                    .str("Read the application's entities")
                    .int(0)
                    .str("GET")
                    .str(&format!("/v2/entities/app{a}"))
                    .null(),
                1 => ins
                    .str("Manage entities")
                    .null()
                    .int(0)
                    .str("GET,POST,PATCH,DELETE")
                    .str("/ngsi-ld/v1/entities")
                    .opt_str(rng.percent(10).then_some(
                        "<Rule RuleId=\"permit-all\" Effect=\"Permit\">\n  <Description>Let's go</Description>\n</Rule>",
                    )),
                _ => ins
                    .str("Files by pattern")
                    .str("Any JSON file: ^/files/[^/]+\\.json$")
                    .int(0)
                    .str("GET")
                    .str("^/files/[^/]+\\.json$")
                    .null(),
            };
            let regex = p % 3 == 2;
            ins.plain(self.app_id(a).as_bytes())
                .bool(regex)
                .opt_str((regex && rng.percent(20)).then_some("fiware-service"))
                .int(0)
                .opt_str(regex.then_some("urn:ngsi-ld:.*"))
                .opt_str(regex.then_some("[Car|Bus]"))
                .opt_str(regex.then_some("[speed|location|name]"))
                .end_row()?;
        }
        Ok(())
    }

    fn roles<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        ins.str("provider")
            .str("Provider")
            .int(1)
            .str("idm_admin_app")
            .end_row()?;
        ins.str("purchaser")
            .str("Purchaser")
            .int(1)
            .str("idm_admin_app")
            .end_row()?;
        for r in 0..2 * self.apps {
            let name = if r % 2 == 0 {
                "Operator's role"
            } else {
                "Viewer"
            };
            ins.plain(self.role_id(r).as_bytes())
                .str(name)
                .int(0)
                .plain(self.app_id(r / 2).as_bytes())
                .end_row()?;
        }
        Ok(())
    }

    fn role_permissions<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        let mut id = 0;
        for (role, permission) in INTERNAL_ROLE_PERMISSIONS {
            id += 1;
            ins.int(id).str(role).str(permission).end_row()?;
        }
        for a in 0..self.apps {
            for (r, p) in [
                (2 * a, 3 * a),
                (2 * a, 3 * a + 1),
                (2 * a, 3 * a + 2),
                (2 * a + 1, 3 * a),
            ] {
                id += 1;
                ins.int(id)
                    .plain(self.role_id(r).as_bytes())
                    .plain(self.perm_id(p).as_bytes())
                    .end_row()?;
            }
        }
        Ok(())
    }

    /// First each application's provider, then its two roles to distinct users (and every
    /// fifth to an organization).
    fn role_assignments<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        for k in 0..self.role_assignments {
            ins.int(k + 1);
            if k < self.apps {
                ins.null()
                    .plain(self.app_id(k).as_bytes())
                    .str("provider")
                    .null()
                    .plain(self.user_id((37 * k + 1) % self.users).as_bytes());
            } else {
                let j = k - self.apps;
                let r = j % (2 * self.apps);
                let q = j / (2 * self.apps);
                let app = self.app_id(r / 2);
                if j % 5 == 4 && q < self.orgs {
                    ins.str(if j % 20 == 4 { "owner" } else { "member" })
                        .plain(app.as_bytes())
                        .plain(self.role_id(r).as_bytes())
                        .plain(self.org_id((17 * r + q) % self.orgs).as_bytes())
                        .null();
                } else {
                    ins.null()
                        .plain(app.as_bytes())
                        .plain(self.role_id(r).as_bytes())
                        .null()
                        .plain(self.user_id((131 * r + q) % self.users).as_bytes());
                }
            }
            ins.end_row()?;
        }
        Ok(())
    }

    fn trusted_applications<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        for j in 0..self.rows("trusted_application") {
            ins.int(j + 1)
                .plain(self.app_id(10 * j).as_bytes())
                .plain(self.app_id((10 * j + 1) % self.apps).as_bytes())
                .end_row()?;
        }
        Ok(())
    }

    fn users<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        let mut username = String::new();
        let mut email = String::new();
        let mut description = String::new();
        for u in 0..self.users {
            let mut rng = self.rng(K_USER, u);
            let salt = rng.hex::<16>();
            let salt = std::str::from_utf8(&salt).unwrap_or_default();
            // A few Keyrock users predate salts: their key is `nodejs_idm`.
            let salt = (u == 0 || !rng.percent(1)).then_some(salt);
            let hash = legacy_keyrock_hash(PASSWORD, salt);
            let date_password = rng.time(T_2018, T_2024);
            username.clear();
            email.clear();
            description.clear();
            if u == 0 {
                username.push_str("admin");
                email.push_str("admin@test.com");
            } else {
                let (first, ascii) = FIRST_NAMES[rng.below(FIRST_NAMES.len() as u64) as usize];
                let last = rng.pick(&LAST_NAMES);
                username.push_str(first);
                username.push(' ');
                username.push_str(last);
                email.push_str(ascii);
                email.push('.');
                email.push_str(&u.to_string());
                email.push_str("@example.com");
                match rng.below(8) {
                    0..=2 => {}
                    3 => description.push_str("Works at the O'Brien & D'Angelo bakery"),
                    4 => description.push_str("Field engineer\nMadrid office, 2nd floor"),
                    5 => {
                        description.push_str("Home: C:\\Users\\");
                        description.push_str(ascii);
                        description.push('\\');
                    }
                    6 => description.push_str("Says \"hello\"\tto everyone\r\n(tab and CRLF)"),
                    _ => description.push_str("Café crème, Zürich, Ærø"),
                }
            }
            let extra = match rng.below(10) {
                0 => None,
                1 => Some(
                    r#"{"visible_attributes": ["username", "description"], "identity_attributes": {"company": "ACME \"Labs\"", "path": "C:\\temp"}}"#,
                ),
                _ => Some(VISIBLE_ATTRIBUTES),
            };
            ins.plain(self.user_id(u).as_bytes())
                .str(&username)
                .opt_str((!description.is_empty()).then_some(description.as_str()))
                .opt_str(
                    rng.percent(20)
                        .then(|| format!("https://example.com/~user{u}"))
                        .as_deref(),
                )
                .str("default")
                .bool(rng.percent(10))
                .str(&email)
                .str(&hash)
                .datetime(date_password)
                .bool(u == 0 || rng.percent(98))
                .bool(u == 0 || rng.below(1000) == 0)
                .opt_str(extra)
                .null()
                .bool(rng.percent(50))
                .null()
                .opt_str(salt)
                .end_row()?;
        }
        Ok(())
    }

    /// Consent records: user `20k + 1` authorized one application.
    fn consents<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        const SHARED: [&str; 3] = ["username,email", "username", "username,email,gravatar"];
        for k in 0..self.consents {
            let mut rng = self.rng(K_CONSENT, k);
            let shared = (!rng.percent(20)).then(|| rng.pick(&SHARED));
            let login = rng.percent(70).then(|| rng.time(T_2018, T_2024));
            ins.int(k + 1)
                .plain(self.user_id((20 * k + 1) % self.users).as_bytes())
                .plain(self.app_id(rng.below(self.apps)).as_bytes())
                .opt_str(shared)
                .opt_datetime(login)
                .end_row()?;
        }
        Ok(())
    }

    /// Organization `o`: its owner, then members, distinct users.
    fn user_organizations<W: Write>(&self, ins: &mut Insert<'_, W>) -> io::Result<()> {
        let mut id = 0;
        for o in 0..self.orgs {
            for m in 0..self.members_per_org {
                id += 1;
                ins.int(id)
                    .str(if m == 0 { "owner" } else { "member" })
                    .plain(self.user_id((5 * o + m) % self.users).as_bytes())
                    .plain(self.org_id(o).as_bytes())
                    .end_row()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datetime(unix: i64) -> String {
        let mut out = Vec::new();
        push_datetime(&mut out, unix);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn datetimes_are_mysql_datetimes() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(datetime(T_2018), "2018-01-01 00:00:00");
        assert_eq!(datetime(951_825_599), "2000-02-29 11:59:59");
        assert_eq!(datetime(7_817_679_861), "2217-09-25 09:44:21");
    }

    #[test]
    fn strings_are_escaped_as_mysqldump_does() {
        let mut out = Vec::new();
        escape_into(&mut out, "a'b\\c\"d\ne\rf\0g\x1ah\té".as_bytes());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\'b\\\\c\\\"d\\ne\\rf\\0g\\Zh\té"
        );
    }

    #[test]
    fn the_fixture_hash_is_keyrocks_legacy_hash_of_test() {
        assert_eq!(
            legacy_keyrock_hash(PASSWORD, Some("fbba54b6750b16e8")),
            "89e48c55e4e4b3b86141fb15f5e6abf70f8c32c0"
        );
    }

    #[test]
    fn auto_increment_follows_the_rows() {
        let tables = tables();
        let find = |name: &str| tables.iter().find(|(n, _)| n == name).unwrap().1.clone();
        let create = find("role_assignment");
        assert!(!create.contains("AUTO_INCREMENT="));
        assert!(create_table(&create, 9).contains(") ENGINE=InnoDB AUTO_INCREMENT=10 DEFAULT"));
        assert!(!create_table(&create, 0).contains("AUTO_INCREMENT="));
        let user = find("user");
        assert_eq!(create_table(&user, 5), user);
        // Every table of the fixture, in mysqldump's (alphabetical) order.
        assert_eq!(tables.len(), 25);
        let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable_by_key(|n| n.to_string());
        assert_eq!(names, sorted);
    }

    #[test]
    fn inserts_split_below_net_buffer_length() {
        let mut out = Vec::new();
        let mut insert = Insert::new(&mut out, "t");
        let value = "x".repeat(100_000);
        for _ in 0..25 {
            insert.str(&value).end_row().unwrap();
        }
        assert_eq!(insert.finish().unwrap(), 25);
        let text = String::from_utf8(out).unwrap();
        let statements: Vec<&str> = text.split_inclusive(";\n").collect();
        assert_eq!(statements.len(), 3);
        for statement in statements {
            assert!(statement.starts_with("INSERT INTO `t` VALUES\n('x"));
            assert!(statement.len() <= NET_BUFFER_LENGTH);
        }
    }
}
