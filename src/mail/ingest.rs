//! From raw mail to the inbox: examine it, keep broken mail in the quarantine, find the group,
//! inherit the context of the bot's mail it answers, and record it in the inbox in one
//! transaction (with the IMAP position, when it came over IMAP). Shared by the IMAP reader,
//! `rapporteur ingest-mail` and `rapporteur quarantine retry`.

use super::examine::{ExaminedMail, MailRules, Outcome, examine_mail};
use super::thread::MailConversation;
use crate::config::{MailSettings, Settings};
use crate::handling::MAIL_CHANNEL;
use crate::storage::{InboxItem, NewInboxItem, NewQuarantinedMail, StorageError, Store};

/// How received mail is judged and routed to a group.
#[derive(Debug, Clone)]
pub struct MailIngest {
    pub rules: MailRules,
    pub groups: Vec<MailGroup>,
}

/// A group that takes mail, with the addresses that identify its list.
#[derive(Debug, Clone)]
pub struct MailGroup {
    pub group_id: String,
    pub list_address: Option<String>,
    pub list_id: Option<String>,
    /// Addresses of the group's people, to route mail sent straight to the bot.
    pub member_addresses: Vec<String>,
}

/// What became of one received mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Recorded in the inbox; `None` when it had been recorded before (a redelivery).
    Recorded(Option<InboxItem>),
    Ignored(&'static str),
    Quarantined {
        id: i64,
        reason: &'static str,
    },
}

impl MailIngest {
    pub fn from_settings(settings: &Settings, mail: &MailSettings) -> MailIngest {
        let groups: Vec<MailGroup> = settings
            .groups
            .iter()
            .map(|group| MailGroup {
                group_id: group.id.clone(),
                list_address: group.mailing_list.clone(),
                list_id: group.list_id.clone(),
                member_addresses: group
                    .group
                    .people
                    .iter()
                    .flat_map(|person| person.emails.iter().map(|email| email.to_lowercase()))
                    .collect(),
            })
            .collect();
        MailIngest {
            rules: MailRules {
                command_prefix: settings.command_prefix.clone(),
                message_id_domain: mail.message_id_domain.clone(),
                size_limit_bytes: mail.size_limit_bytes,
                list_addresses: groups
                    .iter()
                    .filter_map(|group| group.list_address.clone())
                    .collect(),
                trusted_authserv_id: mail.trusted_authserv_id.clone(),
            },
            groups,
        }
    }

    /// The group a mail belongs to: by List-Id, by the list address it was sent to, the only
    /// group that takes mail, or the only group that knows its author.
    pub fn group_for(&self, examined: &ExaminedMail) -> Option<&MailGroup> {
        let taking_mail: Vec<&MailGroup> = self
            .groups
            .iter()
            .filter(|group| group.list_address.is_some())
            .collect();
        if let Some(list_id) = &examined.list_id
            && let Some(group) = taking_mail
                .iter()
                .find(|group| group.list_id.as_ref() == Some(list_id))
        {
            return Some(group);
        }
        if let Some(group) = taking_mail.iter().find(|group| {
            group
                .list_address
                .as_ref()
                .is_some_and(|list| examined.recipients.contains(list))
        }) {
            return Some(group);
        }
        if let [only] = taking_mail.as_slice() {
            return Some(only);
        }
        let author = examined.author.as_deref().unwrap_or_default();
        let knowing: Vec<&&MailGroup> = taking_mail
            .iter()
            .filter(|group| {
                group
                    .member_addresses
                    .iter()
                    .any(|address| address == author)
            })
            .collect();
        match knowing.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }
}

/// Examines, routes and records one mail. `position` is the adapter state (such as the IMAP
/// UID) committed with it, so a reader that crashes re-reads exactly what was not recorded.
pub async fn ingest_mail(
    store: &Store,
    ingest: &MailIngest,
    raw: &[u8],
    source: &str,
    position: Option<(&str, &str)>,
    now_ms: i64,
) -> Result<IngestOutcome, StorageError> {
    let examined = examine_mail(raw, &ingest.rules);
    let quarantine = |reason: &'static str| NewQuarantinedMail {
        external_id: &examined.external_id,
        source,
        reason,
        sender: examined.author.as_deref(),
        subject: Some(examined.subject.as_str()),
        raw,
    };
    match &examined.outcome {
        Outcome::Quarantined(reason) => {
            let id = store
                .quarantine_mail(quarantine(reason.name()), position, now_ms)
                .await?;
            tracing::warn!(quarantine_id = id, reason = reason.name(), external_id = %examined.external_id, source, "mail quarantined");
            return Ok(IngestOutcome::Quarantined {
                id,
                reason: reason.name(),
            });
        }
        Outcome::Ignored(reason) => {
            if let Some((key, value)) = position {
                store.set_adapter_state(key, value, now_ms).await?;
            }
            tracing::info!(reason = reason.name(), external_id = %examined.external_id, source, "mail ignored");
            return Ok(IngestOutcome::Ignored(reason.name()));
        }
        Outcome::Accepted => {}
    }
    let Some(group) = ingest.group_for(&examined) else {
        let id = store
            .quarantine_mail(quarantine("no-group"), position, now_ms)
            .await?;
        tracing::warn!(quarantine_id = id, external_id = %examined.external_id, "mail for no configured group quarantined");
        return Ok(IngestOutcome::Quarantined {
            id,
            reason: "no-group",
        });
    };
    // A bare word answers the bot only if the bot really sent the mail it refers to: anyone can
    // write a Message-ID on the bot's domain into In-Reply-To.
    let context = if examined.answers_to.is_empty() {
        None
    } else {
        store.sent_mail_answered(&examined.answers_to).await?
    };
    let mut body = examined.commands.join("\n");
    // A bare word is kept as it is; the core reads it in the context of the mail it answers
    // (`ack` in reply to a request's mail acknowledges that request).
    let mut bare_word = false;
    if body.is_empty()
        && let (Some(word), Some(_)) = (&examined.answer, &context)
    {
        body = word.clone();
        bare_word = true;
    }
    let conversation = MailConversation {
        author: examined.author.clone().unwrap_or_default(),
        author_name: examined.author_name.clone(),
        subject: examined.subject.clone(),
        message_id: examined.message_id.clone(),
        references: examined.thread_references.clone(),
        list_address: group.list_address.clone(),
        answers: context.as_ref().map(|answered| answered.message_id.clone()),
        answers_about: context.and_then(|answered| answered.about),
        bare_word,
    };
    let item = NewInboxItem {
        channel: MAIL_CHANNEL.to_string(),
        external_id: examined.external_id.clone(),
        group_id: group.group_id.clone(),
        conversation: serde_json::to_string(&conversation).unwrap_or_default(),
        sender: conversation.author.clone(),
        body,
        origin_ms: examined.date_ms.unwrap_or(now_ms),
    };
    let mut recorded = store.record_inbound(&[item], position, now_ms).await?;
    let new_item = recorded.pop();
    tracing::info!(
        external_id = %examined.external_id,
        group = %group.group_id,
        source,
        commands = examined.commands.len(),
        redelivery = new_item.is_none(),
        "mail recorded"
    );
    Ok(IngestOutcome::Recorded(new_item))
}
