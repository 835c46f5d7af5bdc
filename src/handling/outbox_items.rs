//! A decision's effects as rows to store: outbox items for each channel and timer operations.
//! Which people an announcement reaches is the core's rule (`core::audience`); this module only
//! puts each delivery into the shape its channel's adapter reads.

use super::mail_commands::mail_reply;
use crate::core::audience::{Delivery, deliveries};
use crate::core::directory::Group;
use crate::core::effects::Effect;
use crate::core::engine::{Channel, Decision, Engine};
use crate::core::reply::ReplyDocument;
use crate::mail::thread::MailPayload;
use crate::matrix::PollPayload;
pub use crate::matrix::ReplyPayload;
use crate::storage::{InboxItem, NewOutboxItem, TimerOperation, outbox_key};
use std::collections::HashMap;

/// Where the adapters can reach each group: its room as resolved at start, and whether mail is
/// configured at all (without it, mail deliveries are left out rather than queued forever).
#[derive(Debug, Clone, Default)]
pub struct Routes {
    /// Group ID to the Matrix room ID the bot joined.
    pub rooms: HashMap<String, String>,
    pub mail_enabled: bool,
}

/// A stable key for the n-th effect of a message: the same message handled again after a crash
/// yields the same key, which the outbox and the homeserver both deduplicate on.
pub fn idempotency_key(channel: &str, external_id: &str, effect_index: usize) -> String {
    outbox_key(&[
        channel.as_bytes(),
        external_id.as_bytes(),
        &effect_index.to_le_bytes(),
    ])
}

/// The key of one delivery of an announcement: distinct per effect and per recipient.
pub fn delivery_key(
    channel: &str,
    external_id: &str,
    effect_index: usize,
    delivery_index: usize,
) -> String {
    outbox_key(&[
        channel.as_bytes(),
        external_id.as_bytes(),
        &effect_index.to_le_bytes(),
        b"delivery",
        &delivery_index.to_le_bytes(),
    ])
}

/// A Matrix event may be at most 65,536 bytes of JSON; its text, HTML and mentions are kept well
/// under that, leaving room for JSON escaping and the event's other fields.
pub const MATRIX_TEXT_BUDGET: usize = 56_000;

/// The plain text and HTML of a room message, made to fit one Matrix event: a message too long
/// for both is sent as plain text only, and one too long even for that is cut with a note (the
/// homeserver would refuse it whole, and the outbox would retry it for nothing).
/// `mentions` are the user IDs the message mentions, which take their share of the event.
pub fn fit_for_matrix(plain: String, html: String, mentions: &[String]) -> (String, String) {
    let reserved: usize = mentions.iter().map(|user_id| user_id.len() + 3).sum();
    let budget = MATRIX_TEXT_BUDGET.saturating_sub(reserved).max(4_000);
    if plain.len() + html.len() <= budget {
        return (plain, html);
    }
    if plain.len() <= budget {
        return (plain, String::new());
    }
    const NOTE: &str =
        "\n… (cut here: too long for one Matrix message; ask by mail for the whole text)";
    let mut end = budget - NOTE.len();
    while !plain.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = plain[..end].to_string();
    cut.push_str(NOTE);
    (cut, String::new())
}

/// The rows a decision's effects become.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredEffects {
    pub outbox: Vec<NewOutboxItem>,
    pub timers: Vec<TimerOperation>,
    /// The decision asked for the group's record to be published (once it is committed).
    pub publish: bool,
}

pub fn outbox_items_for(
    item: &InboxItem,
    decision: &Decision,
    engine: &Engine,
    group: &Group,
    routes: &Routes,
) -> StoredEffects {
    let mut stored = StoredEffects::default();
    for (index, effect) in decision.effects.iter().enumerate() {
        match effect {
            Effect::Reply { document } => {
                if let Some(reply) = reply_item(item, decision, engine, document, index) {
                    stored.outbox.push(reply);
                }
            }
            Effect::Announce {
                audience,
                subject,
                about,
                document,
            } => {
                let resolution = deliveries(group, audience);
                // Rendered once for all its deliveries: a reminder to 250 organizations has 750.
                let rendered = Rendered {
                    plain: document.plain_text(),
                    html: document.html(),
                };
                for (delivery_index, delivery) in resolution.deliveries.iter().enumerate() {
                    let key = delivery_key(&item.channel, &item.external_id, index, delivery_index);
                    if let Some(outbox) = announcement_item(
                        group, routes, delivery, key, subject, about, &rendered, None,
                    ) {
                        stored.outbox.push(outbox);
                    }
                }
            }
            Effect::Invite {
                subject,
                about,
                document,
                calendar,
            } => {
                let rendered = Rendered {
                    plain: document.plain_text(),
                    html: document.html(),
                };
                let resolution = deliveries(group, &crate::core::effects::Audience::List);
                for (delivery_index, delivery) in resolution.deliveries.iter().enumerate() {
                    let key = delivery_key(&item.channel, &item.external_id, index, delivery_index);
                    if let Some(outbox) = announcement_item(
                        group,
                        routes,
                        delivery,
                        key,
                        subject,
                        about,
                        &rendered,
                        Some(calendar),
                    ) {
                        stored.outbox.push(outbox);
                    }
                }
            }
            Effect::StartPoll { poll, fallback } => {
                let payload = PollPayload::Start {
                    question: poll.question.clone(),
                    options: poll.options.clone(),
                    hidden: poll.hidden,
                };
                let key = idempotency_key(&item.channel, &item.external_id, index);
                let about = format!("R-{}", poll.number);
                stored.outbox.extend(poll_item(
                    group,
                    routes,
                    key,
                    about,
                    fallback.plain_text(),
                    payload,
                ));
            }
            Effect::EndPoll { number, text } => {
                let key = idempotency_key(&item.channel, &item.external_id, index);
                stored.outbox.extend(poll_item(
                    group,
                    routes,
                    key,
                    format!("R-{number}"),
                    text.clone(),
                    PollPayload::End,
                ));
            }
            Effect::Schedule { key, at, timer } => stored.timers.push(TimerOperation::Schedule {
                group_id: group.id.clone(),
                key: key.clone(),
                due_ms: at.as_millisecond(),
                timer: serde_json::to_string(timer).unwrap_or_default(),
            }),
            Effect::Cancel { key } => stored.timers.push(TimerOperation::Cancel {
                group_id: group.id.clone(),
                key: key.clone(),
            }),
            Effect::Publish => stored.publish = true,
        }
    }
    stored
}

fn reply_item(
    item: &InboxItem,
    decision: &Decision,
    engine: &Engine,
    document: &ReplyDocument,
    index: usize,
) -> Option<NewOutboxItem> {
    let idempotency_key = idempotency_key(&item.channel, &item.external_id, index);
    let (destination, payload) = match Channel::from_name(&item.channel)? {
        Channel::Mail => mail_reply(item, decision, engine, document),
        Channel::Matrix => {
            let (plain, html) = fit_for_matrix(document.plain_text(), document.html(), &[]);
            let payload = ReplyPayload {
                in_reply_to: item.external_id.clone(),
                mention: item.sender.clone(),
                mentions: Vec::new(),
                plain,
                html,
                poll: None,
            };
            (
                super::matrix_conversation(&item.conversation)
                    .room
                    .to_string(),
                serde_json::to_string(&payload).unwrap_or_default(),
            )
        }
        // The clock has nobody to answer.
        Channel::Clock => return None,
    };
    Some(NewOutboxItem {
        idempotency_key,
        channel: item.channel.clone(),
        destination,
        payload,
        about: survey_answered(item),
    })
}

/// The survey a mail answered (`S-2`), so that an answer to the bot's reply (a questionnaire
/// sent again after a problem) is read as an answer to that survey too.
fn survey_answered(item: &InboxItem) -> Option<String> {
    let conversation: crate::mail::thread::MailConversation =
        serde_json::from_str(&item.conversation).ok()?;
    conversation
        .answers_about
        .filter(|about| crate::core::surveys::model::parse_survey_label(about).is_some())
}

/// A native poll's start or end in the group's room, about its record (`R-6`), which is how
/// answers and the end find the start again.
fn poll_item(
    group: &Group,
    routes: &Routes,
    idempotency_key: String,
    about: String,
    fallback: String,
    poll: PollPayload,
) -> Option<NewOutboxItem> {
    let room = routes.rooms.get(&group.id)?;
    let (plain, _) = fit_for_matrix(fallback, String::new(), &[]);
    let payload = ReplyPayload {
        in_reply_to: String::new(),
        mention: String::new(),
        mentions: Vec::new(),
        plain,
        html: String::new(),
        poll: Some(poll),
    };
    Some(NewOutboxItem {
        idempotency_key,
        channel: Channel::Matrix.name().to_string(),
        destination: room.clone(),
        payload: serde_json::to_string(&payload).unwrap_or_default(),
        about: Some(about),
    })
}

/// An announcement's two renderings.
struct Rendered {
    plain: String,
    html: String,
}

#[allow(clippy::too_many_arguments)] // One delivery's parts, named rather than bundled.
fn announcement_item(
    group: &Group,
    routes: &Routes,
    delivery: &Delivery,
    idempotency_key: String,
    subject: &str,
    about: &Option<String>,
    rendered: &Rendered,
    calendar: Option<&crate::core::effects::CalendarPart>,
) -> Option<NewOutboxItem> {
    match delivery {
        Delivery::RoomMessage { mentions } => {
            let room = routes.rooms.get(&group.id)?;
            let (plain, html) =
                fit_for_matrix(rendered.plain.clone(), rendered.html.clone(), mentions);
            let payload = ReplyPayload {
                in_reply_to: String::new(),
                mention: String::new(),
                mentions: mentions.clone(),
                plain,
                html,
                poll: None,
            };
            Some(NewOutboxItem {
                idempotency_key,
                channel: Channel::Matrix.name().to_string(),
                destination: room.clone(),
                payload: serde_json::to_string(&payload).unwrap_or_default(),
                about: about.clone(),
            })
        }
        Delivery::Mail { to } => {
            if !routes.mail_enabled {
                return None;
            }
            let payload = MailPayload {
                to: to.clone(),
                to_name: None,
                subject: subject.to_string(),
                in_reply_to: None,
                references: Vec::new(),
                auto_submitted: "auto-generated".to_string(),
                plain: rendered.plain.clone(),
                html: rendered.html.clone(),
                calendar: calendar.cloned(),
            };
            Some(NewOutboxItem {
                idempotency_key,
                channel: Channel::Mail.name().to_string(),
                destination: to.clone(),
                payload: serde_json::to_string(&payload).unwrap_or_default(),
                about: about.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_messages_are_made_to_fit_one_matrix_event() {
        let short = ("a".repeat(10), "<p>a</p>".to_string());
        assert_eq!(fit_for_matrix(short.0.clone(), short.1.clone(), &[]), short);
        let (plain, html) = fit_for_matrix("b".repeat(30_000), "c".repeat(30_000), &[]);
        assert_eq!(
            (plain.len(), html.len()),
            (30_000, 0),
            "HTML is dropped first"
        );
        // Multi-byte characters are never cut in half.
        let (plain, html) = fit_for_matrix("é".repeat(40_000), "x".to_string(), &[]);
        assert!(plain.len() <= MATRIX_TEXT_BUDGET && html.is_empty());
        assert!(plain.ends_with("ask by mail for the whole text)"));
        // Mentions take their share: 500 of them leave less room for the text.
        let mentions: Vec<String> = (0..500)
            .map(|n| format!("@member-{n:03}:example.org"))
            .collect();
        let (plain, html) = fit_for_matrix("d".repeat(20_000), "e".repeat(30_000), &mentions);
        assert_eq!((plain.len(), html.len()), (20_000, 0));
    }

    #[test]
    fn idempotency_keys_are_stable_and_distinct() {
        let first = idempotency_key("matrix", "$event:localhost", 0);
        assert_eq!(first, idempotency_key("matrix", "$event:localhost", 0));
        assert_ne!(first, idempotency_key("matrix", "$event:localhost", 1));
        assert_ne!(first, idempotency_key("mail", "$event:localhost", 0));
        assert!(first.len() < 64, "transaction IDs stay short");
        let delivery = delivery_key("matrix", "$event:localhost", 0, 0);
        assert_ne!(delivery, first);
        assert_ne!(delivery, delivery_key("matrix", "$event:localhost", 0, 1));
        assert_ne!(delivery, delivery_key("matrix", "$event:localhost", 1, 0));
    }
}
