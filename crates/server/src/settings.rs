//! Every setting of operations.md, one field of [`Settings`] each. Precedence: command-line
//! flag, environment variable, the TOML file named by `TESSERA_CONFIG` (the field names as
//! keys), default. clap reads the flags, the environment and the defaults; serde lays the
//! file under the first two through the same struct, so the file knows exactly the settings.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::parser::ValueSource;
use clap::{
    ArgAction, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum,
};
use keyrock_idm::oauth::OAuthSettings;
use keyrock_idm::permissions::PdpLevel;
use keyrock_idm::vocabulary::GrantType;
use serde::{Deserialize, Serialize};

/// bcrypt costs accepted for new hashes.
const BCRYPT_COSTS: RangeInclusive<i64> = 4..=31;
/// Seconds a client may take to send a request body.
const BODY_TIMEOUTS: RangeInclusive<i64> = 1..=3600;

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Tessera: one identity store serving the Keyrock, KHEOPS, easydb and Hexoskin APIs",
    after_help = "Every setting is also read from the environment variable shown, or from the \
                  TOML file named by TESSERA_CONFIG (lower-case key without the TESSERA_ prefix)."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run pending migrations, create the admin if none exists, and serve HTTP (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Load another identity server's data into an empty Tessera database.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Grant, revoke or list the easydb system rights of a user or group (an organization),
    /// in the database of TESSERA_DATABASE_URL; servers running on it see the change on
    /// their next request. The recovery path when nobody holds system.root.
    #[command(subcommand)]
    Rights(RightsCommand),
}

#[derive(Debug, Clone, Subcommand)]
pub enum RightsCommand {
    /// Add a system right, or replace its parameters (the holder's `_version` goes up)
    Grant {
        #[command(flatten)]
        holder: RightsHolder,
        /// A right of the system context, e.g. system.rightpresetmanager
        right: String,
        /// A parameter of the right; VALUE is read as JSON when it parses (true, 3,
        /// ["a"]) and as a string otherwise
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
    },
    /// Remove a system right (succeeds when it is not held; the `_version` goes up)
    Revoke {
        #[command(flatten)]
        holder: RightsHolder,
        /// A right of the system context
        right: String,
    },
    /// Print the holder's own system rights as JSON on stdout
    List {
        #[command(flatten)]
        holder: RightsHolder,
    },
}

/// Who holds the rights.
#[derive(Debug, Clone, Args)]
pub struct RightsHolder {
    /// WHO is an organization (easydb group), not a user
    #[arg(long)]
    pub group: bool,
    /// A username, e-mail address or Keyrock id; with --group, an organization name or
    /// Keyrock id
    pub who: String,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("{text:?} is not NAME=VALUE")),
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum ImportCommand {
    /// Import a mysqldump of a Keyrock database (users, applications, roles, permissions,
    /// organizations, assignments, PEP proxies, IoT agents, consents and live OAuth2 tokens)
    /// into the database of TESSERA_DATABASE_URL: pending migrations first, then everything
    /// in one transaction. The target must hold nothing but the seeded rows and the
    /// bootstrap admin. Prints a one-line summary on stderr.
    Keyrock(KeyrockImport),
}

#[derive(Debug, Clone, Args)]
pub struct KeyrockImport {
    /// The dump: a file written by `mysqldump` (MySQL or MariaDB), or `-` for standard input
    #[arg(long, value_name = "FILE.sql")]
    pub dump: PathBuf,
    /// Parse, map and check everything, print the same summary, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    #[value(name = "HS256")]
    #[serde(rename = "HS256")]
    Hs256,
    #[value(name = "RS256")]
    #[serde(rename = "RS256")]
    Rs256,
}

/// The settings; the field names are the keys of the TOML file.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// sqlite://PATH (created with its folder if missing), sqlite::memory:, or postgres://user@host:port/db
    #[arg(
        long,
        global = true,
        env = "TESSERA_DATABASE_URL",
        default_value = "sqlite://./tessera-data/tessera.db"
    )]
    pub database_url: String,
    /// Listen address (port 0 picks a free port; the bound address is logged)
    #[arg(
        long,
        global = true,
        env = "TESSERA_BIND",
        default_value = "127.0.0.1:3000"
    )]
    pub bind: String,
    /// Base URL used in issuer ids, redirects and email links [default: http:// + bind]
    #[arg(long, global = true, env = "TESSERA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Email of the bootstrap admin (Keyrock id `admin`), created when no admin exists
    #[arg(
        long,
        global = true,
        env = "TESSERA_ADMIN_EMAIL",
        default_value = "admin@localhost"
    )]
    pub admin_email: String,
    /// Password of the bootstrap admin; unset: a random one is generated and printed once
    #[arg(
        long,
        global = true,
        env = "TESSERA_ADMIN_PASSWORD",
        hide_env_values = true
    )]
    pub admin_password: Option<String>,
    /// bcrypt cost for new password hashes (4..=31)
    #[arg(long, global = true, env = "TESSERA_BCRYPT_COST", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(BCRYPT_COSTS))]
    pub bcrypt_cost: u32,
    /// smtp://host:port or smtps://host:port; unset: mails are written as .eml files to the outbox
    #[arg(long, global = true, env = "TESSERA_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender address of outgoing mail
    #[arg(
        long,
        global = true,
        env = "TESSERA_MAIL_FROM",
        default_value = "tessera@localhost"
    )]
    pub mail_from: String,
    /// Folder for .eml files when no SMTP server is set
    #[arg(
        long,
        global = true,
        env = "TESSERA_OUTBOX_DIR",
        default_value = "./tessera-data/outbox"
    )]
    pub outbox_dir: PathBuf,
    /// Seconds before the first retry of an e-mail that could not be sent; the wait doubles
    /// after each further failure, up to an hour (tests shorten it)
    #[arg(long, global = true, env = "TESSERA_MAIL_FIRST_RETRY_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub mail_first_retry_secs: u32,
    /// Log filter (tracing EnvFilter syntax)
    #[arg(long, global = true, env = "TESSERA_LOG", default_value = "info")]
    pub log: String,
    /// Log line format
    #[arg(long, global = true, env = "TESSERA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// HTTP worker threads [default: number of cores]
    #[arg(long, global = true, env = "TESSERA_WORKERS")]
    pub workers: Option<usize>,
    /// Connection pool size [default: 16, SQLite: 8]
    #[arg(long, global = true, env = "TESSERA_DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,
    /// Longest time a client may take to send a whole request body, seconds (408 after it)
    #[arg(long, global = true, env = "TESSERA_BODY_TIMEOUT", default_value_t = 15,
          value_parser = clap::value_parser!(u32).range(BODY_TIMEOUTS))]
    pub body_timeout: u32,
    /// Lifetime of Keyrock API tokens, seconds
    #[arg(
        long,
        global = true,
        env = "TESSERA_API_TOKEN_LIFETIME",
        default_value_t = 3600
    )]
    pub api_token_lifetime: u32,
    /// Lifetime of OAuth2 access tokens, seconds
    #[arg(
        long,
        global = true,
        env = "TESSERA_ACCESS_TOKEN_LIFETIME",
        default_value_t = 3600
    )]
    pub access_token_lifetime: u32,
    /// Lifetime of OAuth2 refresh tokens, seconds
    #[arg(
        long,
        global = true,
        env = "TESSERA_REFRESH_TOKEN_LIFETIME",
        default_value_t = 1_209_600
    )]
    pub refresh_token_lifetime: u32,
    /// Lifetime of OAuth2 authorization codes, seconds
    #[arg(
        long,
        global = true,
        env = "TESSERA_AUTH_CODE_LIFETIME",
        default_value_t = 300
    )]
    pub auth_code_lifetime: u32,
    /// Lifetime of sessions (browser and easydb), seconds
    #[arg(
        long,
        global = true,
        env = "TESSERA_SESSION_LIFETIME",
        default_value_t = 86_400
    )]
    pub session_lifetime: u32,
    /// Keyrock PDP level reported in idm_authorization_config
    #[arg(long, global = true, env = "TESSERA_PDP_LEVEL", default_value_t = PdpLevel::Basic,
          value_parser = pdp_level_parser())]
    #[serde(with = "by_name")]
    pub pdp_level: PdpLevel,
    /// id_token signing algorithm
    #[arg(long, global = true, env = "TESSERA_OIDC_JWT_ALGORITHM", value_enum, default_value_t = JwtAlgorithm::Hs256)]
    pub oidc_jwt_algorithm: JwtAlgorithm,
    /// Show the consent page the first time a user authorizes an application
    #[arg(long, global = true, env = "TESSERA_OAUTH_ASK_AUTHORIZATION", default_value_t = true, action = ArgAction::Set)]
    pub oauth_ask_authorization: bool,
    /// Accept /oauth2/authorize requests without state
    #[arg(long, global = true, env = "TESSERA_OAUTH_ALLOW_EMPTY_STATE", default_value_t = false, action = ArgAction::Set)]
    pub oauth_allow_empty_state: bool,
    /// Comma-separated grant types for which a client may authenticate with client_id alone
    #[arg(
        long,
        global = true,
        env = "TESSERA_OAUTH_PUBLIC_GRANTS",
        default_value = ""
    )]
    pub oauth_public_grants: String,
    /// Lifetime of a KHEOPS capability token created without expiration_time, seconds
    #[arg(
        long,
        global = true,
        env = "TESSERA_CAPABILITY_DEFAULT_LIFETIME",
        default_value_t = 259_200
    )]
    pub capability_default_lifetime: u32,
    /// Latest allowed expiration_time of a KHEOPS capability token, seconds after issue
    #[arg(
        long,
        global = true,
        env = "TESSERA_CAPABILITY_MAX_LIFETIME",
        default_value_t = 31_536_000
    )]
    pub capability_max_lifetime: u32,
}

/// `basic`, `payload` or `advanced`, listed in `--help` like the other named choices.
fn pdp_level_parser() -> impl TypedValueParser<Value = PdpLevel> {
    PossibleValuesParser::new(PdpLevel::ALL.map(PdpLevel::as_str))
        .try_map(|level| level.parse::<PdpLevel>())
}

/// Serde for a setting spelled by name (`Display` out, `FromStr` in).
mod by_name {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        String::deserialize(deserializer)?
            .parse()
            .map_err(de::Error::custom)
    }
}

/// Why the settings could not be read.
#[derive(Debug)]
pub enum LoadError {
    /// From clap: a bad flag or environment value, or `--help`/`--version` (not failures).
    Cli(clap::Error),
    /// The TOML file: unreadable, not TOML, or a key or value that is not a setting.
    File(String),
}

impl Cli {
    /// The command line, the environment, and the file named by `TESSERA_CONFIG`.
    pub fn load() -> Result<Cli, LoadError> {
        let config = std::env::var_os("TESSERA_CONFIG").map(PathBuf::from);
        Cli::load_from(std::env::args_os(), config.as_deref())
    }

    fn load_from(
        args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
        config: Option<&Path>,
    ) -> Result<Cli, LoadError> {
        let matches = Cli::command()
            .try_get_matches_from(args)
            .map_err(LoadError::Cli)?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(LoadError::Cli)?;
        if let Some(path) = config {
            let file = read_toml(path).map_err(LoadError::File)?;
            cli.settings = cli
                .settings
                .under_file(file, |key| given(&matches, key))
                .map_err(|e| LoadError::File(format!("config file {}: {e}", path.display())))?;
        }
        Ok(cli)
    }
}

fn read_toml(path: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    text.parse::<toml::Table>().map_err(|e| {
        // toml's own message spans several lines; the line number and message fit on one.
        let line = e
            .span()
            .and_then(|span| text.get(..span.start))
            .map(|before| format!(" at line {}", before.matches('\n').count() + 1))
            .unwrap_or_default();
        format!(
            "config file {} is not valid TOML{line}: {}",
            path.display(),
            e.message().trim_end()
        )
    })
}

/// The names of the settings: the ids clap derives from the fields of [`Settings`].
fn setting_names() -> BTreeSet<String> {
    Settings::augment_args(clap::Command::new("settings"))
        .get_arguments()
        .map(|arg| arg.get_id().to_string())
        .collect()
}

/// Whether a setting was given as a flag or in the environment (which both beat the file).
fn given(matches: &ArgMatches, name: &str) -> bool {
    matches!(
        matches.value_source(name),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

impl Settings {
    /// These settings with the file's values laid under the ones `given` by flag or
    /// environment: a key of the file replaces a default only. Every key must be a setting,
    /// and every value of the setting's type.
    fn under_file(
        self,
        file: toml::Table,
        given: impl Fn(&str) -> bool,
    ) -> Result<Settings, String> {
        let names = setting_names();
        let current = toml::Table::try_from(&self).map_err(|e| e.to_string())?;
        let mut merged = current.clone();
        for (key, value) in file {
            if !names.contains(&key) {
                return Err(format!("unknown setting {key:?}"));
            }
            if given(&key) {
                continue;
            }
            // One key at a time, so that a value of the wrong type is reported with its key.
            let mut one = current.clone();
            one.insert(key.clone(), value.clone());
            from_table(one).map_err(|e| format!("setting {key:?}: {e}"))?;
            merged.insert(key, value);
        }
        from_table(merged)
    }

    /// Checks what clap cannot: the URL scheme, the listen address, and the ranges clap
    /// checks for flags and environment but the file bypasses.
    pub fn validate(&self) -> Result<(), String> {
        storage::DatabaseUrl::parse(&self.database_url).map_err(|e| e.to_string())?;
        if let Some(url) = &self.smtp_url {
            crate::mail::parse_smtp_url(url)?;
        }
        self.bind_addr()?;
        if !BCRYPT_COSTS.contains(&i64::from(self.bcrypt_cost)) {
            return Err(format!(
                "TESSERA_BCRYPT_COST {} is not in {BCRYPT_COSTS:?}",
                self.bcrypt_cost
            ));
        }
        if !BODY_TIMEOUTS.contains(&i64::from(self.body_timeout)) {
            return Err(format!(
                "TESSERA_BODY_TIMEOUT {} is not in {BODY_TIMEOUTS:?}",
                self.body_timeout
            ));
        }
        if self.api_token_lifetime == 0 {
            return Err("TESSERA_API_TOKEN_LIFETIME must be at least 1 second".to_owned());
        }
        let oauth_lifetimes = [
            self.access_token_lifetime,
            self.refresh_token_lifetime,
            self.auth_code_lifetime,
        ];
        if oauth_lifetimes.contains(&0) {
            return Err("TESSERA_ACCESS_TOKEN_LIFETIME, TESSERA_REFRESH_TOKEN_LIFETIME and TESSERA_AUTH_CODE_LIFETIME must be at least 1 second".to_owned());
        }
        self.public_grants()?;
        if self.capability_default_lifetime == 0 || self.capability_max_lifetime == 0 {
            return Err(
                "TESSERA_CAPABILITY_DEFAULT_LIFETIME and TESSERA_CAPABILITY_MAX_LIFETIME must be at least 1 second"
                    .to_owned(),
            );
        }
        if self.capability_default_lifetime > self.capability_max_lifetime {
            return Err(
                "TESSERA_CAPABILITY_DEFAULT_LIFETIME must not exceed TESSERA_CAPABILITY_MAX_LIFETIME"
                    .to_owned(),
            );
        }
        Ok(())
    }

    pub fn bind_addr(&self) -> Result<SocketAddr, String> {
        self.bind.parse().map_err(|_| {
            format!(
                "TESSERA_BIND {:?} is not an address like 127.0.0.1:3000",
                self.bind
            )
        })
    }

    pub fn database_url(&self) -> Result<storage::DatabaseUrl, String> {
        storage::DatabaseUrl::parse(&self.database_url).map_err(|e| e.to_string())
    }

    pub fn pool_size(&self, backend: storage::Backend) -> u32 {
        self.db_pool_size.unwrap_or(match backend {
            storage::Backend::Sqlite => 8,
            storage::Backend::Postgres => 16,
        })
    }

    pub fn workers(&self) -> usize {
        self.workers.filter(|n| *n > 0).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
    }

    pub fn capability_lifetimes(&self) -> capabilities::tokens::Lifetimes {
        capabilities::tokens::Lifetimes {
            default: time::Duration::seconds(i64::from(self.capability_default_lifetime)),
            max: time::Duration::seconds(i64::from(self.capability_max_lifetime)),
        }
    }

    pub fn body_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.body_timeout))
    }

    pub fn api_token_lifetime(&self) -> time::Duration {
        time::Duration::seconds(i64::from(self.api_token_lifetime))
    }

    /// The grant types of TESSERA_OAUTH_PUBLIC_GRANTS (checked by [`Settings::validate`]).
    pub fn public_grants(&self) -> Result<Vec<GrantType>, String> {
        self.oauth_public_grants
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(|g| {
                GrantType::parse(g).ok_or_else(|| {
                    format!("TESSERA_OAUTH_PUBLIC_GRANTS: {g:?} is not a grant type")
                })
            })
            .collect()
    }

    /// What the OAuth2 rules read.
    pub fn oauth(&self) -> Result<OAuthSettings, String> {
        let seconds = |s: u32| time::Duration::seconds(i64::from(s));
        Ok(OAuthSettings {
            access_lifetime: seconds(self.access_token_lifetime),
            refresh_lifetime: seconds(self.refresh_token_lifetime),
            code_lifetime: seconds(self.auth_code_lifetime),
            public_grants: self.public_grants()?,
        })
    }
}

fn from_table(table: toml::Table) -> Result<Settings, String> {
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str], file: Option<&str>) -> Result<Cli, LoadError> {
        let dir = std::env::temp_dir().join(format!("tessera-settings-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tessera.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
        }
        let args = std::iter::once("tessera").chain(args.iter().copied());
        let loaded = Cli::load_from(args, file.map(|_| path.as_path()));
        std::fs::remove_dir_all(dir).unwrap();
        loaded
    }

    fn file_error(args: &[&str], file: &str) -> String {
        match load(args, Some(file)) {
            Err(LoadError::File(reason)) => reason,
            other => panic!("expected a file error, got {other:?}"),
        }
    }

    #[test]
    fn the_file_beats_the_default_and_the_flag_beats_the_file() {
        let file = "mail_from = \"file@example.org\"\nworkers = 3\npdp_level = \"payload\"\n\
                    log_format = \"json\"\noidc_jwt_algorithm = \"RS256\"\n";
        let cli = load(&["serve", "--workers", "5"], Some(file)).unwrap();
        assert_eq!(cli.settings.mail_from, "file@example.org");
        assert_eq!(cli.settings.workers, Some(5));
        assert_eq!(cli.settings.pdp_level, PdpLevel::Payload);
        assert_eq!(cli.settings.log_format, LogFormat::Json);
        assert_eq!(cli.settings.oidc_jwt_algorithm, JwtAlgorithm::Rs256);
        assert_eq!(cli.settings.bcrypt_cost, 10, "the default stays");
        let cli = load(&["--mail-from", "flag@example.org", "migrate"], Some(file)).unwrap();
        assert_eq!(cli.settings.mail_from, "flag@example.org");
    }

    #[test]
    fn every_setting_is_a_file_key_and_its_variable_is_the_key_in_upper_case() {
        let names = setting_names();
        let cmd = Cli::command();
        for name in &names {
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_id() == name.as_str())
                .unwrap();
            let env = arg.get_env().unwrap().to_string_lossy();
            assert_eq!(env, format!("TESSERA_{}", name.to_uppercase()));
        }
        let settings = load(&[], None).unwrap().settings;
        let table = toml::Table::try_from(&settings).unwrap();
        for key in table.keys() {
            assert!(names.contains(key), "{key}");
        }
    }

    #[test]
    fn file_keys_and_values_that_are_not_settings_are_refused_by_name() {
        assert!(file_error(&[], "colour = \"blue\"\n").ends_with("unknown setting \"colour\""));
        assert!(file_error(&[], "config = \"x\"\n").ends_with("unknown setting \"config\""));
        let reason = file_error(&[], "bcrypt_cost = \"12\"\n");
        assert!(
            reason.contains("setting \"bcrypt_cost\": invalid type"),
            "{reason}"
        );
        let reason = file_error(&[], "pdp_level = \"maximal\"\n");
        assert!(
            reason.contains("pdp_level") && reason.contains("maximal"),
            "{reason}"
        );
        let reason = file_error(&[], "log_format = \"xml\"\n");
        assert!(
            reason.contains("log_format") && reason.contains("xml"),
            "{reason}"
        );
        let reason = file_error(&[], "bind = \"a\"\nbind = \"b\"\n");
        assert!(reason.contains("is not valid TOML at line 2"), "{reason}");
        assert!(!reason.contains('\n'), "one line: {reason}");
    }

    #[test]
    fn ranges_hold_for_file_values_too() {
        let cli = load(&[], Some("bcrypt_cost = 3\n")).unwrap();
        assert!(cli.settings.validate().unwrap_err().contains("4..=31"));
        let cli = load(&[], Some("body_timeout = 0\n")).unwrap();
        assert!(cli.settings.validate().unwrap_err().contains("1..=3600"));
    }
}
