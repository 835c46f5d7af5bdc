//! Turns recorded messages into decisions and decisions into outbox items: the bridge between
//! the pure core and storage. One inbox item is handled in one transaction with the effects it
//! produces, so a crash either leaves it pending (and it is handled again on restart, producing
//! the same idempotency keys) or handled with all its effects stored.

use crate::core::directory::{Group, SenderAddress};
use crate::core::effects::Effect;
use crate::core::engine::{Decision, Engine};
use crate::storage::{Completion, InboxItem, NewOutboxItem, OutboxItem, StorageError, Store};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// What the Matrix adapter needs to send a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPayload {
    /// The event (or Message-ID) being answered.
    pub in_reply_to: String,
    /// The author of that message, who is the only person the reply mentions.
    pub mention: String,
    pub plain: String,
    pub html: String,
}

/// A stable key for the n-th effect of a message: the same message handled again after a crash
/// yields the same key, which the outbox and the homeserver both deduplicate on.
pub fn idempotency_key(channel: &str, external_id: &str, effect_index: usize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(channel.as_bytes());
    hasher.update([0]);
    hasher.update(external_id.as_bytes());
    hasher.update([0]);
    hasher.update(effect_index.to_le_bytes());
    format!("rapporteur-{}", &hex::encode(hasher.finalize())[..32])
}

fn sender_address(item: &InboxItem) -> SenderAddress {
    match item.channel.as_str() {
        "mail" => SenderAddress::Email(item.sender.clone()),
        _ => SenderAddress::Matrix(item.sender.clone()),
    }
}

/// The outbox items for a decision's effects.
pub fn outbox_items_for(item: &InboxItem, effects: &[Effect]) -> Vec<NewOutboxItem> {
    effects
        .iter()
        .enumerate()
        .map(|(index, effect)| match effect {
            Effect::Reply { document } => {
                let payload = ReplyPayload {
                    in_reply_to: item.external_id.clone(),
                    mention: item.sender.clone(),
                    plain: document.plain_text(),
                    html: document.html(),
                };
                NewOutboxItem {
                    idempotency_key: idempotency_key(&item.channel, &item.external_id, index),
                    channel: item.channel.clone(),
                    destination: item.conversation.clone(),
                    payload: serde_json::to_string(&payload).unwrap_or_default(),
                }
            }
        })
        .collect()
}

/// Handles several recorded messages in one transaction. Returns the effects stored, ready to
/// deliver, in the order of the messages.
pub async fn handle_items(
    store: &Store,
    engine: &Engine,
    groups: &HashMap<String, Group>,
    items: &[InboxItem],
    now: Timestamp,
) -> Result<Vec<OutboxItem>, StorageError> {
    let decisions: Vec<Option<Decision>> = items
        .iter()
        .map(|item| {
            groups
                .get(&item.group_id)
                .map(|group| engine.decide(group, &sender_address(item), &item.body, now))
        })
        .collect();
    let completions: Vec<Completion> = items
        .iter()
        .zip(&decisions)
        .map(|(item, decision)| match decision {
            Some(decision) => Completion {
                inbox: item,
                disposition: decision.disposition.name(),
                command: decision.command.as_deref(),
                effects: outbox_items_for(item, &decision.effects),
            },
            // The group was removed from the configuration since the message arrived; the
            // message is kept as handled-without-reply so it does not block the queue.
            None => Completion {
                inbox: item,
                disposition: "unknown_group",
                command: None,
                effects: Vec::new(),
            },
        })
        .collect();
    let results = store
        .complete_inbox_items(&completions, now.as_millisecond())
        .await?;
    let mut effects = Vec::new();
    for (completion, stored) in completions.iter().zip(results) {
        if let Some(stored) = stored {
            tracing::info!(
                inbox_id = completion.inbox.id,
                group = %completion.inbox.group_id,
                command = completion.command.unwrap_or("-"),
                disposition = completion.disposition,
                "handled"
            );
            effects.extend(stored);
        }
    }
    Ok(effects)
}

/// How many pending messages are handled per transaction.
pub const HANDLING_BATCH: i64 = 100;

/// Handles every pending message, oldest first, a batch per transaction. Returns how many
/// effects were stored.
pub async fn handle_pending(
    store: &Store,
    engine: &Engine,
    groups: &HashMap<String, Group>,
) -> Result<usize, StorageError> {
    let mut produced = 0;
    loop {
        let batch = store.pending_inbox(HANDLING_BATCH).await?;
        if batch.is_empty() {
            return Ok(produced);
        }
        produced += handle_items(store, engine, groups, &batch, Timestamp::now())
            .await?
            .len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_stable_and_distinct() {
        let first = idempotency_key("matrix", "$event:localhost", 0);
        assert_eq!(first, idempotency_key("matrix", "$event:localhost", 0));
        assert_ne!(first, idempotency_key("matrix", "$event:localhost", 1));
        assert_ne!(first, idempotency_key("mail", "$event:localhost", 0));
        assert!(first.len() < 64, "transaction IDs stay short");
    }
}
