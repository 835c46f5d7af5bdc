//! The rate limits applied while a batch is decided: the rule is the core's
//! (`core::rate_limits`), the counts come from storage and, for the items of the batch not yet
//! committed, from a tally kept here, so a batch of a hundred mails from one sender is limited
//! as surely as a hundred batches of one.

use crate::core::engine::{Channel, Decision};
use crate::core::rate_limits::{
    RateLimits, SenderHistory, SenderVerdict, limits_senders_on, speaks,
};
use crate::mail::MAIL_CHANNEL;
use crate::storage::{InboxItem, NewOutboxItem, StorageError, Store};
use jiff::Timestamp;
use std::collections::HashMap;

/// The limits the handler applies, or none (tests and benchmarks that drive the handler
/// directly; the runtime always sets the configured ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandlerLimits {
    limits: Option<RateLimits>,
}

impl HandlerLimits {
    pub fn none() -> HandlerLimits {
        HandlerLimits { limits: None }
    }

    pub fn configured(limits: RateLimits) -> HandlerLimits {
        HandlerLimits {
            limits: Some(limits),
        }
    }

    /// The decision that replaces `decision` when its sender is over the limit, or `None` to
    /// keep it. Only decisions that would send something count.
    pub(super) async fn limit_sender(
        &self,
        store: &Store,
        counts: &mut RateCounts,
        item: &InboxItem,
        decision: &Decision,
        now: Timestamp,
    ) -> Result<Option<Decision>, StorageError> {
        let Some(limits) = &self.limits else {
            return Ok(None);
        };
        let limited_channel = Channel::from_name(&item.channel).is_some_and(limits_senders_on);
        if !limited_channel || !speaks(decision) {
            return Ok(None);
        }
        let key = (item.channel.clone(), item.sender.clone());
        let history = match counts.senders.get(&key) {
            Some(history) => *history,
            None => {
                let since = limits.window_start(now).as_millisecond();
                store
                    .sender_history(&item.channel, &item.sender, since)
                    .await?
            }
        };
        let verdict = limits.judge_sender(history);
        let history = counts.senders.entry(key).or_insert(history);
        match verdict {
            SenderVerdict::Answer => history.answered = history.answered.saturating_add(1),
            SenderVerdict::TellOfLimit => {
                history.told_of_limit = true;
                tracing::warn!(
                    sender = %item.sender,
                    inbox_id = item.id,
                    answered = history.answered,
                    "the sender reached the limit of answered messages: told once, then not answered"
                );
            }
            SenderVerdict::Quiet => {
                tracing::info!(sender = %item.sender, inbox_id = item.id, "sender over the limit: not answered");
            }
        }
        Ok(limits.limited_decision(verdict, now))
    }

    /// Removes the mails to addresses that reached their limit; the rest of the items stay in
    /// order.
    pub(super) async fn limit_addresses(
        &self,
        store: &Store,
        counts: &mut RateCounts,
        outbox: &mut Vec<NewOutboxItem>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let Some(limits) = &self.limits else {
            return Ok(());
        };
        let mut kept = Vec::with_capacity(outbox.len());
        for item in outbox.drain(..) {
            if item.channel != MAIL_CHANNEL {
                kept.push(item);
                continue;
            }
            let queued = match counts.addresses.get(&item.destination) {
                Some(queued) => *queued,
                None => {
                    let since = limits.window_start(now).as_millisecond();
                    store.mails_queued_for(&item.destination, since).await?
                }
            };
            let admitted = limits.admits_mail(queued);
            counts
                .addresses
                .insert(item.destination.clone(), queued + u32::from(admitted));
            if admitted {
                kept.push(item);
            } else {
                tracing::warn!(
                    address = %item.destination,
                    queued,
                    "mail not sent: the address reached the limit of mails in the window"
                );
            }
        }
        *outbox = kept;
        Ok(())
    }
}

/// The counts of one batch: read from storage the first time a sender or address comes up, then
/// moved on as the batch is decided.
#[derive(Debug, Default)]
pub(super) struct RateCounts {
    senders: HashMap<(String, String), SenderHistory>,
    addresses: HashMap<String, u32>,
}
