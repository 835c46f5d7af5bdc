//! A pool of SMTP connections on lettre's connection type, with TCP_NODELAY set.
//!
//! lettre's own pooled transport opens its sockets without TCP_NODELAY and writes a message's
//! body and its closing `.` line in two writes; with Nagle's algorithm the second write waits
//! for the server's delayed acknowledgement of the first, about 40 ms per mail on Linux. That
//! made a fan-out of 1,000 mails take 13 s instead of about 2 s (docs/benchmarks.md). This pool
//! opens the socket itself, sets TCP_NODELAY and hands it to lettre, which then does the SMTP
//! dialogue, STARTTLS and authentication as usual.

use crate::config::{MailSecurity, SmtpSettings};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

/// How long an unused connection is kept; servers close idle ones after a minute or more.
const IDLE_LIFETIME: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

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
        if let Some(mut connection) = self.take_idle().await {
            match connection.send(envelope, message).await {
                Ok(_) => {
                    self.give_back(connection).await;
                    return Ok(());
                }
                // A refusal of this message by a working server stands; a broken connection
                // gets one retry on a fresh one.
                Err(error) if !connection.has_broken() => return Err(error.into()),
                Err(_) => {}
            }
        }
        let mut connection = self.connect().await?;
        connection.send(envelope, message).await?;
        self.give_back(connection).await;
        Ok(())
    }

    async fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().await;
        while let Some((mut connection, since)) = idle.pop() {
            if since.elapsed() < IDLE_LIFETIME && !connection.has_broken() {
                return Some(connection);
            }
            connection.abort().await;
        }
        None
    }

    async fn give_back(&self, connection: AsyncSmtpConnection) {
        if !connection.has_broken() {
            self.idle.lock().await.push((connection, Instant::now()));
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpFailure> {
        let settings = &self.settings;
        let tls = || {
            TlsParameters::new(settings.host.clone()).map_err(|error| SmtpFailure {
                transient: false,
                message: error.to_string(),
            })
        };
        let mut connection = match settings.security {
            // Implicit TLS: lettre opens the socket (without TCP_NODELAY; see the module doc).
            MailSecurity::Tls => {
                AsyncSmtpConnection::connect_tokio1(
                    (settings.host.as_str(), settings.port),
                    Some(CONNECT_TIMEOUT),
                    &self.hello_name,
                    Some(tls()?),
                    None,
                )
                .await?
            }
            MailSecurity::Plain | MailSecurity::StartTls => {
                let address = (settings.host.as_str(), settings.port);
                let stream =
                    tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(address))
                        .await
                        .map_err(|_| SmtpFailure {
                            transient: true,
                            message: format!(
                                "connecting to {}:{} timed out",
                                settings.host, settings.port
                            ),
                        })?
                        .map_err(|error| SmtpFailure {
                            transient: true,
                            message: format!(
                                "cannot connect to {}:{}: {error}",
                                settings.host, settings.port
                            ),
                        })?;
                let _ = stream.set_nodelay(true);
                let mut connection =
                    AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello_name)
                        .await?;
                if settings.security == MailSecurity::StartTls {
                    connection.starttls(tls()?, &self.hello_name).await?;
                }
                connection
            }
        };
        if let (Some(username), Some(password)) = (&settings.username, &settings.password) {
            let credentials = Credentials::new(username.clone(), password.expose().to_string());
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .await?;
        }
        Ok(connection)
    }
}
