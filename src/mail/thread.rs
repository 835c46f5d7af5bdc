//! What a mail reply needs to know about the message it answers, stored with the inbox item
//! (as its conversation) and with the outbox item (as its payload). Plain data, so the handler
//! can build replies without any mail library.

use serde::{Deserialize, Serialize};

/// The thread a received mail belongs to: where a reply goes and how it is threaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailConversation {
    /// The author's address: replies to a command go there.
    pub author: String,
    pub author_name: Option<String>,
    /// The subject of the received mail.
    pub subject: String,
    /// Its Message-ID, if it had one.
    pub message_id: Option<String>,
    /// Its References followed by its own Message-ID.
    pub references: Vec<String>,
    /// The group's list address, for results of public interest.
    pub list_address: Option<String>,
    /// The bot's mail this one answers, if any.
    pub answers: Option<String>,
    /// The record that mail was about (`R-3`): a bare `ack` answers that request.
    #[serde(default)]
    pub answers_about: Option<String>,
    /// The mail is a single bare word answering the bot, held in the inbox item's body.
    #[serde(default)]
    pub bare_word: bool,
}

/// One mail to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailPayload {
    pub to: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// `auto-replied` for an answer to a message, `auto-generated` for anything else (RFC 3834).
    pub auto_submitted: String,
    pub plain: String,
    pub html: String,
    /// An iCalendar invitation sent with the text: a `text/calendar` alternative with its
    /// method (RFC 6047) and the same as an `invite.ics` attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<crate::core::effects::CalendarPart>,
}

/// The subject of a reply: `Re: ` and the original subject, once.
pub fn reply_subject(subject: &str) -> String {
    let trimmed = subject.trim();
    if trimmed.is_empty() {
        return "Re: your message to rapporteur".to_string();
    }
    let already_reply = trimmed.len() >= 3
        && trimmed.is_char_boundary(3)
        && trimmed[..3].eq_ignore_ascii_case("re:");
    if already_reply {
        trimmed.to_string()
    } else {
        format!("Re: {trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_subjects_are_prefixed_once() {
        assert_eq!(reply_subject("!whoami"), "Re: !whoami");
        assert_eq!(reply_subject("RE: !whoami"), "RE: !whoami");
        assert_eq!(reply_subject("  "), "Re: your message to rapporteur");
        assert_eq!(reply_subject("réunion"), "Re: réunion");
    }
}
