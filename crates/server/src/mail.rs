//! Mail at the edge (hexoskin-bundles.md §3): the [`Mailer`] of the Hexoskin domain over
//! SMTP (`TESSERA_SMTP_URL`, `smtp://` plain or `smtps://` TLS, a 10-second timeout) or,
//! without one, as `.eml` files in the outbox (written under a temporary name, then
//! renamed); and the background sender, which delivers what the durable queue holds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bundle_permissions::mail::{self, Delivery, MailError, Mailer, OutgoingMessage, Retry};
use lettre::message::header::{ContentType, MIME_VERSION_1_0};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use time::OffsetDateTime;

use crate::settings::Settings;

/// How long one SMTP attempt may take (§3).
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the background sender looks for due messages.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// How long a node holds a claimed message before another node may take it.
const LEASE: time::Duration = time::Duration::seconds(60);

/// Where an SMTP URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpTarget {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// `user:password@` of the URL, for SMTP AUTH (PLAIN or LOGIN).
    pub credentials: Option<SmtpCredentials>,
}

/// The user and password of an SMTP URL; `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpCredentials({:?}, <redacted>)", self.user)
    }
}

/// `url` with its user information (which may hold a password) replaced, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// `smtp://[user:password@]host[:port]` (plain, port 25) or `smtps://...` (TLS, port 465);
/// the user and password are percent-decoded. Messages never show the password.
pub fn parse_smtp_url(url: &str) -> Result<SmtpTarget, String> {
    let bad = |why: &str| format!("TESSERA_SMTP_URL {:?} {why}", redacted(url));
    let (tls, rest) = if let Some(rest) = url.strip_prefix("smtps://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("smtp://") {
        (false, rest)
    } else {
        return Err(bad("must start with smtp:// or smtps://"));
    };
    let rest = rest.trim_end_matches('/');
    let (credentials, rest) = match rest.rsplit_once('@') {
        Some((userinfo, rest)) => {
            let decode = |text: &str| {
                percent_encoding::percent_decode_str(text)
                    .decode_utf8()
                    .map(|t| t.into_owned())
                    .map_err(|_| bad("has a user or password that is not UTF-8"))
            };
            let (user, password) = userinfo
                .split_once(':')
                .ok_or_else(|| bad("must give user:password@ or no user at all"))?;
            let credentials = SmtpCredentials {
                user: decode(user)?,
                password: decode(password)?,
            };
            if credentials.user.is_empty() {
                return Err(bad("names an empty user"));
            }
            (Some(credentials), rest)
        }
        None => (None, rest),
    };
    if rest.contains(['/', '@', '?', '#']) {
        return Err(bad("must be smtp[s]://[user:password@]host[:port]"));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| bad("has a port that is not a number in 1..=65535"))?,
        ),
        None => (rest, if tls { 465 } else { 25 }),
    };
    if host.is_empty() || port == 0 {
        return Err(bad("names no host or port"));
    }
    Ok(SmtpTarget {
        tls,
        host: host.to_owned(),
        port,
        credentials,
    })
}

enum Channel {
    Smtp(Box<SmtpTransport>),
    Outbox(PathBuf),
}

/// Sends the domain's messages from `TESSERA_MAIL_FROM`, with links under the public URL.
pub struct MailSender {
    from: Mailbox,
    channel: Channel,
    public_url: String,
    first_backoff: time::Duration,
}

impl MailSender {
    pub fn from_settings(settings: &Settings, public_url: &str) -> Result<MailSender, String> {
        let from: Mailbox = settings.mail_from.parse().map_err(|e| {
            format!(
                "TESSERA_MAIL_FROM {:?} is not an address: {e}",
                settings.mail_from
            )
        })?;
        let channel = match &settings.smtp_url {
            None => Channel::Outbox(settings.outbox_dir.clone()),
            Some(url) => {
                let target = parse_smtp_url(url)?;
                let builder = if target.tls {
                    SmtpTransport::relay(&target.host)
                        .map_err(|e| format!("TESSERA_SMTP_URL {:?}: {e}", redacted(url)))?
                } else {
                    SmtpTransport::builder_dangerous(&target.host)
                };
                let builder = builder.port(target.port).timeout(Some(SMTP_TIMEOUT));
                let builder = match target.credentials {
                    Some(c) => builder.credentials(Credentials::new(c.user, c.password)),
                    None => builder,
                };
                Channel::Smtp(Box::new(builder.build()))
            }
        };
        Ok(MailSender {
            from,
            channel,
            public_url: public_url.to_owned(),
            first_backoff: time::Duration::seconds(i64::from(settings.mail_first_retry_secs)),
        })
    }

    /// How this node delivers: this sender, the links' base, the first backoff.
    pub fn courier(&self) -> mail::Courier<'_> {
        mail::Courier {
            mailer: self,
            public_url: &self.public_url,
            first_backoff: self.first_backoff,
        }
    }

    fn message(&self, outgoing: &OutgoingMessage) -> Result<Message, MailError> {
        let to: Mailbox = outgoing
            .recipient
            .parse()
            .map_err(|e| MailError::Delivery(format!("recipient is not an address: {e}")))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(outgoing.subject.clone())
            .date_now()
            .message_id(None)
            .header(MIME_VERSION_1_0)
            .header(ContentType::TEXT_PLAIN)
            .body(outgoing.body.clone())
            .map_err(|e| MailError::Delivery(format!("the message does not build: {e}")))
    }
}

impl Mailer for MailSender {
    fn send(&self, outgoing: &OutgoingMessage) -> Result<(), MailError> {
        let message = self.message(outgoing)?;
        match &self.channel {
            Channel::Smtp(transport) => transport
                .send(&message)
                .map(|_| ())
                .map_err(|e| MailError::Delivery(format!("SMTP: {e}"))),
            Channel::Outbox(dir) => write_eml(dir, &message.formatted())
                .map_err(|e| MailError::Delivery(format!("outbox {}: {e}", dir.display()))),
        }
    }
}

/// Writes one `.eml` file, `<UTC timestamp>-<random>.eml`, under a temporary name first so
/// that readers never see a partial file.
fn write_eml(dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let stamp = OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second].[subsecond digits:6]Z"
        ))
        .unwrap_or_default();
    let name = format!("{stamp}-{}.eml", uuid::Uuid::new_v4().simple());
    let temporary = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, dir.join(name))
}

/// The background sender: every [`POLL_INTERVAL`], claims the due messages of the queue
/// (one node at a time per message) and makes one attempt at each. Runs until the server
/// stops; queued messages survive a restart, since the queue is in the database.
pub async fn send_queued(pool: storage::Pool, sender: std::sync::Arc<MailSender>) {
    let mut interval = actix_web::rt::time::interval(POLL_INTERVAL);
    loop {
        interval.tick().await;
        let (pool, sender) = (pool.clone(), sender.clone());
        let outcome = crate::db::blocking(move || -> Result<(), storage::StorageError> {
            let mut conn = pool.get()?;
            let due = mail::claim_due(&mut conn, OffsetDateTime::now_utc(), LEASE)
                .map_err(|e| storage::StorageError::Other(e.to_string()))?;
            for message in due {
                let delivery = mail::deliver(
                    &mut conn,
                    &sender.courier(),
                    &message,
                    OffsetDateTime::now_utc,
                )
                .map_err(|e| storage::StorageError::Other(e.to_string()))?;
                log_delivery(message.id, message.request_id, &delivery);
            }
            Ok(())
        })
        .await;
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "the mail queue could not be read");
        }
    }
}

/// The log line of a new request's first attempt (§3: a failure is logged at `warn` with
/// the request id).
pub fn log_first_attempt(asked: &bundle_permissions::requests::Asked) {
    match &asked.first_attempt {
        Ok(delivery) => log_delivery(asked.message_id, asked.request.id.into(), delivery),
        Err(e) => tracing::warn!(
            mail = asked.message_id,
            request = asked.request.id,
            error = %e,
            "the first e-mail attempt could not be recorded; the background sender will retry"
        ),
    }
}

/// One log line per attempt; never the message body (it carries the token).
pub fn log_delivery(id: i64, request: Option<i64>, delivery: &Delivery) {
    match delivery {
        Delivery::Sent => tracing::info!(mail = id, request, "queued e-mail sent"),
        Delivery::Failed { error, retry } => match retry {
            Retry::At(at) => {
                tracing::warn!(mail = id, request, error = %error, retry_at = %at, "e-mail not sent; it will be retried")
            }
            Retry::GaveUp => {
                tracing::error!(mail = id, request, error = %error, "e-mail not sent within 24 hours; given up")
            }
            Retry::Settled => {
                tracing::info!(mail = id, request, error = %error, "e-mail attempt failed; the message is settled")
            }
        },
        Delivery::NotSent(reason) => {
            tracing::info!(mail = id, request, reason, "queued e-mail not sent")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_name_scheme_host_and_port() {
        let t = |tls, host: &str, port| SmtpTarget {
            tls,
            host: host.to_owned(),
            port,
            credentials: None,
        };
        assert_eq!(
            parse_smtp_url("smtp://127.0.0.1:2525"),
            Ok(t(false, "127.0.0.1", 2525))
        );
        assert_eq!(
            parse_smtp_url("smtp://mail.example.org"),
            Ok(t(false, "mail.example.org", 25))
        );
        assert_eq!(
            parse_smtp_url("smtps://mail.example.org/"),
            Ok(t(true, "mail.example.org", 465))
        );
        for bad in [
            "http://mail.example.org",
            "smtp://",
            "smtp://host:0",
            "smtp://host:99999",
            "smtp://user@host:25",
            "smtp://:pw@host:25",
            "smtp://host:25/path",
        ] {
            assert!(parse_smtp_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn smtp_urls_may_carry_credentials_that_no_message_shows() {
        let target = parse_smtp_url("smtps://relay%40example.org:p%3Ass@mail.example.org").unwrap();
        assert_eq!(
            target.credentials,
            Some(SmtpCredentials {
                user: "relay@example.org".into(),
                password: "p:ss".into()
            })
        );
        assert_eq!((target.tls, target.port), (true, 465));
        assert!(!format!("{target:?}").contains("p:ss"));
        for bad in [
            "smtp://u:s3cret@host:0",
            "smtp://u:s3cret@host/x",
            "smtp://u:s3cret%FF@h",
        ] {
            let message = parse_smtp_url(bad).unwrap_err();
            assert!(!message.contains("s3cret"), "{message}");
            assert!(message.contains("***@"), "{message}");
        }
    }

    #[test]
    fn the_outbox_holds_whole_files_only() {
        let dir =
            std::env::temp_dir().join(format!("tessera_outbox_{}", uuid::Uuid::new_v4().simple()));
        write_eml(&dir, b"Subject: one\r\n\r\nbody\r\n").unwrap();
        write_eml(&dir, b"Subject: two\r\n\r\nbody\r\n").unwrap();
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            names
                .iter()
                .all(|n| n.ends_with(".eml") && !n.starts_with('.')),
            "{names:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
