//! Turns recorded messages into decisions and decisions into outbox items: the bridge between
//! the pure core and storage. One inbox item is handled in one transaction with the effects it
//! produces, so a crash either leaves it pending (and it is handled again on restart, producing
//! the same idempotency keys) or handled with all its effects stored.

use crate::core::catalog::MailReplyTo;
use crate::core::directory::{Group, SenderAddress};
use crate::core::effects::Effect;
use crate::core::engine::{Decision, Disposition, Engine};
use crate::core::reply::{LineBuilder, ReplyDocument};
use crate::mail::thread::{MailConversation, MailPayload, reply_subject};
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
        MAIL_CHANNEL => SenderAddress::Email(item.sender.clone()),
        _ => SenderAddress::Matrix(item.sender.clone()),
    }
}

/// The outbox items for a decision's effects.
pub fn outbox_items_for(
    item: &InboxItem,
    decision: &Decision,
    engine: &Engine,
) -> Vec<NewOutboxItem> {
    decision
        .effects
        .iter()
        .enumerate()
        .map(|(index, effect)| match effect {
            Effect::Reply { document } => {
                let idempotency_key = idempotency_key(&item.channel, &item.external_id, index);
                let (destination, payload) = if item.channel == MAIL_CHANNEL {
                    mail_reply(item, decision, engine, document)
                } else {
                    let payload = ReplyPayload {
                        in_reply_to: item.external_id.clone(),
                        mention: item.sender.clone(),
                        plain: document.plain_text(),
                        html: document.html(),
                    };
                    (
                        item.conversation.clone(),
                        serde_json::to_string(&payload).unwrap_or_default(),
                    )
                };
                NewOutboxItem {
                    idempotency_key,
                    channel: item.channel.clone(),
                    destination,
                    payload,
                }
            }
        })
        .collect()
}

pub const MAIL_CHANNEL: &str = "mail";

/// A reply by mail: threaded under the message it answers, to its author, or to the list when
/// the command's file says its result is of public interest.
fn mail_reply(
    item: &InboxItem,
    decision: &Decision,
    engine: &Engine,
    document: &ReplyDocument,
) -> (String, String) {
    let conversation: Option<MailConversation> = serde_json::from_str(&item.conversation).ok();
    let to_list = decision
        .command
        .as_deref()
        .and_then(|command| engine.catalog().find(command))
        .is_some_and(|spec| spec.mail_reply_to == MailReplyTo::List)
        && decision.disposition == Disposition::Executed;
    let list_address = conversation.as_ref().and_then(|c| c.list_address.clone());
    let (to, to_name) = match (&list_address, to_list) {
        (Some(list), true) => (list.clone(), None),
        _ => (
            item.sender.clone(),
            conversation.as_ref().and_then(|c| c.author_name.clone()),
        ),
    };
    let payload = MailPayload {
        to: to.clone(),
        to_name,
        subject: reply_subject(conversation.as_ref().map_or("", |c| c.subject.as_str())),
        in_reply_to: conversation.as_ref().and_then(|c| c.message_id.clone()),
        references: conversation.map(|c| c.references).unwrap_or_default(),
        auto_submitted: "auto-replied".to_string(),
        plain: document.plain_text(),
        html: document.html(),
    };
    (to, serde_json::to_string(&payload).unwrap_or_default())
}

/// A mail may carry several commands, one per line of the inbox item's body: each is decided on
/// its own and the answers are put together into one reply, each under the command it answers.
pub fn decide_mail(
    engine: &Engine,
    group: &Group,
    sender: &SenderAddress,
    body: &str,
    now: Timestamp,
) -> Decision {
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let mut decisions: Vec<(&str, Decision)> = lines
        .iter()
        .map(|line| (*line, engine.decide(group, sender, line, now)))
        .collect();
    if decisions.len() <= 1 {
        return decisions
            .pop()
            .map(|(_, decision)| decision)
            .unwrap_or(Decision {
                command: None,
                disposition: Disposition::NotACommand,
                effects: Vec::new(),
            });
    }
    let mut combined = ReplyDocument::new();
    for (line, decision) in &decisions {
        if let Some(reply) = decision.reply() {
            combined.push_line(LineBuilder::new().strong("> ").code(*line));
            combined.blocks.extend(reply.blocks.iter().cloned());
        }
    }
    let commands: Vec<&str> = decisions
        .iter()
        .filter_map(|(_, decision)| decision.command.as_deref())
        .collect();
    Decision {
        command: (!commands.is_empty()).then(|| commands.join(",")),
        disposition: decisions
            .iter()
            .map(|(_, decision)| decision.disposition)
            .find(|disposition| *disposition != Disposition::Executed)
            .unwrap_or(Disposition::Executed),
        effects: if combined.blocks.is_empty() {
            Vec::new()
        } else {
            vec![Effect::Reply { document: combined }]
        },
    }
}

/// One answer per day at most to a mail sender the group does not know: enough to tell a
/// newcomer how to join, too little to be used to send mail to strangers.
fn reply_limit_key(item: &InboxItem, group: &Group, now: Timestamp) -> Option<String> {
    if item.channel != MAIL_CHANNEL || group.identify(&sender_address(item)).is_some() {
        return None;
    }
    let day = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    Some(format!("mail-stranger:{}:{day}", item.sender))
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
            groups.get(&item.group_id).map(|group| {
                if item.channel == MAIL_CHANNEL {
                    decide_mail(engine, group, &sender_address(item), &item.body, now)
                } else {
                    engine.decide(group, &sender_address(item), &item.body, now)
                }
            })
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
                effects: outbox_items_for(item, decision, engine),
                reply_limit_key: groups
                    .get(&item.group_id)
                    .and_then(|group| reply_limit_key(item, group, now)),
            },
            // The group was removed from the configuration since the message arrived; the
            // message is kept as handled-without-reply so it does not block the queue.
            None => Completion {
                inbox: item,
                disposition: "unknown_group",
                command: None,
                effects: Vec::new(),
                reply_limit_key: None,
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

    fn mail_item(body: &str) -> InboxItem {
        let conversation = MailConversation {
            author: "ana.lima@example.org".into(),
            author_name: Some("Ana Lima".into()),
            subject: "[CIP-CCG] !ping".into(),
            message_id: Some("<q@example.org>".into()),
            references: vec!["<q@example.org>".into()],
            list_address: Some("cip-ccg@lists.example.org".into()),
            answers: None,
        };
        InboxItem {
            id: 1,
            channel: MAIL_CHANNEL.into(),
            external_id: "<q@example.org>".into(),
            group_id: "cip-ccg".into(),
            conversation: serde_json::to_string(&conversation).unwrap(),
            sender: "ana.lima@example.org".into(),
            body: body.into(),
            origin_ms: 0,
            received_ms: 0,
        }
    }

    #[test]
    fn mail_answers_go_to_the_list_only_when_the_command_file_says_so() {
        use crate::core::catalog::{COMMAND_FILES, Catalog};
        let files: Vec<(&str, String)> = COMMAND_FILES
            .iter()
            .map(|(name, text)| {
                let text = if *name == "ping.toml" {
                    text.replace("mail_reply_to = \"author\"", "mail_reply_to = \"list\"")
                } else {
                    text.to_string()
                };
                (*name, text)
            })
            .collect();
        let catalog =
            Catalog::from_files(files.iter().map(|(name, text)| (*name, text.as_str()))).unwrap();
        let engine = Engine::new(catalog, "!");
        let group = crate::core::directory::test_support::small_group();
        let now: Timestamp = "2026-11-25T16:00:00Z".parse().unwrap();
        let sender = SenderAddress::Email("ana.lima@example.org".into());
        let cases = [
            ("!ping", "cip-ccg@lists.example.org"),
            // A mistake is the author's business, not the list's.
            ("!ping now", "ana.lima@example.org"),
            ("!whoami", "ana.lima@example.org"),
        ];
        for (body, destination) in cases {
            let item = mail_item(body);
            let decision = decide_mail(&engine, &group, &sender, body, now);
            let outbox = outbox_items_for(&item, &decision, &engine);
            assert_eq!(outbox.len(), 1, "{body}");
            assert_eq!(outbox[0].destination, destination, "{body}");
            let payload: MailPayload = serde_json::from_str(&outbox[0].payload).unwrap();
            assert_eq!(payload.subject, "Re: [CIP-CCG] !ping");
            assert_eq!(payload.in_reply_to.as_deref(), Some("<q@example.org>"));
        }
    }

    #[test]
    fn several_commands_in_one_mail_get_one_answer() {
        let engine = Engine::new(crate::core::catalog::Catalog::builtin().unwrap(), "!");
        let group = crate::core::directory::test_support::small_group();
        let now: Timestamp = "2026-11-25T16:00:00Z".parse().unwrap();
        let sender = SenderAddress::Email("ana.lima@example.org".into());
        let decision = decide_mail(&engine, &group, &sender, "!ping\n!nosuch", now);
        assert_eq!(decision.effects.len(), 1);
        let text = decision.reply().unwrap().plain_text();
        assert!(text.contains("!ping") && text.contains("pong"), "{text}");
        assert!(text.contains("!nosuch"), "{text}");
        assert_eq!(decision.disposition, Disposition::UnknownCommand);
        assert_eq!(decision.command.as_deref(), Some("ping"));
    }

    #[test]
    fn idempotency_keys_are_stable_and_distinct() {
        let first = idempotency_key("matrix", "$event:localhost", 0);
        assert_eq!(first, idempotency_key("matrix", "$event:localhost", 0));
        assert_ne!(first, idempotency_key("matrix", "$event:localhost", 1));
        assert_ne!(first, idempotency_key("mail", "$event:localhost", 0));
        assert!(first.len() < 64, "transaction IDs stay short");
    }
}
