//! Timeouts for the mail connections. A server that accepts the connection and then says
//! nothing (or stops answering halfway) must not freeze a channel: every wait for the server is
//! bounded, the connection is then dropped, and the channel tries again with its usual backoff.
//!
//! The IMAP reader wraps its socket in a [`StallGuard`]: any read or write that makes no progress
//! for longer than the current limit fails with [`std::io::ErrorKind::TimedOut`]. This bounds the
//! greeting, the TLS handshake and every command, whatever the IMAP library does underneath,
//! while a large FETCH that keeps arriving is never cut. The limit is raised while the reader
//! waits in IDLE, where silence is normal, and lowered again for the command that ends IDLE.
//! The SMTP pool bounds each step of lettre's dialogue with [`within`] instead.
//!
//! Invariant: no await on a mail server is unbounded.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// A step that got no answer in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no answer to {step} within {limit:?}")]
pub struct TimedOut {
    pub step: String,
    pub limit: Duration,
}

/// Runs `work`, giving up after `limit`.
pub async fn within<T>(
    limit: Duration,
    step: &str,
    work: impl Future<Output = T>,
) -> Result<T, TimedOut> {
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| TimedOut {
            step: step.to_string(),
            limit,
        })
}

/// The limit a [`StallGuard`] applies now, shared with the code that drives the connection.
#[derive(Debug, Clone)]
pub struct StallLimit(Arc<AtomicU64>);

impl StallLimit {
    pub fn new(limit: Duration) -> StallLimit {
        StallLimit(Arc::new(AtomicU64::new(limit.as_millis() as u64)))
    }

    pub fn set(&self, limit: Duration) {
        self.0.store(limit.as_millis() as u64, Ordering::Relaxed);
    }

    fn millis(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One direction's pending wait: when it started and under which limit.
#[derive(Default)]
struct Stall {
    timer: Option<(u64, Pin<Box<Sleep>>)>,
}

impl Stall {
    /// Called when the inner stream is not ready: true once the wait has lasted the limit.
    fn expired(&mut self, limit_ms: u64, context: &mut Context<'_>) -> bool {
        let renew = !matches!(&self.timer, Some((armed, _)) if *armed == limit_ms);
        if renew {
            let sleep = Box::pin(tokio::time::sleep(Duration::from_millis(limit_ms)));
            self.timer = Some((limit_ms, sleep));
        }
        match &mut self.timer {
            Some((_, sleep)) => sleep.as_mut().poll(context).is_ready(),
            None => false,
        }
    }

    fn progressed(&mut self) {
        self.timer = None;
    }
}

/// A stream whose reads and writes fail with `TimedOut` after making no progress for the
/// [`StallLimit`].
pub struct StallGuard<S> {
    inner: S,
    limit: StallLimit,
    read: Stall,
    write: Stall,
}

impl<S> StallGuard<S> {
    pub fn new(inner: S, limit: StallLimit) -> StallGuard<S> {
        StallGuard {
            inner,
            limit,
            read: Stall::default(),
            write: Stall::default(),
        }
    }
}

impl<S> fmt::Debug for StallGuard<S> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("StallGuard")
            .field("limit_ms", &self.limit.millis())
            .finish()
    }
}

fn stalled(limit_ms: u64, direction: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "no progress for {:?} while the bot {direction}",
            Duration::from_millis(limit_ms)
        ),
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(context, buffer) {
            Poll::Pending => {
                let limit = this.limit.millis();
                if this.read.expired(limit, context) {
                    this.read.progressed();
                    Poll::Ready(Err(stalled(limit, "waited for an answer")))
                } else {
                    Poll::Pending
                }
            }
            ready => {
                this.read.progressed();
                ready
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(context, data) {
            Poll::Pending => {
                let limit = this.limit.millis();
                if this.write.expired(limit, context) {
                    this.write.progressed();
                    Poll::Ready(Err(stalled(limit, "was writing")))
                } else {
                    Poll::Pending
                }
            }
            ready => {
                this.write.progressed();
                // Something was sent: the wait for its answer starts now, whatever an abandoned
                // earlier read (an IDLE wait that ended on its own timer) left armed.
                this.read.progressed();
                ready
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A read from a peer that never writes fails once the limit has passed; one answered
    /// within the limit succeeds, also when the limit was raised (as for IDLE) past the wait.
    #[tokio::test]
    async fn a_silent_peer_times_out_and_an_answering_one_does_not() {
        // (case, first limit in ms, the peer answers after ms, the limit raised to ms, answered)
        type Case = (&'static str, u64, Option<u64>, Option<u64>, bool);
        let cases: [Case; 3] = [
            ("silent peer", 200, None, None, false),
            ("answer well within the limit", 5_000, Some(50), None, true),
            (
                "a silence longer than the first limit, raised in time",
                200,
                Some(600),
                Some(5_000),
                true,
            ),
        ];
        for (name, limit_ms, answer_after_ms, raised_ms, answered) in cases {
            let (client, mut server) = tokio::io::duplex(64);
            let limit = StallLimit::new(Duration::from_millis(limit_ms));
            if let Some(raised) = raised_ms {
                limit.set(Duration::from_millis(raised));
            }
            let mut guarded = StallGuard::new(client, limit);
            let peer = tokio::spawn(async move {
                if let Some(after) = answer_after_ms {
                    tokio::time::sleep(Duration::from_millis(after)).await;
                    server.write_all(b"* OK\r\n").await.unwrap();
                }
                // Keep the connection open and silent.
                std::future::pending::<()>().await;
                drop(server);
            });
            let mut line = [0_u8; 6];
            let result = guarded.read_exact(&mut line).await;
            assert_eq!(result.is_ok(), answered, "{name}: {result:?}");
            if let Err(error) = result {
                assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{name}");
            }
            peer.abort();
        }
    }

    #[tokio::test]
    async fn within_names_the_step_that_timed_out() {
        let never = std::future::pending::<()>();
        let error = within(Duration::from_millis(100), "the SMTP greeting", never)
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "no answer to the SMTP greeting within 100ms"
        );
        assert_eq!(
            within(Duration::from_secs(3), "x", async { 7 }).await,
            Ok(7)
        );
    }
}
