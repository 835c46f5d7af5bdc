//! A pool of SMTP connections on lettre's connection type, with TCP_NODELAY set.
//!
//! lettre's own pooled transport opens its sockets without TCP_NODELAY and writes a message's
//! body and its closing `.` line in two writes; with Nagle's algorithm the second write waits
//! for the server's delayed acknowledgement of the first, about 40 ms per mail on Linux. That
//! made a fan-out of 1,000 mails take 13 s instead of about 2 s (docs/benchmarks.md). This pool
//! opens the socket itself, sets TCP_NODELAY and hands it to lettre, which then does the SMTP
//! dialogue, STARTTLS and authentication as usual.
//!
//! Every step is bounded (see `mail::timeouts`): the connection with its greeting and EHLO,
//! STARTTLS, AUTH, and the sending of each message. A connection whose step timed out is in an
//! unknown state and is dropped, never pooled again; the dispatcher retries the mail.

use super::timeouts::{TimedOut, within};
use crate::config::{MailSecurity, SmtpSettings};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

/// How long an unused connection is kept; servers close idle ones after a minute or more.
const IDLE_LIFETIME: Duration = Duration::from_secs(30);

pub struct SmtpPool {
    settings: SmtpSettings,
    hello_name: ClientId,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    in_use: Semaphore,
}

/// An SMTP failure, with whether trying again later may help.
#[derive(Debug)]
pub struct SmtpFailure {
    pub transient: bool,
    pub message: String,
}

impl From<lettre::transport::smtp::Error> for SmtpFailure {
    fn from(error: lettre::transport::smtp::Error) -> Self {
        // Only a 5xx answer is final; refused connections, timeouts and 4xx answers are what an
        // outage looks like.
        SmtpFailure {
            transient: !error.is_permanent(),
            message: error.to_string(),
        }
    }
}

impl From<TimedOut> for SmtpFailure {
    /// A server that does not answer in time is an outage: the mail is tried again later.
    fn from(timed_out: TimedOut) -> Self {
        SmtpFailure {
            transient: true,
            message: format!("SMTP: {timed_out}"),
        }
    }
}

impl SmtpPool {
    pub fn new(settings: SmtpSettings, hello_domain: &str) -> SmtpPool {
        let size = settings.pool_size.max(1) as usize;
        SmtpPool {
            settings,
            hello_name: ClientId::Domain(hello_domain.to_string()),
            idle: Mutex::new(Vec::new()),
            in_use: Semaphore::new(size),
        }
    }

    /// Sends one message. A pooled connection the server has closed meanwhile is replaced once.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SmtpFailure> {
        let _permit = self.in_use.acquire().await.map_err(|_| SmtpFailure {
            transient: true,
            message: "the SMTP pool is closed".into(),
        })?;
        let data_limit = self.settings.timeouts.data;
        if let Some(mut connection) = self.take_idle().await {
            match within(
                data_limit,
                "the message",
                connection.send(envelope, message),
            )
            .await
            {
                Ok(Ok(_)) => {
                    self.give_back(connection).await;
                    return Ok(());
                }
                // A refusal of this message by a working server stands; a broken connection
                // gets one retry on a fresh one.
                Ok(Err(error)) if !connection.has_broken() => return Err(error.into()),
                Ok(Err(_)) => {}
                // The server stopped answering: the connection is dropped, not retried at once.
                Err(timed_out) => return Err(timed_out.into()),
            }
        }
        let mut connection = self.connect().await?;
        within(
            data_limit,
            "the message",
            connection.send(envelope, message),
        )
        .await??;
        self.give_back(connection).await;
        Ok(())
    }

    async fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().await;
        while let Some((mut connection, since)) = idle.pop() {
            if since.elapsed() < IDLE_LIFETIME && !connection.has_broken() {
                return Some(connection);
            }
            // QUIT is polite; a server that does not answer it is left all the same.
            let _ = within(self.settings.timeouts.command, "QUIT", connection.abort()).await;
        }
        None
    }

    async fn give_back(&self, connection: AsyncSmtpConnection) {
        if !connection.has_broken() {
            self.idle.lock().await.push((connection, Instant::now()));
        }
    }

    /// `rapporteur doctor`'s check: connects as a send would (TLS as configured, login), then
    /// asks whether the server takes `recipient` (`MAIL FROM`, `RCPT TO`) and withdraws the
    /// mail (`RSET`) before any data: nothing is sent. Returns the server's answer to RCPT.
    pub async fn probe_recipient(
        &self,
        from: &lettre::Address,
        recipient: &lettre::Address,
    ) -> Result<String, SmtpFailure> {
        use lettre::transport::smtp::commands::{Mail, Rcpt, Rset};
        let timeouts = self.settings.timeouts;
        let mut connection = self.connect().await?;
        within(
            timeouts.command,
            "MAIL FROM",
            connection.command(Mail::new(Some(from.clone()), vec![])),
        )
        .await??;
        let answer = within(
            timeouts.command,
            "RCPT TO",
            connection.command(Rcpt::new(recipient.clone(), vec![])),
        )
        .await??;
        let _ = within(timeouts.command, "RSET", connection.command(Rset)).await;
        let _ = within(timeouts.command, "QUIT", connection.quit()).await;
        Ok(format!(
            "{} {}",
            answer.code(),
            answer.message().collect::<Vec<_>>().join(" ")
        ))
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpFailure> {
        let settings = &self.settings;
        let timeouts = settings.timeouts;
        let tls = || {
            super::tls::smtp_parameters(&settings.host, settings.ca_file.as_deref()).map_err(
                |message| SmtpFailure {
                    transient: false,
                    message,
                },
            )
        };
        // The greeting and EHLO answer are part of the connection.
        let opening = timeouts.connect + timeouts.command;
        let mut connection = match settings.security {
            // Implicit TLS: lettre opens the socket (without TCP_NODELAY; see the module doc).
            MailSecurity::Tls => {
                within(
                    opening,
                    "the TLS connection, greeting and EHLO",
                    AsyncSmtpConnection::connect_tokio1(
                        (settings.host.as_str(), settings.port),
                        Some(timeouts.connect),
                        &self.hello_name,
                        Some(tls()?),
                        None,
                    ),
                )
                .await??
            }
            MailSecurity::Plain | MailSecurity::StartTls => {
                let address = (settings.host.as_str(), settings.port);
                let stream = within(
                    timeouts.connect,
                    "the TCP connection",
                    tokio::net::TcpStream::connect(address),
                )
                .await?
                .map_err(|error| SmtpFailure {
                    transient: true,
                    message: format!(
                        "cannot connect to {}:{}: {error}",
                        settings.host, settings.port
                    ),
                })?;
                let _ = stream.set_nodelay(true);
                let mut connection = within(
                    timeouts.command,
                    "the greeting and EHLO",
                    AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello_name),
                )
                .await??;
                if settings.security == MailSecurity::StartTls {
                    within(
                        timeouts.command,
                        "STARTTLS",
                        connection.starttls(tls()?, &self.hello_name),
                    )
                    .await??;
                }
                connection
            }
        };
        if let (Some(username), Some(password)) = (&settings.username, &settings.password) {
            let credentials = Credentials::new(username.clone(), password.expose().to_string());
            within(
                timeouts.command,
                "AUTH",
                connection.auth(&[Mechanism::Plain, Mechanism::Login], &credentials),
            )
            .await??;
        }
        Ok(connection)
    }
}
