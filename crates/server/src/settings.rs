//! Every setting of operations.md: environment variables, an optional TOML file named by
//! `TESSERA_CONFIG` (same keys, lower case, no prefix; the environment wins), defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use keyrock_idm::permissions::PdpLevel;

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

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Command {
    /// Run pending migrations, create the admin if none exists, and serve HTTP (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtAlgorithm {
    #[value(name = "HS256")]
    Hs256,
    #[value(name = "RS256")]
    Rs256,
}

#[derive(Debug, Clone, Args)]
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
          value_parser = clap::value_parser!(u32).range(4..=31))]
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
          value_parser = clap::value_parser!(u32).range(1..=3600))]
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

/// The keys the TOML file may hold: the settings above, lower case, without the prefix.
const FILE_KEYS: &[&str] = &[
    "database_url",
    "bind",
    "public_url",
    "admin_email",
    "admin_password",
    "bcrypt_cost",
    "smtp_url",
    "mail_from",
    "outbox_dir",
    "log",
    "log_format",
    "workers",
    "db_pool_size",
    "body_timeout",
    "api_token_lifetime",
    "access_token_lifetime",
    "refresh_token_lifetime",
    "auth_code_lifetime",
    "session_lifetime",
    "pdp_level",
    "oidc_jwt_algorithm",
    "oauth_ask_authorization",
    "oauth_allow_empty_state",
    "oauth_public_grants",
    "capability_default_lifetime",
    "capability_max_lifetime",
];

/// Reads the file named by `TESSERA_CONFIG`, if any, and exports each of its keys as the
/// environment variable clap reads, unless the environment already sets it.
pub fn load_config_file() -> Result<(), String> {
    let Some(path) = std::env::var_os("TESSERA_CONFIG") else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.to_string_lossy()))?;
    let table: toml::Table = text.parse().map_err(|e| {
        format!(
            "config file {} is not valid TOML: {e}",
            path.to_string_lossy()
        )
    })?;
    for (key, value) in table {
        if !FILE_KEYS.contains(&key.as_str()) {
            return Err(format!(
                "config file {}: unknown setting {key:?}",
                path.to_string_lossy()
            ));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(format!(
                    "config file {}: setting {key:?} must be a string, number or boolean, not {}",
                    path.to_string_lossy(),
                    other.type_str()
                ))
            }
        };
        let var = format!("TESSERA_{}", key.to_uppercase());
        if std::env::var_os(&var).is_none() {
            // Single-threaded here: main calls this before anything else runs.
            std::env::set_var(var, text);
        }
    }
    Ok(())
}

impl Settings {
    /// Checks what clap cannot: the URL scheme and the listen address.
    pub fn validate(&self) -> Result<(), String> {
        storage::DatabaseUrl::parse(&self.database_url).map_err(|e| e.to_string())?;
        self.bind_addr()?;
        if self.api_token_lifetime == 0 {
            return Err("TESSERA_API_TOKEN_LIFETIME must be at least 1 second".to_owned());
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_file_key_is_a_setting() {
        let cmd = Cli::command();
        let ids: Vec<String> = cmd
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .collect();
        for key in FILE_KEYS {
            assert!(ids.contains(&key.to_string()), "{key} is not an argument");
        }
        let settings_args = cmd
            .get_arguments()
            .filter(|a| a.get_env().is_some())
            .count();
        assert_eq!(settings_args, FILE_KEYS.len());
    }
}
