//! Answers to commands that arrive by mail: threaded, to the author or, when the command's file
//! says so, to the list. How a mail's several commands are decided is the core's rule
//! (`core::several`).

use crate::core::catalog::MailReplyTo;
use crate::core::directory::{Group, SenderAddress};
use crate::core::engine::{Channel, Decision, Disposition, Engine, Message};
use crate::core::reply::ReplyDocument;
use crate::core::several::decide_lines;
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
        calendar: None,
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
    let message = Message::new(sender, body, Channel::Mail);
    decide_lines(engine, state, group, &message, now)
}
