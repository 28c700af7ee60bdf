//! Outgoing e-mail: the "your book is ready" notification. Delivered over SMTP when configured
//! (`BUKO_SMTP_URL`, or `BUKO_SMTP_HOST` + port / user / password), otherwise written as an RFC 5322
//! `.eml` file to `<data dir>/outbox/` so a single-node install needs no mail server and an operator
//! (or a test) can read exactly what would have been sent. SMTP and file I/O are blocking: they run on
//! the blocking pool, never on the reactor.

pub mod account;
pub mod handler;

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{SmtpTransport, Transport};

use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `BUKO_SMTP_URL`: e.g. `smtps://user:pass@smtp.example.com` or `smtp://host:587?tls=required`.
    pub smtp_url: Option<Secret>,
    /// `BUKO_SMTP_HOST` / `BUKO_SMTP_PORT` (587, STARTTLS) / `BUKO_SMTP_USER` / `BUKO_SMTP_PASSWORD`:
    /// the same as parts, used when `BUKO_SMTP_URL` is unset.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<Secret>,
    /// `BUKO_MAIL_FROM` (default `Buko <noreply@localhost>`).
    pub from: String,
    /// `BUKO_PUBLIC_URL`: the site's address as users reach it, for links in mail (default
    /// `http://127.0.0.1:8080`).
    pub public_url: String,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            smtp_url: None,
            smtp_host: None,
            smtp_port: 587,
            smtp_user: None,
            smtp_password: None,
            from: "Buko <noreply@localhost>".into(),
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// A malformed mail setting.
#[derive(Debug, thiserror::Error)]
pub enum MailSettingsError {
    #[error("BUKO_SMTP_PORT={0:?} is not a port")]
    Port(String),
    #[error("BUKO_MAIL_FROM is not an address: {0}")]
    From(#[source] lettre::address::AddressError),
}

impl MailSettings {
    pub fn from_env() -> Result<MailSettings, MailSettingsError> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        let d = MailSettings::default();
        let smtp_port = match var("BUKO_SMTP_PORT") {
            Some(p) => p.trim().parse().map_err(|_| MailSettingsError::Port(p))?,
            None => d.smtp_port,
        };
        let s = MailSettings {
            smtp_url: var("BUKO_SMTP_URL").map(Secret::new),
            smtp_host: var("BUKO_SMTP_HOST"),
            smtp_port,
            smtp_user: var("BUKO_SMTP_USER"),
            smtp_password: var("BUKO_SMTP_PASSWORD").map(Secret::new),
            from: var("BUKO_MAIL_FROM").unwrap_or(d.from),
            public_url: var("BUKO_PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or(d.public_url),
        };
        s.from.parse::<Mailbox>().map_err(MailSettingsError::From)?;
        Ok(s)
    }

    /// Connects to the SMTP server and says hello (`buko doctor`); `None` when SMTP is not configured.
    pub fn test_connection(&self) -> Result<Option<()>, String> {
        match self.transport().map_err(|e| e.to_string())? {
            None => Ok(None),
            Some(t) => match t.test_connection() {
                Ok(true) => Ok(Some(())),
                Ok(false) => Err("the server did not accept the connection".into()),
                Err(e) => Err(e.to_string()),
            },
        }
    }

    fn transport(&self) -> Result<Option<SmtpTransport>, MailError> {
        let timeout = Some(Duration::from_secs(20));
        if let Some(url) = &self.smtp_url {
            let t = SmtpTransport::from_url(url.expose())
                .map_err(|e| MailError::Config(e.to_string()))?
                .timeout(timeout)
                .build();
            return Ok(Some(t));
        }
        let Some(host) = &self.smtp_host else {
            return Ok(None);
        };
        let mut b = SmtpTransport::starttls_relay(host)
            .map_err(|e| MailError::Config(e.to_string()))?
            .port(self.smtp_port)
            .timeout(timeout);
        if let (Some(user), Some(pass)) = (&self.smtp_user, &self.smtp_password) {
            b = b.credentials(Credentials::new(user.clone(), pass.expose().to_string()));
        }
        Ok(Some(b.build()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail settings: {0}")]
    Config(String),
    #[error("invalid address: {0}")]
    Address(String),
    #[error("SMTP delivery failed: {0}")]
    Smtp(String),
    #[error("writing the outbox: {0}")]
    Outbox(#[from] std::io::Error),
    #[error("mail task was cancelled")]
    Cancelled,
}

/// Where a message went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Smtp,
    Outbox(PathBuf),
}

/// Sends a plain-text message from the configured sender to `to`: over SMTP, or into the outbox under
/// `data_dir` when no SMTP server is configured (blocking work on the blocking pool).
pub(crate) async fn send_text(
    mail: &MailSettings,
    data_dir: &std::path::Path,
    to: &str,
    subject: String,
    body: String,
) -> Result<Delivery, MailError> {
    let message = Message::builder()
        .from(
            mail.from
                .parse()
                .map_err(|e| MailError::Address(format!("{e}")))?,
        )
        .to(to
            .parse()
            .map_err(|e| MailError::Address(format!("{to}: {e}")))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| MailError::Config(e.to_string()))?;
    let mail = mail.clone();
    let outbox = data_dir.join("outbox");
    actix_web::rt::task::spawn_blocking(move || deliver(&mail, outbox, message))
        .await
        .map_err(|_| MailError::Cancelled)?
}

/// Tells `to` that their book is ready, with a link; Spanish when `spanish`, else English.
pub async fn send_book_completed(
    mail: &MailSettings,
    data_dir: &std::path::Path,
    to: &str,
    book_title: &str,
    book_url: &str,
    spanish: bool,
) -> Result<Delivery, MailError> {
    let (subject, body) = if spanish {
        (
            format!("Tu libro «{book_title}» está listo"),
            format!(
                "¡Hola!\n\nTu libro «{book_title}» está terminado. Puedes leerlo y descargarlo aquí:\n\n\
                 {book_url}\n\n— Buko\n"
            ),
        )
    } else {
        (
            format!("Your book “{book_title}” is ready"),
            format!(
                "Hello!\n\nYour book “{book_title}” is finished. Read and download it here:\n\n\
                 {book_url}\n\n— Buko\n"
            ),
        )
    };
    send_text(mail, data_dir, to, subject, body).await
}

pub(crate) fn deliver(
    mail: &MailSettings,
    outbox: PathBuf,
    message: Message,
) -> Result<Delivery, MailError> {
    if let Some(transport) = mail.transport()? {
        transport
            .send(&message)
            .map_err(|e| MailError::Smtp(e.to_string()))?;
        return Ok(Delivery::Smtp);
    }
    std::fs::create_dir_all(&outbox)?;
    let name = format!(
        "{}-{}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        uuid::Uuid::new_v4().simple()
    );
    // Write then rename, so a reader never sees half a message.
    let tmp = outbox.join(format!(".{name}.tmp"));
    let path = outbox.join(name);
    std::fs::write(&tmp, message.formatted())?;
    std::fs::rename(&tmp, &path)?;
    Ok(Delivery::Outbox(path))
}
