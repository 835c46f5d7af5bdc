//! Reads the bot's mailbox over IMAP. New mail is found by UID: the mailbox's UIDVALIDITY and the
//! last UID recorded are kept in the database, committed in the same transaction as each mail's
//! inbox row, so nothing is read twice or missed across restarts and reconnects. Between reads
//! the reader waits with IDLE when the server offers it, and polls otherwise. A lost connection
//! is retried with backoff, up to a minute apart. Every wait on the server is bounded (see
//! `mail::timeouts`), so a server that stops answering costs a reconnection, not the channel.

use super::ingest::{IngestOutcome, MailIngest, ingest_mail_part};
use super::timeouts::{StallGuard, StallLimit, within};
use crate::config::{ImapSettings, MailSecurity};
use crate::storage::{InboxItem, Store};
use async_imap::Client;
use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use futures_util::TryStreamExt;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to the IMAP server {address}: {reason}")]
    Connect { address: String, reason: String },
    #[error("IMAP: {0}")]
    Protocol(String),
    #[error("IMAP: {0}")]
    LoginRefused(String),
    #[error("storage: {0}")]
    Storage(#[from] crate::storage::StorageError),
}

impl From<async_imap::error::Error> for ImapError {
    fn from(error: async_imap::error::Error) -> Self {
        ImapError::Protocol(error.to_string())
    }
}

/// Where the reader stands in one mailbox: `uidvalidity:last_uid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxPosition {
    pub uid_validity: u32,
    pub last_uid: u32,
}

impl MailboxPosition {
    pub fn parse(text: &str) -> Option<MailboxPosition> {
        let (validity, last) = text.split_once(':')?;
        Some(MailboxPosition {
            uid_validity: validity.parse().ok()?,
            last_uid: last.parse().ok()?,
        })
    }

    pub fn render(self) -> String {
        format!("{}:{}", self.uid_validity, self.last_uid)
    }
}

/// Mail is fetched in batches of this many UIDs, so a large backlog is recorded step by step.
const FETCH_BATCH: u32 = 50;
const LONGEST_RECONNECT_DELAY: Duration = Duration::from_secs(60);
/// A server may refuse a login while its own user database is unavailable; a refusal that
/// repeats this many times in a row is taken as final.
const REFUSED_LOGINS_TO_GIVE_UP: u32 = 3;

pub struct ImapReader {
    pub settings: ImapSettings,
    pub store: Store,
    pub ingest: Arc<MailIngest>,
    /// New inbox items go to the handler as soon as they are recorded.
    pub handler: mpsc::UnboundedSender<InboxItem>,
}

impl ImapReader {
    fn state_key(&self) -> String {
        format!(
            "imap:{}@{}:{}/{}",
            self.settings.username, self.settings.host, self.settings.port, self.settings.mailbox
        )
    }

    /// Reads mail until shutdown, reconnecting after any failure. A login the server keeps
    /// refusing ends the reader with an error: no wait mends a wrong password, and the bot is
    /// better stopped with the reason in its log than running deaf to mail.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), ImapError> {
        let mut delay = Duration::from_secs(1);
        let mut refused_logins = 0;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let mut session_shutdown = shutdown.clone();
            let result = tokio::select! {
                result = self.connect_and_read(&mut session_shutdown) => result,
                _ = shutdown.changed() => return Ok(()),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(error) => {
                    if matches!(error, ImapError::LoginRefused(_)) {
                        refused_logins += 1;
                        if refused_logins >= REFUSED_LOGINS_TO_GIVE_UP {
                            return Err(error);
                        }
                    } else {
                        refused_logins = 0;
                    }
                    crate::observe::health::failed("imap", &error.to_string());
                    tracing::warn!(%error, retry_in_s = delay.as_secs(), "IMAP reader stopped; reconnecting");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.changed() => return Ok(()),
            }
            delay = (delay * 2).min(LONGEST_RECONNECT_DELAY);
        }
    }

    async fn connect_and_read(
        &self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), ImapError> {
        let address = format!("{}:{}", self.settings.host, self.settings.port);
        let connect_error = |reason: String| ImapError::Connect {
            address: address.clone(),
            reason,
        };
        let timeouts = self.settings.timeouts;
        let tcp = within(
            timeouts.connect,
            "the TCP connection",
            TcpStream::connect(&address),
        )
        .await
        .map_err(|timed_out| connect_error(timed_out.to_string()))?
        .map_err(|error| connect_error(error.to_string()))?;
        // Every read and write below, the TLS handshake included, is bounded (see
        // `mail::timeouts`).
        let limit = StallLimit::new(timeouts.connect);
        let guarded = StallGuard::new(tcp, limit.clone());
        match self.settings.security {
            MailSecurity::Tls => {
                let connector = super::tls::imap_connector(self.settings.ca_file.as_deref())
                    .map_err(connect_error)?;
                let name = super::tls::server_name(&self.settings.host).map_err(connect_error)?;
                let stream = connector
                    .connect(name, guarded)
                    .await
                    .map_err(|error| connect_error(format!("TLS: {error}")))?;
                limit.set(timeouts.command);
                self.session(Client::new(stream), &limit, shutdown).await
            }
            _ => {
                limit.set(timeouts.command);
                self.session(Client::new(guarded), &limit, shutdown).await
            }
        }
    }

    async fn session<T>(
        &self,
        mut client: Client<T>,
        limit: &StallLimit,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), ImapError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
    {
        client
            .read_response()
            .await
            .map_err(|error| ImapError::Protocol(format!("greeting: {error}")))?
            .ok_or_else(|| ImapError::Protocol("the server closed before its greeting".into()))?;
        let mut session = client
            .login(&self.settings.username, self.settings.password.expose())
            .await
            .map_err(|(error, _)| login_failure(error))?;
        let can_idle = self.settings.idle && session.capabilities().await?.has_str("IDLE");
        tracing::info!(
            server = %self.settings.host,
            mailbox = %self.settings.mailbox,
            idle = can_idle,
            "IMAP connected"
        );
        let mut looked_again = false;
        loop {
            let mailbox = session.select(&self.settings.mailbox).await?;
            let uid_validity = mailbox.uid_validity.unwrap_or(0);
            self.read_new_mail(&mut session, uid_validity).await?;
            crate::observe::health::succeeded("imap");
            if *shutdown.borrow() {
                let _ = session.logout().await;
                return Ok(());
            }
            // Mail that arrived while the last fetch ran is announced as an unsolicited EXISTS,
            // which IDLE would not report again: look once more before waiting.
            // One look again at most, so a server that always sends something cannot keep the
            // reader from waiting; the renewal below bounds any delay either way.
            let mut announced = false;
            while let Ok(response) = session.unsolicited_responses.try_recv() {
                announced |= matches!(
                    response,
                    UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
                );
            }
            if announced && !looked_again {
                looked_again = true;
                continue;
            }
            looked_again = false;
            if can_idle {
                let mut idle = session.idle();
                idle.init().await?;
                // IDLE is renewed at the poll interval, which also bounds how long any change
                // the server failed to announce can wait.
                let renewal =
                    Duration::from_secs(self.settings.poll_interval_seconds.clamp(10, 25 * 60));
                // Silence is normal in IDLE: the stall limit covers the whole wait, and is back
                // to the command timeout for DONE and what follows.
                limit.set(renewal + self.settings.timeouts.command);
                let (wait, interrupt) = idle.wait_with_timeout(renewal);
                let response = tokio::select! {
                    response = wait => Some(response),
                    _ = shutdown.changed() => None,
                };
                limit.set(self.settings.timeouts.command);
                let response = response.transpose()?;
                drop(interrupt);
                if let Some(IdleResponse::NewData(_)) = &response {
                    tracing::debug!("IMAP IDLE: the mailbox changed");
                }
                session = idle.done().await?;
                if response.is_none() {
                    let _ = session.logout().await;
                    return Ok(());
                }
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(self.settings.poll_interval_seconds)) => {}
                    _ = shutdown.changed() => {
                        let _ = session.logout().await;
                        return Ok(());
                    }
                }
                // NOOP lets the server report new mail on the selected mailbox.
                session.noop().await?;
            }
        }
    }

    /// Fetches and records every message above the last recorded UID.
    async fn read_new_mail<T>(
        &self,
        session: &mut async_imap::Session<T>,
        uid_validity: u32,
    ) -> Result<(), ImapError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
    {
        let key = self.state_key();
        let stored = self
            .store
            .adapter_state(&key)
            .await?
            .as_deref()
            .and_then(MailboxPosition::parse);
        let mut position = match stored {
            Some(position) if position.uid_validity == uid_validity => position,
            Some(_) => {
                // The server renumbered the mailbox: every UID may mean another message now.
                // Reading it all again is safe because each mail is recorded by Message-ID.
                tracing::warn!(
                    uid_validity,
                    "IMAP UIDVALIDITY changed; reading the mailbox again"
                );
                MailboxPosition {
                    uid_validity,
                    last_uid: 0,
                }
            }
            None => MailboxPosition {
                uid_validity,
                last_uid: 0,
            },
        };
        loop {
            let range = format!(
                "{}:{}",
                position.last_uid + 1,
                position.last_uid + FETCH_BATCH
            );
            // Sizes first: a mail over the limit is never downloaded, only its headers.
            let listed: Vec<async_imap::types::Fetch> = session
                .uid_fetch(&range, "(UID RFC822.SIZE)")
                .await?
                .try_collect()
                .await?;
            let mut messages: Vec<(u32, u32)> = listed
                .iter()
                .filter_map(|fetch| Some((fetch.uid?, fetch.size.unwrap_or(0))))
                .filter(|(uid, _)| *uid > position.last_uid)
                .collect();
            messages.sort_by_key(|(uid, _)| *uid);
            if messages.is_empty() {
                // UIDs may have gaps (deleted mail); look past this batch only if there is
                // anything beyond it.
                let beyond: Vec<async_imap::types::Fetch> = session
                    .uid_fetch(
                        format!("{}:*", position.last_uid + FETCH_BATCH + 1),
                        "(UID)",
                    )
                    .await?
                    .try_collect()
                    .await?;
                let next = beyond
                    .iter()
                    .filter_map(|fetch| fetch.uid)
                    .filter(|uid| *uid > position.last_uid + FETCH_BATCH)
                    .min();
                match next {
                    Some(next) => {
                        position.last_uid = next - 1;
                        continue;
                    }
                    None => return Ok(()),
                }
            }
            let limit = self.ingest.rules.size_limit_bytes;
            for batch in download_batches(&messages, limit) {
                let query = if batch.over_limit {
                    "(UID RFC822.SIZE BODY.PEEK[HEADER])"
                } else {
                    "(UID RFC822.SIZE BODY.PEEK[])"
                };
                let fetched: Vec<async_imap::types::Fetch> = session
                    .uid_fetch(batch.uid_set(), query)
                    .await?
                    .try_collect()
                    .await?;
                let mut downloaded: Vec<(u32, u64, Vec<u8>)> = fetched
                    .iter()
                    .filter_map(|fetch| {
                        let bytes = if batch.over_limit {
                            fetch.header()
                        } else {
                            fetch.body()
                        };
                        Some((
                            fetch.uid?,
                            u64::from(fetch.size.unwrap_or(0)),
                            bytes.unwrap_or_default().to_vec(),
                        ))
                    })
                    .filter(|(uid, _, _)| batch.uids.contains(uid))
                    .collect();
                downloaded.sort_by_key(|(uid, _, _)| *uid);
                for (uid, size, raw) in downloaded {
                    position.last_uid = uid;
                    let rendered = position.render();
                    let now_ms = jiff::Timestamp::now().as_millisecond();
                    let outcome = ingest_mail_part(
                        &self.store,
                        &self.ingest,
                        &raw,
                        size,
                        "imap",
                        Some((&key, &rendered)),
                        now_ms,
                    )
                    .await?;
                    if let IngestOutcome::Recorded(Some(item)) = outcome {
                        let _ = self.handler.send(item);
                    }
                }
            }
        }
    }
}

/// UIDs fetched together: mail within the size limit in batches of at most about the limit in
/// all (so a batch never holds much more than one large mail in memory), and mail over the
/// limit, of which only the headers are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DownloadBatch {
    uids: Vec<u32>,
    over_limit: bool,
}

impl DownloadBatch {
    fn uid_set(&self) -> String {
        self.uids
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Splits `(uid, size)` pairs, in UID order, into download batches (see [`DownloadBatch`]).
fn download_batches(messages: &[(u32, u32)], size_limit_bytes: usize) -> Vec<DownloadBatch> {
    let mut batches: Vec<DownloadBatch> = Vec::new();
    let mut batch_bytes = 0usize;
    for &(uid, size) in messages {
        let size = size as usize;
        let over_limit = size > size_limit_bytes;
        let fits = batches.last().is_some_and(|last| {
            last.over_limit == over_limit
                && (over_limit || batch_bytes.saturating_add(size) <= size_limit_bytes)
        });
        if fits {
            if let Some(last) = batches.last_mut() {
                last.uids.push(uid);
            }
            batch_bytes = batch_bytes.saturating_add(size);
        } else {
            batches.push(DownloadBatch {
                uids: vec![uid],
                over_limit,
            });
            batch_bytes = size;
        }
    }
    batches
}

/// A refused login is reported as such: the log then says what to fix (the password or the
/// user name), and the supervisor's rule (see `runtime`) can tell it from an outage.
fn login_failure(error: async_imap::error::Error) -> ImapError {
    match error {
        // RFC 5530: UNAVAILABLE says the refusal is temporary.
        async_imap::error::Error::No(text) if !text.contains("UNAVAILABLE") => {
            ImapError::LoginRefused(format!("the server refused the login: {text}"))
        }
        other => ImapError::Protocol(format!("login failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::{DownloadBatch, MailboxPosition, download_batches};

    #[test]
    fn mail_over_the_limit_is_fetched_apart_and_batches_stay_small() {
        let batch = |uids: &[u32], over_limit: bool| DownloadBatch {
            uids: uids.to_vec(),
            over_limit,
        };
        // (uid, size) pairs in UID order, and the batches they are fetched in.
        type Case<'a> = (&'a [(u32, u32)], Vec<DownloadBatch>);
        let cases: [Case; 4] = [
            (&[], vec![]),
            (
                &[(1, 100), (2, 200), (3, 300)],
                vec![batch(&[1, 2, 3], false)],
            ),
            (
                &[(1, 600), (2, 600), (3, 5000), (4, 7000), (5, 10)],
                vec![
                    batch(&[1], false),
                    batch(&[2], false),
                    batch(&[3, 4], true),
                    batch(&[5], false),
                ],
            ),
            (
                &[(7, 1000), (9, 1001)],
                vec![batch(&[7], false), batch(&[9], true)],
            ),
        ];
        for (messages, expected) in cases {
            assert_eq!(download_batches(messages, 1000), expected, "{messages:?}");
        }
    }

    #[test]
    fn positions_round_trip_and_reject_garbage() {
        let position = MailboxPosition {
            uid_validity: 1_700_000_000,
            last_uid: 42,
        };
        assert_eq!(MailboxPosition::parse(&position.render()), Some(position));
        for garbage in ["", "1", "a:b", "1:-2", ":"] {
            assert_eq!(MailboxPosition::parse(garbage), None, "{garbage:?}");
        }
    }
}
