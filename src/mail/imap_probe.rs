//! `rapporteur doctor`'s look at the IMAP server: connects as the reader does (TLS as
//! configured, every step bounded by the configured timeouts), logs in, asks whether IDLE is
//! offered, examines the mailbox read-only (nothing is marked seen) and reads the header of its
//! latest message, so that the mail authentication settings can be compared with what the
//! receiving server really writes. It changes nothing on the server.

use super::imap::ImapError;
use super::timeouts::{StallGuard, StallLimit, within};
use crate::config::{ImapSettings, MailSecurity};
use async_imap::Client;
use futures_util::TryStreamExt;
use std::fmt::Debug;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// What the IMAP server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapProbe {
    pub idle: bool,
    pub messages: u32,
    /// The header of the mailbox's latest message, if it has one.
    pub latest_header: Option<String>,
}

/// The step of the probe that failed, for the doctor's line.
#[derive(Debug)]
pub enum ImapProbeError {
    Connect(String),
    Login(String),
    Mailbox(String),
}

impl std::fmt::Display for ImapProbeError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImapProbeError::Connect(reason)
            | ImapProbeError::Login(reason)
            | ImapProbeError::Mailbox(reason) => formatter.write_str(reason),
        }
    }
}

pub async fn probe(settings: &ImapSettings) -> Result<ImapProbe, ImapProbeError> {
    let address = format!("{}:{}", settings.host, settings.port);
    let connect_error = |reason: String| ImapProbeError::Connect(format!("{address}: {reason}"));
    let timeouts = settings.timeouts;
    let tcp = within(
        timeouts.connect,
        "the TCP connection",
        TcpStream::connect(&address),
    )
    .await
    .map_err(|timed_out| connect_error(timed_out.to_string()))?
    .map_err(|error| connect_error(error.to_string()))?;
    let limit = StallLimit::new(timeouts.connect);
    let guarded = StallGuard::new(tcp, limit.clone());
    match settings.security {
        MailSecurity::Tls => {
            let connector =
                super::tls::imap_connector(settings.ca_file.as_deref()).map_err(connect_error)?;
            let name = super::tls::server_name(&settings.host).map_err(connect_error)?;
            let stream = connector
                .connect(name, guarded)
                .await
                .map_err(|error| connect_error(format!("TLS: {error}")))?;
            limit.set(timeouts.command);
            probe_session(settings, Client::new(stream)).await
        }
        MailSecurity::StartTls => Err(connect_error(
            "STARTTLS is not offered for IMAP here; use security = \"tls\" (port 993)".into(),
        )),
        MailSecurity::Plain => {
            limit.set(timeouts.command);
            probe_session(settings, Client::new(guarded)).await
        }
    }
}

async fn probe_session<T>(
    settings: &ImapSettings,
    mut client: Client<T>,
) -> Result<ImapProbe, ImapProbeError>
where
    T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
{
    client
        .read_response()
        .await
        .map_err(|error| ImapProbeError::Connect(format!("greeting: {error}")))?
        .ok_or_else(|| ImapProbeError::Connect("the server closed before its greeting".into()))?;
    let mut session = client
        .login(&settings.username, settings.password.expose())
        .await
        .map_err(|(error, _)| ImapProbeError::Login(error.to_string()))?;
    let idle = session
        .capabilities()
        .await
        .map(|capabilities| capabilities.has_str("IDLE"))
        .unwrap_or(false);
    let mailbox = session
        .examine(&settings.mailbox)
        .await
        .map_err(|error| ImapProbeError::Mailbox(error.to_string()))?;
    let latest_header = if mailbox.exists > 0 {
        let fetched: Vec<_> = session
            .fetch(mailbox.exists.to_string(), "BODY.PEEK[HEADER]")
            .await
            .map_err(|error| ImapProbeError::Mailbox(error.to_string()))?
            .try_collect()
            .await
            .map_err(|error: async_imap::error::Error| {
                ImapProbeError::Mailbox(error.to_string())
            })?;
        fetched
            .first()
            .and_then(|message| message.header())
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
    } else {
        None
    };
    let _ = session.logout().await;
    Ok(ImapProbe {
        idle,
        messages: mailbox.exists,
        latest_header,
    })
}

impl From<ImapError> for ImapProbeError {
    fn from(error: ImapError) -> Self {
        ImapProbeError::Connect(error.to_string())
    }
}
