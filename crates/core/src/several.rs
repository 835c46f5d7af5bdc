//! A message with several commands (a mail, one command per line): each line is decided
//! against the state the lines before it left, the answers are put together into one reply,
//! each under the command it answers, and at most [`COMMANDS_PER_MESSAGE`] are read, so a pasted
//! list cannot set off a flood. Also the rule that limits answers to senders the group does not
//! know. Pure rules: the mail adapter only splits the authored text into lines.

use crate::directory::{Group, SenderAddress};
use crate::effects::Effect;
use crate::engine::{Channel, Decision, Disposition, Engine, Message};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::GroupState;
use jiff::Timestamp;

/// The most commands read from one message.
pub const COMMANDS_PER_MESSAGE: usize = 10;

/// The longest command line read, in characters: room for a response's comments of a few
/// paragraphs, and a bound on the work a single line can ask for (tokenizing, searching the
/// state, quoting it back). A longer line is not read; its author is told why.
pub const COMMAND_LINE_CHARACTERS: usize = 4000;

/// The answer to a command line longer than [`COMMAND_LINE_CHARACTERS`]. (An adapter may have
/// cut such a line just past the cap, so the reply does not give its length.)
pub fn overlong_line_reply(command_name: &str) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .text("That ")
            .code(command_name)
            .text(format!(
                " command is longer than {COMMAND_LINE_CHARACTERS} characters, the most I \
                 read, so it was not read. Shorten it (long comments can go in a document \
                 linked from it) and send it again."
            )),
    );
    document
}

/// Decides every non-empty line of the message as a command. With one line, this is the
/// engine's decision itself; with several, the replies are combined, every other effect and
/// change is kept in order, and the disposition is the first that is not "executed" (the one
/// that needs the sender's attention).
/// Whether a line is `!survey answer ...`.
pub fn is_survey_answer(line: &str, prefix: &str) -> bool {
    let Some(rest) = line.strip_prefix(prefix) else {
        return false;
    };
    let mut words = rest.split_whitespace();
    words
        .next()
        .is_some_and(|word| word.eq_ignore_ascii_case("survey"))
        && words
            .next()
            .is_some_and(|word| word.eq_ignore_ascii_case("answer"))
}

pub fn decide_lines(
    engine: &Engine,
    state: &GroupState,
    group: &Group,
    message: &Message,
    now: Timestamp,
) -> Decision {
    let all_lines: Vec<&str> = message
        .body
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    // A filled-in questionnaire is one answer of many lines, not many commands.
    if all_lines
        .first()
        .is_some_and(|first| is_survey_answer(first, engine.prefix()))
    {
        return engine.decide_message(state, group, message, now);
    }
    let lines = &all_lines[..all_lines.len().min(COMMANDS_PER_MESSAGE)];
    let mut working: Option<GroupState> = None;
    let mut decisions: Vec<(&str, Decision)> = Vec::with_capacity(lines.len());
    for line in lines {
        let line_message = Message {
            body: line,
            ..*message
        };
        let decision =
            engine.decide_message(working.as_ref().unwrap_or(state), group, &line_message, now);
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
            combined.push_line(LineBuilder::new().strong("> ").code(quoted_line(line)));
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
    if all_lines.len() > lines.len() {
        combined.push_line(LineBuilder::new().text(format!(
            "Only the first {COMMANDS_PER_MESSAGE} commands of a message are read; send the other {} again.",
            all_lines.len() - lines.len()
        )));
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

/// A command line as it is quoted above its answer: cut after 200 characters, so a line over the
/// length cap is not sent back whole.
fn quoted_line(line: &str) -> String {
    const QUOTED_CHARACTERS: usize = 200;
    if line.chars().count() <= QUOTED_CHARACTERS {
        return line.to_string();
    }
    let mut quoted: String = line.chars().take(QUOTED_CHARACTERS).collect();
    quoted.push('…');
    quoted
}

/// The key under which an answer to this sender is limited to one a day, or `None` for no
/// limit: a mail sender the group does not know gets at most one answer a day, enough to tell
/// a newcomer how to join and too little to use the bot to send mail to strangers. (In the room
/// the homeserver already knows who is there.)
pub fn stranger_reply_limit(
    group: &Group,
    sender: &SenderAddress,
    channel: Channel,
    now: Timestamp,
) -> Option<String> {
    if channel != Channel::Mail || group.identify(sender).is_some() {
        return None;
    }
    let day = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    Some(format!("mail-stranger:{sender}:{day}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::directory::test_support::small_group;

    fn engine() -> Engine {
        Engine::new(Catalog::builtin().expect("valid"), "!")
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("RFC 3339")
    }

    #[test]
    fn several_commands_get_one_answer_and_see_each_other() {
        let sender = SenderAddress::Email("sam@example.org".into());
        let group = {
            let mut group = small_group();
            group.people[1].emails = vec!["sam@example.org".into()];
            group
        };
        let body = "!request open \"Budget\"\n!status R-1\n!nosuch";
        let message = Message::new(&sender, body, Channel::Mail);
        let decision = decide_lines(
            &engine(),
            &GroupState::default(),
            &group,
            &message,
            at("2026-11-25T16:00:00Z"),
        );
        let text = decision.reply().expect("one reply").plain_text();
        assert!(text.contains("Opened R-1"), "{text}");
        assert!(
            text.contains("R-1 \"Budget\", opened"),
            "the status sees the request: {text}"
        );
        assert!(text.contains("There is no command `!nosuch`"), "{text}");
        assert_eq!(decision.disposition, Disposition::UnknownCommand);
        assert_eq!(decision.changes.len(), 1);
        assert_eq!(
            decision
                .effects
                .iter()
                .filter(|effect| matches!(effect, Effect::Reply { .. }))
                .count(),
            1
        );
    }

    #[test]
    fn only_the_first_commands_of_a_message_are_read() {
        let sender = SenderAddress::Email("ana.lima@example.org".into());
        let body = vec!["!ping"; COMMANDS_PER_MESSAGE + 3].join("\n");
        let message = Message::new(&sender, &body, Channel::Mail);
        let decision = decide_lines(
            &engine(),
            &GroupState::default(),
            &small_group(),
            &message,
            at("2026-11-25T16:00:00Z"),
        );
        let text = decision.reply().expect("reply").plain_text();
        assert_eq!(text.matches("pong").count(), COMMANDS_PER_MESSAGE);
        assert!(text.contains("send the other 3 again"), "{text}");
    }

    #[test]
    fn a_command_line_over_the_length_cap_is_answered_not_read() {
        let sender = SenderAddress::Email("ana.lima@example.org".into());
        let long_comment = "x".repeat(COMMAND_LINE_CHARACTERS);
        let cases = [
            (
                format!("!respond R-1 support-with-comments {long_comment}"),
                Some("longer than 4000 characters"),
            ),
            // Exactly at the cap: read as usual (here, a request that does not exist).
            (
                format!("!ping {}", "y".repeat(COMMAND_LINE_CHARACTERS - 6)),
                None,
            ),
        ];
        for (body, expected) in cases {
            let message = Message::new(&sender, &body, Channel::Mail);
            let decision = decide_lines(
                &engine(),
                &GroupState::default(),
                &small_group(),
                &message,
                at("2026-11-25T16:00:00Z"),
            );
            let text = decision.reply().expect("a reply").plain_text();
            match expected {
                Some(part) => {
                    assert!(text.contains(part), "{text}");
                    assert!(
                        text.contains("`!respond`") || text.contains("!respond"),
                        "{text}"
                    );
                    assert_eq!(decision.disposition, Disposition::BadArguments);
                    assert!(decision.changes.is_empty());
                    assert!(
                        text.len() < 1000,
                        "the line is not quoted back: {}",
                        text.len()
                    );
                }
                None => assert!(!text.contains("longer than 4000"), "{text}"),
            }
        }
    }

    #[test]
    fn only_unknown_mail_senders_are_limited() {
        let group = small_group();
        let now = at("2026-11-25T16:00:00Z");
        let stranger = SenderAddress::Email("who@example.net".into());
        let member = SenderAddress::Email("ana.lima@example.org".into());
        let in_room = SenderAddress::Matrix("@who:example.net".into());
        let cases = [
            (
                &stranger,
                Channel::Mail,
                Some("mail-stranger:who@example.net:2026-11-25"),
            ),
            (&member, Channel::Mail, None),
            (&in_room, Channel::Matrix, None),
            // A timer has no sender to limit.
            (&stranger, Channel::Clock, None),
        ];
        for (sender, channel, expected) in cases {
            assert_eq!(
                stranger_reply_limit(&group, sender, channel, now).as_deref(),
                expected
            );
        }
    }
}
