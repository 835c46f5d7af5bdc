//! Carries out the outbox: each pending effect is claimed, delivered by its channel's adapter
//! and marked sent; a failed delivery goes back to pending and is retried with exponential
//! backoff, so an outage of the homeserver or the mail server delays replies but never drops
//! them. There is one dispatcher per channel, so a fan-out of a thousand mails never holds up a
//! reply in the room.
//!
//! A row is claimed (`sending`, with this process's name and the time) before the attempt, by a
//! conditional update that only one claimant can win, and only the claimant writes the outcome:
//! two processes on one database, or an item reaching the dispatcher both in memory and through
//! a scan, never send it twice. Only the rows of the groups this process owns are claimed (see
//! `crate::ownership`). When the database fails just after the channel accepted an item, the
//! outcome is kept in memory and written again until it succeeds; the item stays claimed
//! meanwhile, so nothing sends it again. What remains is documented in ARCHITECTURE.md ("One
//! sender per group"): a process killed between the channel's acceptance and that write leaves
//! the row `sending`, and whoever takes the group over holds it as `uncertain` instead of
//! resending a mail that may have left.

use crate::delivery::ChannelDelivery;
use crate::ownership::Ownership;
use crate::storage::{OutboxItem, StorageError, Store};
use crate::supervision::FailureStreak;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};

/// After this many attempts, an error the homeserver calls permanent (such as the bot having
/// been removed from the room) stops being retried; the item is kept as failed for operators.
const PERMANENT_ERROR_ATTEMPTS: i64 = 5;
const LONGEST_RETRY_DELAY_MS: i64 = 300_000;

pub struct Dispatcher<A: ChannelDelivery> {
    pub store: Store,
    pub adapter: A,
    /// Effects just stored by the handler, handed over in memory so a reply does not wait for
    /// a database scan. The scan of due items remains the durable path.
    pub fresh_items: mpsc::UnboundedReceiver<OutboxItem>,
    /// Wakes the dispatcher to scan the outbox.
    pub outbox_ready: Arc<Notify>,
    /// The groups whose rows this process delivers, and the name it claims them under.
    pub ownership: Ownership,
    /// The outbox's failures since it was last read: an error that waiting cannot mend ends
    /// the dispatcher (and so the bot, see `supervision`) instead of a silent retry forever.
    pub failures: FailureStreak,
}

/// The outcome of one attempt, as it is written to the outbox.
#[derive(Debug, Clone)]
enum Outcome {
    /// The channel accepted the item and gave it this ID.
    Sent {
        remote_id: String,
        at_ms: i64,
        accepted: Instant,
    },
    /// Try again at `next_attempt_ms`.
    Retry { next_attempt_ms: i64, error: String },
    /// Given up, kept for operators.
    Failed { error: String },
}

/// What became of one item handed to [`Dispatcher::deliver_and_record`].
enum Attempted {
    /// Attempted, and the outcome written.
    Recorded,
    /// Attempted; the database refused the outcome, which is kept to be written again.
    Unrecorded(i64, Outcome),
    /// Not attempted: another claimant has it, or the claim could not be written.
    NotClaimed,
}

impl Outcome {
    /// Whether the item leaves the queue with this outcome.
    fn leaves_queue(&self) -> bool {
        !matches!(self, Outcome::Retry { .. })
    }
}

/// The delay before attempt `attempts + 1`: 1 s, 2 s, 4 s, ... up to five minutes.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let exponent = attempts.clamp(0, 20) as u32;
    (1_000_i64 << exponent).min(LONGEST_RETRY_DELAY_MS)
}

/// How long the handler and the dispatchers wait before looking at the database again for work
/// that another process wrote (mail piped in by `ingest-mail`, an operator's `outbox retry`, a
/// group taken over): two seconds while there is activity, ten once `quiet_rounds` looks in a
/// row found nothing, so that an idle bot costs next to nothing (issue 11). Fresh messages and
/// replies never wait for this; they are handed over in memory.
pub fn scan_interval(quiet_rounds: u32) -> Duration {
    if quiet_rounds >= 3 {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(2)
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl<A: ChannelDelivery> Dispatcher<A> {
    /// Delivers until shutdown; ends with an error when the outbox cannot be read or written
    /// and waiting cannot mend it.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), String> {
        // Outcomes the database could not take when they happened, written again before
        // anything else. An item in this list stays claimed, so no scan sends it again.
        let mut unrecorded: Vec<(i64, Outcome)> = Vec::new();
        // Rounds in a row that delivered nothing: see `scan_interval`.
        let mut quiet_rounds = 0_u32;
        loop {
            if *shutdown.borrow() {
                self.record_again(&mut unrecorded).await;
                if !unrecorded.is_empty() {
                    tracing::error!(
                        items = unrecorded.len(),
                        "stopping with outcomes the database did not take; they stay claimed and are settled at the next start"
                    );
                }
                return Ok(());
            }
            self.record_again(&mut unrecorded).await;
            let scanned = self.deliver_due(&mut unrecorded).await;
            quiet_rounds = match &scanned {
                Ok(0) => quiet_rounds.saturating_add(1),
                _ => 0,
            };
            let poll = scan_interval(quiet_rounds);
            if scanned.is_ok() {
                self.failures.succeeded();
            }
            let wait = match scanned {
                Ok(_) => {
                    let owned = self.ownership.owned();
                    match self
                        .store
                        .next_outbox_due(self.adapter.channel().name(), owned.scope())
                        .await
                    {
                        // Another process (`ingest-mail`, an operator's command) may add items
                        // without waking this one, and groups may be taken over: look again at
                        // least every two seconds.
                        Ok(Some(due)) => Duration::from_millis(
                            (due - now_ms()).clamp(0, poll.as_millis() as i64) as u64,
                        ),
                        Ok(None) => poll,
                        Err(_) => Duration::from_secs(1),
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot read the outbox; retrying");
                    self.failures.storage_failed(&error)?;
                    Duration::from_secs(1)
                }
            };
            let wait = if unrecorded.is_empty() {
                wait
            } else {
                wait.min(Duration::from_secs(1))
            };
            // Deliver fresh items as they come; scan the outbox when woken or when a retry is due.
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                tokio::select! {
                    fresh = self.fresh_items.recv() => match fresh {
                        Some(item) => {
                            quiet_rounds = 0;
                            // Whatever else is waiting goes out with it, as many at once as the
                            // channel allows.
                            let mut batch = vec![item];
                            while batch.len() < 100 {
                                match self.fresh_items.try_recv() {
                                    Ok(more) => batch.push(more),
                                    Err(_) => break,
                                }
                            }
                            self.deliver_and_record(&batch, &mut unrecorded).await;
                        }
                        None => return Ok(()),
                    },
                    _ = self.outbox_ready.notified() => break,
                    _ = tokio::time::sleep_until(deadline) => break,
                    _ = shutdown.changed() => break,
                }
            }
        }
    }

    /// Delivers every due item; returns how many were attempted.
    async fn deliver_due(
        &self,
        unrecorded: &mut Vec<(i64, Outcome)>,
    ) -> Result<usize, StorageError> {
        let mut attempted = 0;
        loop {
            let owned = self.ownership.owned();
            let due = self
                .store
                .due_outbox_of(self.adapter.channel().name(), owned.scope(), now_ms(), 100)
                .await?;
            if due.is_empty() {
                return Ok(attempted);
            }
            // Every item attempted leaves `pending` or is due again at least a second later;
            // if none could be claimed (the database refuses, or another process got them),
            // the next round waits.
            let this_round = self.deliver_and_record(&due, unrecorded).await;
            if this_round == 0 {
                return Ok(attempted);
            }
            attempted += this_round;
        }
    }

    /// Delivers items, up to the channel's concurrency at once, each claimed just before its
    /// attempt and its outcome written as soon as it is known (those the database did not take
    /// are kept in `unrecorded`). Returns how many items were attempted.
    async fn deliver_and_record(
        &self,
        items: &[OutboxItem],
        unrecorded: &mut Vec<(i64, Outcome)>,
    ) -> usize {
        let attempts: Vec<_> = items
            .iter()
            .map(|item| self.claim_attempt_and_record(item))
            .collect();
        let results: Vec<Attempted> = futures_util::stream::iter(attempts)
            .buffer_unordered(self.adapter.concurrency())
            .collect()
            .await;
        let mut attempted = 0;
        for result in results {
            match result {
                Attempted::Recorded => attempted += 1,
                Attempted::Unrecorded(id, outcome) => {
                    attempted += 1;
                    unrecorded.push((id, outcome));
                }
                Attempted::NotClaimed => {}
            }
        }
        attempted
    }

    /// Claims the item (the attempt's state is in the database before anything is sent), makes
    /// one attempt and writes its outcome right after the channel answered: the shorter that
    /// gap, the narrower the window in which a crash leaves an accepted mail unrecorded. Only
    /// the attempts under way are ever claimed, so a process that dies leaves at most the
    /// channel's concurrency in `sending`.
    async fn claim_attempt_and_record(&self, item: &OutboxItem) -> Attempted {
        // An item the handler stored already claimed for this process came only here, in
        // memory, so nothing else can be sending it (`storage::ClaimAtInsert`).
        let claimed = item.claimed
            || match self
                .store
                .claim_outbox_item(item.id, self.ownership.claimant(), now_ms())
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(outbox_id = item.id, %error, "cannot claim an outbox item; the next scan retries");
                    false
                }
            };
        // Claimed by a scan or another process first: theirs to send.
        if !claimed {
            return Attempted::NotClaimed;
        }
        let (id, outcome) = self.attempt(item).await;
        match self.record(id, &outcome).await {
            Ok(()) => Attempted::Recorded,
            Err(error) => {
                tracing::error!(
                    outbox_id = id,
                    %error,
                    leaves_queue = outcome.leaves_queue(),
                    "cannot record the outcome of a delivery; it is kept in memory and recorded again, and the item is not sent again"
                );
                Attempted::Unrecorded(id, outcome)
            }
        }
    }

    /// Writes again the outcomes the database did not take; keeps those it still refuses.
    async fn record_again(&self, unrecorded: &mut Vec<(i64, Outcome)>) {
        if unrecorded.is_empty() {
            return;
        }
        let mut still = Vec::new();
        for (id, outcome) in unrecorded.drain(..) {
            match self.record(id, &outcome).await {
                Ok(()) => tracing::info!(outbox_id = id, "a delivery's outcome was recorded late"),
                Err(_) => still.push((id, outcome)),
            }
        }
        *unrecorded = still;
    }

    /// One attempt of a claimed item.
    async fn attempt(&self, item: &OutboxItem) -> (i64, Outcome) {
        let result = if item.channel == self.adapter.channel().name() {
            self.adapter.deliver(item).await
        } else {
            Err(crate::delivery::DeliveryError::permanent(format!(
                "no adapter for channel {}",
                item.channel
            )))
        };
        let metrics = crate::observe::metrics::metrics();
        // The mail dispatcher's sends are what tells whether SMTP works; a Matrix send's
        // failure is seen by the sync loop too, which is the Matrix channel's health.
        let smtp = item.channel == crate::mail::MAIL_CHANNEL;
        match &result {
            Ok(_) => {
                tracing::info!(
                    outbox_id = item.id,
                    inbox_id = item.inbox_id,
                    channel = %item.channel,
                    "sent"
                );
                metrics.sent(&item.channel);
                if smtp {
                    crate::observe::health::succeeded("smtp");
                }
            }
            Err(error) => {
                let gives_up = !error.transient && item.attempts + 1 >= PERMANENT_ERROR_ATTEMPTS;
                metrics.send_failed(&item.channel, !gives_up);
                if smtp && error.transient {
                    crate::observe::health::failed("smtp", &error.message);
                }
            }
        }
        let outcome = match result {
            Ok(remote_id) => Outcome::Sent {
                remote_id,
                at_ms: now_ms(),
                accepted: Instant::now(),
            },
            Err(error) if !error.transient && item.attempts + 1 >= PERMANENT_ERROR_ATTEMPTS => {
                tracing::error!(outbox_id = item.id, %error, "giving up on an undeliverable reply");
                Outcome::Failed {
                    error: error.message,
                }
            }
            Err(error) => {
                let delay = retry_delay_ms(item.attempts);
                tracing::warn!(outbox_id = item.id, %error, retry_in_ms = delay, "delivery failed; will retry");
                Outcome::Retry {
                    next_attempt_ms: now_ms() + delay,
                    error: error.message,
                }
            }
        };
        (item.id, outcome)
    }

    /// Writes one outcome from this process's claim. A claim that is no longer this process's
    /// (an operator changed the row) is logged and left as it is.
    async fn record(&self, id: i64, outcome: &Outcome) -> Result<(), StorageError> {
        let claimant = self.ownership.claimant();
        let recorded = match outcome {
            Outcome::Sent {
                remote_id,
                at_ms,
                accepted,
            } => {
                let marked = self
                    .store
                    .mark_outbox_sent(id, claimant, remote_id, *at_ms)
                    .await?;
                // The window in which a crash leaves an accepted item unrecorded: from the
                // channel's acceptance to this commit.
                tracing::debug!(
                    outbox_id = id,
                    channel = self.adapter.channel().name(),
                    remote_id = %remote_id,
                    recorded_after_us = accepted.elapsed().as_micros() as u64,
                    "delivered"
                );
                marked
            }
            Outcome::Retry {
                next_attempt_ms,
                error,
            } => {
                self.store
                    .mark_outbox_retry(id, claimant, *next_attempt_ms, error)
                    .await?
            }
            Outcome::Failed { error } => self.store.mark_outbox_failed(id, claimant, error).await?,
        };
        if !recorded {
            tracing::warn!(
                outbox_id = id,
                "the outbox row is no longer claimed by this process; its outcome is not written"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{retry_delay_ms, scan_interval};
    use std::time::Duration;

    #[test]
    fn a_quiet_bot_looks_at_the_database_less_often() {
        let cases = [(0, 2), (1, 2), (2, 2), (3, 10), (4, 10), (u32::MAX, 10)];
        for (quiet_rounds, seconds) in cases {
            assert_eq!(
                scan_interval(quiet_rounds),
                Duration::from_secs(seconds),
                "{quiet_rounds}"
            );
        }
    }

    #[test]
    fn retry_delays_double_up_to_five_minutes() {
        let delays: Vec<i64> = (0..12).map(retry_delay_ms).collect();
        assert_eq!(&delays[..4], &[1_000, 2_000, 4_000, 8_000]);
        assert_eq!(delays[11], 300_000);
        assert_eq!(retry_delay_ms(-3), 1_000);
        assert_eq!(retry_delay_ms(i64::MAX), 300_000);
    }
}
