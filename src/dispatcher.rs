//! Carries out the outbox: each pending effect is delivered by its channel's adapter and marked
//! sent; a failed delivery stays pending and is retried with exponential backoff, so an outage of
//! the homeserver or the mail server delays replies but never drops them. There is one
//! dispatcher per channel, so a fan-out of a thousand mails never holds up a reply in the room.

use crate::delivery::ChannelDelivery;
use crate::storage::{OutboxItem, Store};
use crate::supervision::FailureStreak;
use futures_util::StreamExt;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
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
    /// The outbox's failures since it was last read: an error that waiting cannot mend ends
    /// the dispatcher (and so the bot, see `supervision`) instead of a silent retry forever.
    pub failures: FailureStreak,
}

/// The IDs of recently delivered items, so an item that reaches the dispatcher both in memory
/// and through a scan is delivered once.
#[derive(Default)]
struct RecentlyDelivered {
    order: VecDeque<i64>,
    members: HashSet<i64>,
}

impl RecentlyDelivered {
    const CAPACITY: usize = 10_000;

    fn contains(&self, id: i64) -> bool {
        self.members.contains(&id)
    }

    fn insert(&mut self, id: i64) {
        if self.members.insert(id) {
            self.order.push_back(id);
            if self.order.len() > Self::CAPACITY
                && let Some(oldest) = self.order.pop_front()
            {
                self.members.remove(&oldest);
            }
        }
    }
}

/// The delay before attempt `attempts + 1`: 1 s, 2 s, 4 s, ... up to five minutes.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let exponent = attempts.clamp(0, 20) as u32;
    (1_000_i64 << exponent).min(LONGEST_RETRY_DELAY_MS)
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl<A: ChannelDelivery> Dispatcher<A> {
    /// Delivers until shutdown; ends with an error when the outbox cannot be read or written
    /// and waiting cannot mend it.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), String> {
        let mut delivered = RecentlyDelivered::default();
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let scanned = self.deliver_due(&mut delivered).await;
            if scanned.is_ok() {
                self.failures.succeeded();
            }
            let wait = match scanned {
                Ok(()) => match self
                    .store
                    .next_outbox_due(self.adapter.channel().name())
                    .await
                {
                    // Another process (`ingest-mail`, an operator's command) may add items
                    // without waking this one: look again at least every two seconds.
                    Ok(Some(due)) => Duration::from_millis((due - now_ms()).clamp(0, 2_000) as u64),
                    Ok(None) => Duration::from_secs(2),
                    Err(_) => Duration::from_secs(1),
                },
                Err(error) => {
                    tracing::warn!(%error, "cannot read the outbox; retrying");
                    self.failures.storage_failed(&error)?;
                    Duration::from_secs(1)
                }
            };
            // Deliver fresh items as they come; scan the outbox when woken or when a retry is due.
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                tokio::select! {
                    fresh = self.fresh_items.recv() => match fresh {
                        Some(item) => {
                            // Whatever else is waiting goes out with it, as many at once as the
                            // channel allows.
                            let mut batch = vec![item];
                            while batch.len() < 100 {
                                match self.fresh_items.try_recv() {
                                    Ok(more) => batch.push(more),
                                    Err(_) => break,
                                }
                            }
                            batch.retain(|item| !delivered.contains(item.id));
                            for (id, outcome) in self.deliver_all(&batch).await {
                                match outcome {
                                    Ok(true) => delivered.insert(id),
                                    Ok(false) => {}
                                    Err(error) => {
                                        tracing::warn!(%error, "cannot record a delivery");
                                        self.failures.storage_failed(&error)?;
                                    }
                                }
                            }
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

    async fn deliver_due(
        &self,
        delivered: &mut RecentlyDelivered,
    ) -> Result<(), crate::storage::StorageError> {
        loop {
            let due = self
                .store
                .due_outbox(self.adapter.channel().name(), now_ms(), 100)
                .await?;
            if due.is_empty() {
                return Ok(());
            }
            let mut progressed = false;
            for (id, outcome) in self.deliver_all(&due).await {
                let left_queue = outcome?;
                if left_queue {
                    delivered.insert(id);
                }
                progressed |= left_queue;
            }
            if !progressed {
                return Ok(());
            }
        }
    }

    /// Delivers items, up to the channel's concurrency at once; returns for each item whether
    /// it left the queue.
    async fn deliver_all(
        &self,
        items: &[OutboxItem],
    ) -> Vec<(i64, Result<bool, crate::storage::StorageError>)> {
        let deliveries: Vec<_> = items
            .iter()
            .map(|item| self.deliver_with_id(item))
            .collect();
        futures_util::stream::iter(deliveries)
            .buffer_unordered(self.adapter.concurrency())
            .collect()
            .await
    }

    async fn deliver_with_id(
        &self,
        item: &OutboxItem,
    ) -> (i64, Result<bool, crate::storage::StorageError>) {
        (item.id, self.deliver(item).await)
    }

    /// Returns whether the item left the queue.
    async fn deliver(&self, item: &OutboxItem) -> Result<bool, crate::storage::StorageError> {
        let result = if item.channel == self.adapter.channel().name() {
            self.adapter.deliver(item).await
        } else {
            Err(crate::delivery::DeliveryError::permanent(format!(
                "no adapter for channel {}",
                item.channel
            )))
        };
        match result {
            Ok(remote_id) => {
                self.store
                    .mark_outbox_sent(item.id, &remote_id, now_ms())
                    .await?;
                tracing::debug!(outbox_id = item.id, event_id = %remote_id, "delivered");
                Ok(true)
            }
            Err(error) if !error.transient && item.attempts + 1 >= PERMANENT_ERROR_ATTEMPTS => {
                tracing::error!(outbox_id = item.id, %error, "giving up on an undeliverable reply");
                self.store
                    .mark_outbox_failed(item.id, &error.message)
                    .await?;
                Ok(true)
            }
            Err(error) => {
                let delay = retry_delay_ms(item.attempts);
                tracing::warn!(outbox_id = item.id, %error, retry_in_ms = delay, "delivery failed; will retry");
                self.store
                    .mark_outbox_retry(item.id, now_ms() + delay, &error.message)
                    .await?;
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retry_delay_ms;

    #[test]
    fn retry_delays_double_up_to_five_minutes() {
        let delays: Vec<i64> = (0..12).map(retry_delay_ms).collect();
        assert_eq!(&delays[..4], &[1_000, 2_000, 4_000, 8_000]);
        assert_eq!(delays[11], 300_000);
        assert_eq!(retry_delay_ms(-3), 1_000);
        assert_eq!(retry_delay_ms(i64::MAX), 300_000);
    }
}
