//! Commands that arrive by mail: a mail may carry several (one per line of its authored text),
//! each decided against the state the lines before it left, and the answers go out as one reply,
//! threaded, to the author or, when the command's file says so, to the list.

use crate::core::catalog::MailReplyTo;
use crate::core::directory::{Group, SenderAddress};
use crate::core::effects::Effect;
use crate::core::engine::{Channel, Decision, Disposition, Engine, Message};
use crate::core::reply::{LineBuilder, ReplyDocument};
use crate::core::state::GroupState;
use crate::mail::thread::{MailConversation, MailPayload, reply_subject};
use crate::storage::InboxItem;
use jiff::Timestamp;

/// A reply by mail: threaded under the message it answers, to its author, or to the list when
/// the command's file says its result is of public interest.
pub(super) fn mail_reply(
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

/// The commands of a mail without reply context (a new mail, not an answer to the bot).
pub fn decide_mail(
    engine: &Engine,
    state: &GroupState,
    group: &Group,
    sender: &SenderAddress,
    body: &str,
    now: Timestamp,
) -> Decision {
    decide_mail_in_context(engine, state, group, sender, body, None, false, now)
}

/// The commands of a mail, each line decided against the state the lines before it left; the
/// answers are put together into one reply, each under the command it answers. A bare word
/// (`ack`) is read in the context of the bot's mail it answers (`about`).
#[allow(clippy::too_many_arguments)]
pub fn decide_mail_in_context(
    engine: &Engine,
    state: &GroupState,
    group: &Group,
    sender: &SenderAddress,
    body: &str,
    about: Option<&str>,
    bare_word: bool,
    now: Timestamp,
) -> Decision {
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let mut working: Option<GroupState> = None;
    let mut decisions: Vec<(&str, Decision)> = Vec::with_capacity(lines.len());
    for line in &lines {
        let message = Message {
            sender,
            body: line,
            channel: Channel::Mail,
            about,
            bare_word,
        };
        let decision =
            engine.decide_message(working.as_ref().unwrap_or(state), group, &message, now);
        if !decision.changes.is_empty() && lines.len() > 1 {
            let next = working.get_or_insert_with(|| state.clone());
            for change in &decision.changes {
                next.apply(change);
            }
        }
        decisions.push((line, decision));
    }
    if decisions.len() <= 1 {
        return decisions
            .pop()
            .map(|(_, decision)| decision)
            .unwrap_or_else(Decision::not_a_command);
    }
    let mut combined = ReplyDocument::new();
    let mut changes = Vec::new();
    let mut other_effects = Vec::new();
    for (line, decision) in &decisions {
        if let Some(reply) = decision.reply() {
            combined.push_line(LineBuilder::new().strong("> ").code(*line));
            combined.blocks.extend(reply.blocks.iter().cloned());
        }
        changes.extend(decision.changes.iter().cloned());
        other_effects.extend(
            decision
                .effects
                .iter()
                .filter(|effect| !matches!(effect, Effect::Reply { .. }))
                .cloned(),
        );
    }
    let commands: Vec<&str> = decisions
        .iter()
        .filter_map(|(_, decision)| decision.command.as_deref())
        .collect();
    let mut effects = Vec::new();
    if !combined.blocks.is_empty() {
        effects.push(Effect::Reply { document: combined });
    }
    effects.extend(other_effects);
    Decision {
        command: (!commands.is_empty()).then(|| commands.join(",")),
        disposition: decisions
            .iter()
            .map(|(_, decision)| decision.disposition)
            .find(|disposition| *disposition != Disposition::Executed)
            .unwrap_or(Disposition::Executed),
        changes,
        effects,
    }
}
