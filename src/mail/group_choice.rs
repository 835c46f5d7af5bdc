//! How the author of a mail sent straight to the bot says which group it is for, and the one
//! answer that tells them how when the bot cannot tell. A person may belong to several groups,
//! so their address alone does not always name a group; they name one with a `+group`
//! sub-address of the bot's address (`rapporteur+cceg-ig@example.org`) or a `[GROUP]` tag in the
//! subject (`[CCEG-IG] !whoami`).
//!
//! Pure: recipients, subjects and groups in, tags and an outbox item out, so the rules and the
//! wording are tested without a mailbox or a database.

use super::MAIL_CHANNEL;
use super::examine::{ExaminedMail, one_line};
use super::ingest::MailGroup;
use super::thread::{MailPayload, reply_subject};
use crate::core::reply::{LineBuilder, ReplyDocument};
use crate::storage::{NewOutboxItem, outbox_key};

/// Tags longer than this are not group names. The limit also keeps an unknown tag quoted in the
/// answer short.
const TAG_LIMIT: usize = 64;

/// Why the bot cannot tell which group a mail is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unclear {
    /// The author is a member of several groups and named none.
    SeveralGroups,
    /// A `+tag` of the bot's address names no group that takes mail (the tag, as written).
    UnknownChoice(String),
    /// The mail names more than one group.
    SeveralChoices,
}

impl Unclear {
    /// A short name for logs and tests.
    pub fn name(&self) -> &'static str {
        match self {
            Unclear::SeveralGroups => "several-groups",
            Unclear::UnknownChoice(_) => "unknown-choice",
            Unclear::SeveralChoices => "several-choices",
        }
    }
}

/// A mail whose group the author must name: why, the groups to name, and the groups that know
/// the author (none for a stranger, who is not answered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupQuestion<'a> {
    pub why: Unclear,
    pub options: Vec<&'a MailGroup>,
    pub member_of: Vec<&'a MailGroup>,
}

/// The sub-address tags of the bot's address among the recipients, in order:
/// `rapporteur+cceg-ig@example.org` gives `cceg-ig` when the bot is `rapporteur@example.org`.
/// Empty tags (`rapporteur+@…`) name nothing and are left out.
pub fn address_tags(recipients: &[String], bot_address: &str) -> Vec<String> {
    let bot_address = bot_address.trim().to_lowercase();
    let Some((bot_local, bot_domain)) = bot_address.rsplit_once('@') else {
        return Vec::new();
    };
    let prefix = format!("{bot_local}+");
    recipients
        .iter()
        .filter_map(|recipient| {
            let recipient = recipient.to_lowercase();
            let (local, domain) = recipient.rsplit_once('@')?;
            let tag = local.strip_prefix(&prefix)?;
            (domain == bot_domain && !tag.is_empty()).then(|| tag.to_string())
        })
        .collect()
}

/// The bracketed words of a subject, in order: `Re: [cip-ccg] minutes` gives `cip-ccg`. Which of
/// them name a group is for the caller to decide, since gateways and ticket systems add tags of
/// their own (`[EXTERNAL]`, `[#1234]`).
pub fn subject_tags(subject: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut rest = subject;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            break;
        };
        let inside = &after[..close];
        // `[[x]` is read from the inner bracket, as the author most likely meant.
        match inside.rfind('[') {
            Some(inner) => rest = &after[inner..],
            None => {
                let tag = inside.trim();
                if !tag.is_empty() && tag.chars().count() <= TAG_LIMIT {
                    tags.push(tag.to_string());
                }
                rest = &after[close + 1..];
            }
        }
    }
    tags
}

/// Whether a tag names the group: its id or its short name, without regard to case.
pub fn names_group(tag: &str, group: &MailGroup) -> bool {
    let tag = tag.trim().to_lowercase();
    !tag.is_empty()
        && (tag == group.group_id.to_lowercase() || tag == group.short_name.trim().to_lowercase())
}

/// The idempotency key of the answer to a mail whose group is unclear. It is derived from the
/// mail's external ID alone, so the same mail read over IMAP and piped in by the MTA is answered
/// once; the leading `group-choice` part keeps it apart from the keys of replies and deliveries
/// (`handling::outbox_items`), which start with the channel. It has the same shape as those
/// keys, so the Message-ID built from it is recognised as the bot's own.
pub fn choice_key(external_id: &str) -> String {
    outbox_key(&[
        b"group-choice",
        MAIL_CHANNEL.as_bytes(),
        external_id.as_bytes(),
    ])
}

/// The answer to a mail whose group the author must name, threaded under it: what is unclear,
/// and the sub-addresses and subject tags that name each group. `None` when nobody should be
/// answered: a stranger (the groups do not know the author, and an open answer would let anyone
/// send the bot's mail to any address), a mail that asks nothing of the bot (no command and no
/// one-word answer; an auto-responder that leaves out Auto-Submitted must not start a loop with
/// the bot), or no group to offer. Every value taken from the mail passes [`one_line`] before it
/// reaches a header.
pub fn choice_reply(
    examined: &ExaminedMail,
    question: &GroupQuestion,
    bot_address: &str,
) -> Option<NewOutboxItem> {
    let author = examined.author.as_deref().map(one_line)?;
    let asks_something = !examined.commands.is_empty() || examined.answer.is_some();
    if author.is_empty()
        || !asks_something
        || question.member_of.is_empty()
        || question.options.is_empty()
    {
        return None;
    }
    let document = choice_document(question, bot_address);
    let payload = MailPayload {
        to: author.clone(),
        to_name: examined.author_name.as_deref().map(one_line),
        subject: one_line(&reply_subject(&examined.subject)),
        in_reply_to: examined.message_id.as_deref().map(one_line),
        references: examined
            .thread_references
            .iter()
            .map(|id| one_line(id))
            .collect(),
        auto_submitted: "auto-replied".to_string(),
        plain: document.plain_text(),
        html: document.html(),
        calendar: None,
    };
    Some(NewOutboxItem {
        idempotency_key: choice_key(&examined.external_id),
        channel: MAIL_CHANNEL.to_string(),
        destination: author,
        payload: serde_json::to_string(&payload).unwrap_or_default(),
        about: None,
    })
}

/// The text of the answer, the one place its wording lives:
///
/// > You are in CIP-CCG and CCEG-IG. Say which group you mean: write to
/// > rapporteur+cip-ccg@example.org or rapporteur+cceg-ig@example.org, or put [CIP-CCG] or
/// > [CCEG-IG] in the subject.
/// > Nothing in your mail has been done yet: send it again that way.
pub fn choice_document(question: &GroupQuestion, bot_address: &str) -> ReplyDocument {
    let names = |groups: &[&MailGroup]| -> Vec<String> {
        groups
            .iter()
            .map(|group| group.short_name.clone())
            .collect()
    };
    let membership = format!("You are in {}.", joined(&names(&question.member_of), "and"));
    let situation = match &question.why {
        Unclear::SeveralGroups => membership,
        Unclear::UnknownChoice(tag) => {
            let tag: String = one_line(tag).chars().take(TAG_LIMIT).collect();
            format!("No group that takes mail here is called \u{201c}{tag}\u{201d}. {membership}")
        }
        Unclear::SeveralChoices => format!(
            "Your mail names {}, but each mail is for one group. {membership}",
            joined(&names(&question.options), "and")
        ),
    };
    let addresses: Vec<String> = question
        .options
        .iter()
        .map(|group| sub_address(bot_address, &group.group_id))
        .collect();
    let tags: Vec<String> = question
        .options
        .iter()
        .map(|group| format!("[{}]", group.short_name))
        .collect();
    let how = if question.options.len() == 1 {
        format!(
            "For {}, write to {} or put {} in the subject.",
            question.options[0].short_name, addresses[0], tags[0]
        )
    } else {
        format!(
            "Say which group you mean: write to {}, or put {} in the subject.",
            joined(&addresses, "or"),
            joined(&tags, "or")
        )
    };
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().text(format!("{situation} {how}")));
    document.push_line(
        LineBuilder::new().text("Nothing in your mail has been done yet: send it again that way."),
    );
    document
}

/// The bot's address with a sub-address tag: `rapporteur+cceg-ig@example.org`.
fn sub_address(bot_address: &str, tag: &str) -> String {
    match bot_address.trim().rsplit_once('@') {
        Some((local, domain)) => format!("{local}+{tag}@{domain}"),
        None => format!("{}+{tag}", bot_address.trim()),
    }
}

/// `a`, `a or b`, `a, b or c`.
fn joined(items: &[String], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::examine::Outcome;

    fn group(id: &str, short_name: &str) -> MailGroup {
        MailGroup {
            group_id: id.into(),
            short_name: short_name.into(),
            list_address: Some(format!("{id}@lists.example.org")),
            list_id: None,
            member_addresses: vec!["ana.lima@example.org".into()],
        }
    }

    fn examined(subject: &str, commands: &[&str]) -> ExaminedMail {
        ExaminedMail {
            outcome: Outcome::Accepted,
            external_id: "<q@example.org>".into(),
            message_id: Some("<q@example.org>".into()),
            author: Some("ana.lima@example.org".into()),
            author_name: Some("Ana Lima".into()),
            list_id: None,
            recipients: vec!["rapporteur@example.org".into()],
            subject: subject.into(),
            commands: commands.iter().map(|command| command.to_string()).collect(),
            answer: None,
            authored: Vec::new(),
            answers_to: Vec::new(),
            thread_references: vec!["<root@example.org>".into(), "<q@example.org>".into()],
            date_ms: None,
        }
    }

    #[test]
    fn sub_address_tags_are_read_from_the_bots_address_only() {
        let cases: &[(&[&str], &[&str])] = &[
            (&["rapporteur@example.org"], &[]),
            (&["rapporteur+cceg-ig@example.org"], &["cceg-ig"]),
            (&["Rapporteur+CCEG-IG@Example.ORG"], &["cceg-ig"]),
            (&["rapporteur+@example.org"], &[]),
            (&["rapporteur+cceg-ig@elsewhere.org"], &[]),
            (&["rapporteurs+cceg-ig@example.org"], &[]),
            (&["someone+cceg-ig@example.org"], &[]),
            (
                &[
                    "rapporteur+cip-ccg@example.org",
                    "x@example.net",
                    "rapporteur+b@example.org",
                ],
                &["cip-ccg", "b"],
            ),
        ];
        for (recipients, expected) in cases {
            let recipients: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
            assert_eq!(
                address_tags(&recipients, "rapporteur@example.org"),
                *expected,
                "{recipients:?}"
            );
        }
        assert!(address_tags(&["a+b@c".into()], "not an address").is_empty());
    }

    #[test]
    fn subject_tags_are_the_bracketed_words() {
        let cases: &[(&str, &[&str])] = &[
            ("!whoami", &[]),
            ("[CCEG-IG] !whoami", &["CCEG-IG"]),
            ("Re: [cip-ccg] minutes", &["cip-ccg"]),
            ("[EXTERNAL] Re: [ CIP-CCG ] x", &["EXTERNAL", "CIP-CCG"]),
            ("[] [   ] [unclosed", &[]),
            ("[[CCEG-IG] x", &["CCEG-IG"]),
            ("] [a]]", &["a"]),
            ("[réunion] ü", &["réunion"]),
        ];
        for (subject, expected) in cases {
            assert_eq!(subject_tags(subject), *expected, "{subject}");
        }
        let long = format!("[{}]", "x".repeat(TAG_LIMIT + 1));
        assert!(subject_tags(&long).is_empty());
    }

    #[test]
    fn tags_name_a_group_by_id_or_short_name_in_any_case() {
        let cceg = group("cceg-ig", "CCEG-IG");
        for tag in ["cceg-ig", "CCEG-IG", " Cceg-Ig "] {
            assert!(names_group(tag, &cceg), "{tag}");
        }
        let named = group("wg1", "Working Group One");
        assert!(names_group("working group one", &named));
        assert!(names_group("WG1", &named));
        for tag in ["", "cceg", "cip-ccg", "cceg-ig2"] {
            assert!(!names_group(tag, &cceg), "{tag}");
        }
    }

    #[test]
    fn choice_keys_are_stable_and_apart_from_reply_keys() {
        let key = choice_key("<q@example.org>");
        assert_eq!(key, choice_key("<q@example.org>"));
        assert_ne!(key, choice_key("<r@example.org>"));
        assert!(key.starts_with("rapporteur-") && key.len() < 64, "{key}");
        for index in 0..4 {
            assert_ne!(
                key,
                crate::handling::idempotency_key(MAIL_CHANNEL, "<q@example.org>", index)
            );
            assert_ne!(
                key,
                crate::handling::delivery_key(MAIL_CHANNEL, "<q@example.org>", 0, index)
            );
        }
    }

    #[test]
    fn the_answer_says_how_to_name_each_group() {
        let cip = group("cip-ccg", "CIP-CCG");
        let cceg = group("cceg-ig", "CCEG-IG");
        let wg = group("wg", "WG");
        let bot = "rapporteur@example.org";
        let cases: Vec<(GroupQuestion, &str)> = vec![
            (
                GroupQuestion {
                    why: Unclear::SeveralGroups,
                    options: vec![&cip, &cceg],
                    member_of: vec![&cip, &cceg],
                },
                "You are in CIP-CCG and CCEG-IG. Say which group you mean: write to \
                 rapporteur+cip-ccg@example.org or rapporteur+cceg-ig@example.org, or put \
                 [CIP-CCG] or [CCEG-IG] in the subject.\n\
                 Nothing in your mail has been done yet: send it again that way.",
            ),
            (
                GroupQuestion {
                    why: Unclear::SeveralGroups,
                    options: vec![&cip, &cceg, &wg],
                    member_of: vec![&cip, &cceg, &wg],
                },
                "You are in CIP-CCG, CCEG-IG and WG. Say which group you mean: write to \
                 rapporteur+cip-ccg@example.org, rapporteur+cceg-ig@example.org or \
                 rapporteur+wg@example.org, or put [CIP-CCG], [CCEG-IG] or [WG] in the subject.\n\
                 Nothing in your mail has been done yet: send it again that way.",
            ),
            (
                GroupQuestion {
                    why: Unclear::UnknownChoice("cceg\r\nBcc: x@evil.example".into()),
                    options: vec![&cip, &cceg],
                    member_of: vec![&cip],
                },
                "No group that takes mail here is called \u{201c}cceg Bcc: x@evil.example\u{201d}. \
                 You are in CIP-CCG. Say which group you mean: write to \
                 rapporteur+cip-ccg@example.org or rapporteur+cceg-ig@example.org, or put \
                 [CIP-CCG] or [CCEG-IG] in the subject.\n\
                 Nothing in your mail has been done yet: send it again that way.",
            ),
            (
                GroupQuestion {
                    why: Unclear::UnknownChoice("typo".into()),
                    options: vec![&cip],
                    member_of: vec![&cip],
                },
                "No group that takes mail here is called \u{201c}typo\u{201d}. You are in \
                 CIP-CCG. For CIP-CCG, write to rapporteur+cip-ccg@example.org or put [CIP-CCG] \
                 in the subject.\n\
                 Nothing in your mail has been done yet: send it again that way.",
            ),
            (
                GroupQuestion {
                    why: Unclear::SeveralChoices,
                    options: vec![&cip, &cceg],
                    member_of: vec![&cceg],
                },
                "Your mail names CIP-CCG and CCEG-IG, but each mail is for one group. You are in \
                 CCEG-IG. Say which group you mean: write to rapporteur+cip-ccg@example.org or \
                 rapporteur+cceg-ig@example.org, or put [CIP-CCG] or [CCEG-IG] in the subject.\n\
                 Nothing in your mail has been done yet: send it again that way.",
            ),
        ];
        for (question, expected) in cases {
            assert_eq!(choice_document(&question, bot).plain_text(), expected);
        }
    }

    #[test]
    fn the_answer_is_threaded_and_safe_to_put_in_headers() {
        let cip = group("cip-ccg", "CIP-CCG");
        let cceg = group("cceg-ig", "CCEG-IG");
        let question = GroupQuestion {
            why: Unclear::SeveralGroups,
            options: vec![&cip, &cceg],
            member_of: vec![&cip, &cceg],
        };
        let mut mail = examined("!whoami\r\nBcc: victim@evil.example", &["!whoami"]);
        mail.author_name = Some("Ana\nBcc: victim@evil.example".into());
        mail.thread_references.push("<a\r\nb@example.org>".into());
        let item = choice_reply(&mail, &question, "rapporteur@example.org").unwrap();
        assert_eq!(item.idempotency_key, choice_key("<q@example.org>"));
        assert_eq!(item.channel, "mail");
        assert_eq!(item.destination, "ana.lima@example.org");
        let payload: MailPayload = serde_json::from_str(&item.payload).unwrap();
        assert_eq!(payload.to, "ana.lima@example.org");
        assert_eq!(payload.subject, "Re: !whoami Bcc: victim@evil.example");
        assert_eq!(
            payload.to_name.as_deref(),
            Some("Ana Bcc: victim@evil.example")
        );
        assert_eq!(payload.in_reply_to.as_deref(), Some("<q@example.org>"));
        assert_eq!(payload.references[2], "<a b@example.org>");
        assert_eq!(payload.auto_submitted, "auto-replied");
        assert!(payload.plain.starts_with("You are in CIP-CCG and CCEG-IG."));
        assert!(payload.html.contains("rapporteur+cceg-ig@example.org"));
        for value in [&payload.to, &payload.subject]
            .into_iter()
            .chain(payload.to_name.as_ref())
            .chain(payload.in_reply_to.as_ref())
            .chain(&payload.references)
        {
            assert!(!value.chars().any(char::is_control), "{value:?}");
        }
    }

    #[test]
    fn strangers_and_mail_that_asks_nothing_are_not_answered() {
        let cip = group("cip-ccg", "CIP-CCG");
        let cceg = group("cceg-ig", "CCEG-IG");
        let asked = GroupQuestion {
            why: Unclear::SeveralGroups,
            options: vec![&cip, &cceg],
            member_of: vec![&cip, &cceg],
        };
        let stranger = GroupQuestion {
            why: Unclear::UnknownChoice("typo".into()),
            options: vec![&cip, &cceg],
            member_of: Vec::new(),
        };
        let bot = "rapporteur@example.org";
        assert!(choice_reply(&examined("!whoami", &["!whoami"]), &asked, bot).is_some());
        assert!(choice_reply(&examined("!whoami", &["!whoami"]), &stranger, bot).is_none());
        // Accepted only because it answers the bot's mail: no command, no one-word answer.
        let mut answering = examined("Re: x", &[]);
        answering.answers_to = vec!["<rapporteur-x@rapporteur.localhost>".into()];
        assert!(choice_reply(&answering, &asked, bot).is_none());
        answering.answer = Some("ack".into());
        assert!(choice_reply(&answering, &asked, bot).is_some());
        let mut nobody = examined("!whoami", &["!whoami"]);
        nobody.author = None;
        assert!(choice_reply(&nobody, &asked, bot).is_none());
    }
}
