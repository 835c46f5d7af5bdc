//! From raw mail to the inbox: examine it, keep broken mail in the quarantine, find the group,
//! inherit the context of the bot's mail it answers, and record it in the inbox in one
//! transaction (with the IMAP position, when it came over IMAP). Shared by the IMAP reader,
//! `rapporteur ingest-mail` and `rapporteur quarantine retry`.

use super::MAIL_CHANNEL;
use super::examine::{ExaminedMail, MailRules, Outcome, examine_mail};
use super::group_choice::{self, GroupQuestion, Unclear};
use super::thread::MailConversation;
use crate::config::{MailSettings, Settings};
use crate::core::email_address::same_email;
use crate::storage::{InboxItem, NewInboxItem, NewQuarantinedMail, StorageError, Store};
use sha2::{Digest, Sha256};

/// How received mail is judged and routed to a group.
#[derive(Debug, Clone)]
pub struct MailIngest {
    pub rules: MailRules,
    pub groups: Vec<MailGroup>,
    /// The bot's own address (`mail.address`, lower case): its `+group` sub-addresses name a
    /// group, and the answer to a mail whose group is unclear shows them.
    pub bot_address: String,
}

/// A group that takes mail, with the addresses that identify its list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailGroup {
    pub group_id: String,
    /// The group's short name (`CIP-CCG`): a `[CIP-CCG]` subject tag or a `+cip-ccg`
    /// sub-address names the group by it as well as by its id.
    pub short_name: String,
    pub list_address: Option<String>,
    pub list_id: Option<String>,
    /// Addresses of the group's people, to route mail sent straight to the bot.
    pub member_addresses: Vec<String>,
}

impl MailGroup {
    fn knows(&self, author: &str) -> bool {
        self.member_addresses
            .iter()
            .any(|address| same_email(address, author))
    }
}

/// Where a mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    Group(&'a MailGroup),
    /// The author must name the group; a member of some group is told how.
    Unclear(GroupQuestion<'a>),
    /// No group is for it: a stranger's mail that names no group.
    NoGroup,
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
    /// `identity` is what proves mail to be the bot's own (`Store::mail_identity_secrets`).
    pub fn from_settings(
        settings: &Settings,
        mail: &MailSettings,
        identity: super::identity::MailIdentity,
    ) -> MailIngest {
        let groups: Vec<MailGroup> = settings
            .groups
            .iter()
            .map(|group| MailGroup {
                group_id: group.id.clone(),
                short_name: group.group.short_name.clone(),
                list_address: group.mailing_list.clone(),
                list_id: group.list_id.clone(),
                member_addresses: group
                    .group
                    .people
                    .iter()
                    .flat_map(|person| person.emails.iter().cloned())
                    .collect(),
            })
            .collect();
        MailIngest {
            rules: MailRules {
                command_prefix: settings.command_prefix.clone(),
                message_id_domain: mail.message_id_domain.clone(),
                identity,
                size_limit_bytes: mail.size_limit_bytes,
                list_addresses: groups
                    .iter()
                    .filter_map(|group| group.list_address.clone())
                    .collect(),
                trusted_authserv_id: mail.trusted_authserv_id.clone(),
                list_trust: mail.list_trust.clone(),
            },
            groups,
            bot_address: mail.address.trim().to_lowercase(),
        }
    }

    /// The group a mail belongs to, among the groups that take mail, by the first rule that
    /// decides:
    ///
    /// 1. its List-Id, then a list address among its recipients: the mail came through a list,
    ///    or was copied to one, and every copy of it must go to the same group;
    /// 2. a `+group` sub-address of the bot's address among its recipients, which the author
    ///    chose on purpose, so one that names no group is asked about rather than passed over;
    /// 3. a `[GROUP]` subject tag that names a group; other bracketed words are not choices,
    ///    since gateways and ticket systems add their own (`[EXTERNAL]`);
    /// 4. the only group that takes mail, then the only group that knows the author.
    ///
    /// An explicit choice (2, 3) comes before rule 4 so that a member of one group who names
    /// another is not recorded, unasked, in the group they did not name. What remains unclear
    /// (several groups named, a name that is no group, a member of several groups) is a
    /// question for the author; a stranger's mail that names no group goes nowhere.
    pub fn group_for(&self, examined: &ExaminedMail) -> Route<'_> {
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
            return Route::Group(group);
        }
        if let Some(group) = taking_mail.iter().find(|group| {
            group.list_address.as_ref().is_some_and(|list| {
                examined
                    .recipients
                    .iter()
                    .any(|recipient| same_email(recipient, list))
            })
        }) {
            return Route::Group(group);
        }
        let author = examined.author.as_deref().unwrap_or_default();
        let member_of: Vec<&MailGroup> = taking_mail
            .iter()
            .copied()
            .filter(|group| group.knows(author))
            .collect();
        let named = |tag: &str| {
            taking_mail
                .iter()
                .copied()
                .find(|group| group_choice::names_group(tag, group))
        };
        let address_tags = group_choice::address_tags(&examined.recipients, &self.bot_address);
        if !address_tags.is_empty() {
            let mut chosen: Vec<&MailGroup> = Vec::new();
            for tag in address_tags {
                match named(&tag) {
                    Some(group) => push_once(&mut chosen, group),
                    None => {
                        return ask(Unclear::UnknownChoice(tag), taking_mail.clone(), &member_of);
                    }
                }
            }
            return match chosen.as_slice() {
                [only] => Route::Group(only),
                _ => ask(Unclear::SeveralChoices, chosen, &member_of),
            };
        }
        let mut chosen: Vec<&MailGroup> = Vec::new();
        for group in group_choice::subject_tags(&examined.subject)
            .iter()
            .filter_map(|tag| named(tag))
        {
            push_once(&mut chosen, group);
        }
        match chosen.as_slice() {
            [only] => return Route::Group(only),
            [_, _, ..] => return ask(Unclear::SeveralChoices, chosen, &member_of),
            [] => {}
        }
        if let [only] = taking_mail.as_slice() {
            return Route::Group(only);
        }
        match member_of.as_slice() {
            [] => Route::NoGroup,
            [only] => Route::Group(only),
            several => ask(Unclear::SeveralGroups, several.to_vec(), several),
        }
    }
}

/// A command line cut one character past the core's cap, or as it is when within it.
fn bounded_command_line(line: &str) -> &str {
    match line
        .char_indices()
        .nth(crate::core::several::COMMAND_LINE_CHARACTERS + 1)
    {
        Some((cut, _)) => &line[..cut],
        None => line,
    }
}

/// The nearest references (the last ones written), each short enough for a header line.
fn bounded_references(references: &[String]) -> Vec<String> {
    let fitting: Vec<&String> = references
        .iter()
        .filter(|id| id.len() <= THREAD_ID_BYTES)
        .collect();
    fitting[fitting.len().saturating_sub(THREAD_REFERENCES)..]
        .iter()
        .map(|id| id.to_string())
        .collect()
}

fn ask<'a>(why: Unclear, options: Vec<&'a MailGroup>, member_of: &[&'a MailGroup]) -> Route<'a> {
    Route::Unclear(GroupQuestion {
        why,
        options,
        member_of: member_of.to_vec(),
    })
}

fn push_once<'a>(groups: &mut Vec<&'a MailGroup>, group: &'a MailGroup) {
    if !groups.iter().any(|known| known.group_id == group.group_id) {
        groups.push(group);
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
    ingest_mail_part(
        store,
        ingest,
        raw,
        raw.len() as u64,
        source,
        position,
        now_ms,
    )
    .await
}

/// As [`ingest_mail`], for a mail of which only the beginning was read: `raw` is its first
/// bytes (more than the size limit, or the whole mail) and `whole_size_bytes` its size. A mail
/// over the size limit is quarantined with its header section and its size only, so neither
/// the reader's memory nor the database ever holds its body.
///
/// A mail that can never be stored (a storage error that is not transient, see
/// [`StorageError::is_transient`]) is quarantined as `cannot-store` instead of failing, so the
/// channel goes on with the next one; only errors that may pass are returned.
pub async fn ingest_mail_part(
    store: &Store,
    ingest: &MailIngest,
    raw: &[u8],
    whole_size_bytes: u64,
    source: &str,
    position: Option<(&str, &str)>,
    now_ms: i64,
) -> Result<IngestOutcome, StorageError> {
    let whole_size_bytes = whole_size_bytes.max(raw.len() as u64);
    let over_limit = whole_size_bytes > ingest.rules.size_limit_bytes as u64;
    let examined = if over_limit {
        // Only the beginning may have been read (the header section, over IMAP), which may be
        // within the limit by itself: a limit of zero sends it down the path for mail over the
        // limit, which reads the headers only.
        let rules = MailRules {
            size_limit_bytes: 0,
            ..ingest.rules.clone()
        };
        examine_mail(if raw.is_empty() { b"\n" } else { raw }, &rules)
    } else {
        examine_mail(raw, &ingest.rules)
    };
    match record_examined(
        store,
        ingest,
        &examined,
        raw,
        whole_size_bytes,
        source,
        position,
        now_ms,
    )
    .await
    {
        Err(error) if !error.is_transient() => {
            tracing::error!(%error, external_id = %examined.external_id, source, "a mail cannot be stored; it is quarantined as cannot-store");
            let size_limit_bytes = ingest.rules.size_limit_bytes;
            quarantine_unstorable(
                store,
                &examined,
                (raw, whole_size_bytes, size_limit_bytes),
                source,
                position,
                now_ms,
            )
            .await
        }
        result => result,
    }
}

/// The reason a mail is quarantined when storing it fails in a way no retry can fix.
pub const CANNOT_STORE: &str = "cannot-store";

/// Keeps aside a mail that could not be stored: first with its sender and subject, and if even
/// that is refused, with nothing taken from its text but the bytes themselves (a binary column
/// takes any byte) under a hash of them.
async fn quarantine_unstorable(
    store: &Store,
    examined: &ExaminedMail,
    (raw, whole_size_bytes, size_limit_bytes): (&[u8], u64, usize),
    source: &str,
    position: Option<(&str, &str)>,
    now_ms: i64,
) -> Result<IngestOutcome, StorageError> {
    let kept = kept_part(raw, whole_size_bytes, size_limit_bytes);
    let described = NewQuarantinedMail {
        external_id: &examined.external_id,
        source,
        reason: CANNOT_STORE,
        sender: examined.author.as_deref(),
        subject: Some(examined.subject.as_str()),
        raw: kept,
    };
    let id = match store
        .quarantine_mail_part(described, whole_size_bytes, position, now_ms)
        .await
    {
        Ok(id) => id,
        Err(error) if !error.is_transient() => {
            let bare_id = format!("sha256:{}", hex::encode(Sha256::digest(raw)));
            let bare = NewQuarantinedMail {
                external_id: &bare_id,
                source: "unstorable",
                reason: CANNOT_STORE,
                sender: None,
                subject: None,
                raw: kept,
            };
            store
                .quarantine_mail_part(bare, whole_size_bytes, position, now_ms)
                .await?
        }
        Err(error) => return Err(error),
    };
    Ok(IngestOutcome::Quarantined {
        id,
        reason: CANNOT_STORE,
    })
}

/// What of a mail is kept in the quarantine: all of it when it is within the size limit, its
/// header section otherwise.
fn kept_part(raw: &[u8], whole_size_bytes: u64, size_limit_bytes: usize) -> &[u8] {
    if whole_size_bytes > size_limit_bytes as u64 {
        return header_section(raw);
    }
    raw
}

/// The header section of a raw mail (up to and with the blank line that ends it), at most
/// 64 KiB; all of it when there is no blank line within that.
pub fn header_section(raw: &[u8]) -> &[u8] {
    const MOST_HEADER_BYTES: usize = 64 * 1024;
    let scanned = &raw[..raw.len().min(MOST_HEADER_BYTES)];
    let end = scanned
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4)
        .into_iter()
        .chain(
            scanned
                .windows(2)
                .position(|window| window == b"\n\n")
                .map(|at| at + 2),
        )
        .min();
    &raw[..end.unwrap_or(scanned.len())]
}

/// The longest Message-ID kept in a mail's thread (for the In-Reply-To and References of the
/// reply), and how many references are kept: a reply needs the nearest few, and a header of
/// thousands would only grow every stored row and every mail sent.
pub const THREAD_ID_BYTES: usize = crate::storage::EXTERNAL_ID_BYTES;
pub const THREAD_REFERENCES: usize = 20;
/// How many of the bot's messages a mail is looked up as answering.
pub const ANSWERS_LOOKED_UP: usize = 20;

#[allow(clippy::too_many_arguments)]
async fn record_examined(
    store: &Store,
    ingest: &MailIngest,
    examined: &ExaminedMail,
    raw: &[u8],
    whole_size_bytes: u64,
    source: &str,
    position: Option<(&str, &str)>,
    now_ms: i64,
) -> Result<IngestOutcome, StorageError> {
    let kept = kept_part(raw, whole_size_bytes, ingest.rules.size_limit_bytes);
    let quarantine = |reason: &'static str| NewQuarantinedMail {
        external_id: &examined.external_id,
        source,
        reason,
        sender: examined.author.as_deref(),
        subject: Some(examined.subject.as_str()),
        raw: kept,
    };
    match &examined.outcome {
        Outcome::Quarantined(reason) => {
            let id = store
                .quarantine_mail_part(
                    quarantine(reason.name()),
                    whole_size_bytes,
                    position,
                    now_ms,
                )
                .await?;
            crate::observe::metrics::metrics().mail_quarantined(reason.name());
            tracing::warn!(quarantine_id = id, reason = reason.name(), external_id = %examined.external_id, source, "mail quarantined");
            return Ok(IngestOutcome::Quarantined {
                id,
                reason: reason.name(),
            });
        }
        Outcome::Ignored(_) | Outcome::Accepted => {
            archive_list_message(store, ingest, examined, raw).await?
        }
    }
    match &examined.outcome {
        Outcome::Quarantined(_) => {}
        Outcome::Ignored(reason) => {
            // Kept for the operator with its reason (`rapporteur mail ignored`), so that a
            // wrong decision, such as a member's mail taken for the bot's own, can be seen.
            store
                .record_ignored_mail(
                    &crate::storage::IgnoredMail {
                        external_id: examined.external_id.clone(),
                        reason: reason.name().to_string(),
                        sender: examined.author.clone(),
                        subject: Some(examined.subject.clone()),
                        ignored_ms: now_ms,
                    },
                    position,
                    now_ms,
                )
                .await?;
            tracing::info!(reason = reason.name(), external_id = %examined.external_id, source, "mail ignored");
            return Ok(IngestOutcome::Ignored(reason.name()));
        }
        Outcome::Accepted => {}
    }
    // A bare word answers the bot only if the bot really sent the mail it refers to: anyone can
    // write a Message-ID on the bot's domain into In-Reply-To.
    let answers_to = &examined.answers_to[..examined.answers_to.len().min(ANSWERS_LOOKED_UP)];
    let context = if answers_to.is_empty() {
        None
    } else {
        store
            .sent_mail_answered(answers_to, &ingest.rules.identity)
            .await?
    };
    // A reply to the bot's own mail belongs to the group that mail was for (an `ack` to a
    // request of one group, from a member of two); only then do the other rules apply.
    let thread_group = context
        .as_ref()
        .and_then(|answered| answered.group_id.as_deref())
        .and_then(|group_id| {
            ingest
                .groups
                .iter()
                .find(|group| group.group_id == group_id)
        });
    let route = match thread_group {
        Some(group) => Route::Group(group),
        None => ingest.group_for(examined),
    };
    let group = match route {
        Route::Group(group) => group,
        Route::NoGroup => {
            let id = store
                .quarantine_mail(quarantine("no-group"), position, now_ms)
                .await?;
            crate::observe::metrics::metrics().mail_quarantined("no-group");
            tracing::warn!(quarantine_id = id, external_id = %examined.external_id, "mail for no configured group quarantined");
            return Ok(IngestOutcome::Quarantined {
                id,
                reason: "no-group",
            });
        }
        Route::Unclear(question) => {
            // The answer is stored before the mail is kept aside with the reader's position: a
            // crash in between leaves the position behind, the mail is read again, and the
            // answer's key (derived from the mail's external ID) keeps it from going out twice.
            // The other order could lose the answer.
            let answer = group_choice::choice_reply(examined, &question, &ingest.bot_address);
            let answered = match &answer {
                Some(answer) => !store
                    .enqueue(std::slice::from_ref(answer), now_ms)
                    .await?
                    .is_empty(),
                None => false,
            };
            // The mail stays held as `no-group`: nothing in it was done, and the author, if
            // told, sends it again naming the group.
            let id = store
                .quarantine_mail(quarantine("no-group"), position, now_ms)
                .await?;
            tracing::warn!(
                quarantine_id = id,
                external_id = %examined.external_id,
                why = question.why.name(),
                asked = answer.is_some(),
                newly_asked = answered,
                "mail whose group is unclear quarantined"
            );
            return Ok(IngestOutcome::Quarantined {
                id,
                reason: "no-group",
            });
        }
    };
    // A line over the core's length cap is cut just past it: the core still sees that it is
    // too long and says so, and the stored body stays small.
    let mut body = examined
        .commands
        .iter()
        .map(|line| bounded_command_line(line))
        .collect::<Vec<_>>()
        .join("\n");
    // A bare word is kept as it is; the core reads it in the context of the mail it answers
    // (`ack` in reply to a request's mail acknowledges that request).
    let mut bare_word = false;
    let survey = context
        .as_ref()
        .and_then(|answered| answered.about.as_deref())
        .filter(|about| crate::core::surveys::model::parse_survey_label(about).is_some());
    if body.is_empty()
        && let Some(survey) = survey
    {
        // A filled-in questionnaire: every authored line is the answer, read by the survey.
        body = format!(
            "{}survey answer {survey}\n{}",
            ingest.rules.command_prefix,
            examined.authored.join("\n")
        );
    } else if body.is_empty()
        && let (Some(word), Some(_)) = (&examined.answer, &context)
    {
        body = word.clone();
        bare_word = true;
    }
    let conversation = MailConversation {
        author: examined.author.clone().unwrap_or_default(),
        author_name: examined.author_name.clone(),
        subject: examined.subject.clone(),
        message_id: examined
            .message_id
            .clone()
            .filter(|id| id.len() <= THREAD_ID_BYTES),
        references: bounded_references(&examined.thread_references),
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
    if new_item.is_some() {
        crate::observe::metrics::metrics().input_received(MAIL_CHANNEL);
    }
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

/// A list message (its List-Id is a group's) goes to that group's public archive before it is
/// handled, whatever becomes of it: list traffic without a command is the archive's bulk, and
/// the bot's own posts are part of the list too. Stored once per Message-ID, so reading a mail
/// again (after a crash, by IMAP and by pipe) archives it once.
async fn archive_list_message(
    store: &Store,
    ingest: &MailIngest,
    examined: &ExaminedMail,
    raw: &[u8],
) -> Result<(), StorageError> {
    let Some(list_id) = examined.list_id.as_deref() else {
        return Ok(());
    };
    let Some(group) = ingest
        .groups
        .iter()
        .find(|group| group.list_id.as_deref() == Some(list_id))
    else {
        return Ok(());
    };
    if let Some(archived) = super::archive::archive_view(raw, &examined.external_id) {
        // The group's record is published a few seconds after a new list message, by the
        // publication timer (`core::record::publication`), committed with the message.
        let (key, due, timer) =
            crate::core::record::publication::publication_timer_at(jiff::Timestamp::now());
        store
            .archive_list_message_to_publish(
                &group.group_id,
                &archived,
                (key, due.as_millisecond(), &timer),
            )
            .await?;
    }
    Ok(())
}
