//! Which Matrix events are commands to record, and which messages were meant for the bot. Pure
//! rules over a small view of the event, so they are tested by tables of cases without a
//! homeserver. Whether an encrypted event counts as its sender's is decided first, in `trust`.

/// The parts of a timeline event the rule looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventView<'a> {
    pub event_type: &'a str,
    pub sender: &'a str,
    pub msgtype: Option<&'a str>,
    pub body: Option<&'a str>,
    /// `m.relates_to.rel_type`, such as `m.replace` for edits.
    pub relation_type: Option<&'a str>,
    pub origin_server_ts: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Record,
    /// Not a command candidate; the reason is for debug logs.
    Skip(&'static str),
}

/// Decides whether an event is recorded in the inbox.
pub fn classify(event: &EventView, own_user_id: &str, first_joined_ms: i64) -> Verdict {
    if event.event_type != "m.room.message" {
        return Verdict::Skip("not a message");
    }
    if event.sender == own_user_id {
        return Verdict::Skip("our own message");
    }
    if event.origin_server_ts < first_joined_ms {
        return Verdict::Skip("sent before the bot joined");
    }
    if event.relation_type == Some("m.replace") {
        // Edits would otherwise run a command a second time.
        return Verdict::Skip("an edit");
    }
    match event.msgtype {
        Some("m.text") => {}
        Some("m.notice") => return Verdict::Skip("a notice (bots talk in notices)"),
        _ => return Verdict::Skip("not a text message"),
    }
    if event.body.is_none() {
        return Verdict::Skip("no body");
    }
    Verdict::Record
}

/// Whether a message was meant for the bot: a command (it starts with the prefix), or a reply
/// (such as a one-word answer to the bot's question). A refused encrypted message is answered
/// only then, so that chat from an unverified session does not draw an answer to every line.
pub fn addresses_the_bot(body: &str, is_reply: bool, command_prefix: &str) -> bool {
    is_reply || body.trim_start().starts_with(command_prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_messages_meant_for_the_bot() {
        let cases = [
            ("!whoami", false, "!", true),
            ("  !whoami", false, "!", true),
            ("yes", true, "!", true),
            ("yes", false, "!", false),
            ("good morning", false, "!", false),
            ("see !whoami", false, "!", false),
            ("?whoami", false, "?", true),
            ("!whoami", false, "?", false),
        ];
        for (body, is_reply, prefix, expected) in cases {
            assert_eq!(
                addresses_the_bot(body, is_reply, prefix),
                expected,
                "{body:?} reply={is_reply} prefix={prefix:?}"
            );
        }
    }

    fn text(sender: &str, ts: i64) -> EventView<'_> {
        EventView {
            event_type: "m.room.message",
            sender,
            msgtype: Some("m.text"),
            body: Some("!ping"),
            relation_type: None,
            origin_server_ts: ts,
        }
    }

    #[test]
    fn table_of_events() {
        let bot = "@rapporteur:localhost";
        let joined = 1_000;
        let mut notice = text("@a:localhost", 2_000);
        notice.msgtype = Some("m.notice");
        let mut edit = text("@a:localhost", 2_000);
        edit.relation_type = Some("m.replace");
        let mut reply = text("@a:localhost", 2_000);
        reply.relation_type = None;
        let mut member = text("@a:localhost", 2_000);
        member.event_type = "m.room.member";
        let mut image = text("@a:localhost", 2_000);
        image.msgtype = Some("m.image");
        let mut no_body = text("@a:localhost", 2_000);
        no_body.body = None;
        let cases = [
            (text("@a:localhost", 2_000), Verdict::Record),
            (text("@a:localhost", 1_000), Verdict::Record),
            (
                text("@a:localhost", 999),
                Verdict::Skip("sent before the bot joined"),
            ),
            (text(bot, 2_000), Verdict::Skip("our own message")),
            (notice, Verdict::Skip("a notice (bots talk in notices)")),
            (edit, Verdict::Skip("an edit")),
            (reply, Verdict::Record),
            (member, Verdict::Skip("not a message")),
            (image, Verdict::Skip("not a text message")),
            (no_body, Verdict::Skip("no body")),
        ];
        for (event, expected) in cases {
            assert_eq!(classify(&event, bot, joined), expected, "{event:?}");
        }
    }
}
