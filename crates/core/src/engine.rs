//! The decision function: a message, the group it arrived in, who sent it and the current time go
//! in; what to do comes out as effects. Nothing here performs I/O, so every rule is testable with
//! plain tables of cases.

use super::catalog::{Catalog, CommandSpec};
use super::commands::{self, ArgumentProblem};
use super::consensus::model::AnswerChannel;
use super::directory::{Group, Person, SenderAddress};
use super::effects::{Effect, Timer};
use super::reply::{LineBuilder, ReplyDocument};
use super::state::{Change, GroupState};
use super::tokenize::{Token, tokenize};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Where an input came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Matrix,
    Mail,
    /// The durable clock: a timer that fell due.
    Clock,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Matrix, Channel::Mail, Channel::Clock];

    /// The name stored with inbox and outbox rows.
    pub const fn name(self) -> &'static str {
        match self {
            Channel::Matrix => "matrix",
            Channel::Mail => "mail",
            Channel::Clock => "clock",
        }
    }

    pub fn from_name(name: &str) -> Option<Channel> {
        Channel::ALL
            .into_iter()
            .find(|channel| channel.name() == name)
    }
}

/// A message from a person, on a channel.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub sender: &'a SenderAddress,
    pub body: &'a str,
    pub channel: Channel,
    /// The record (`R-3`) of the bot's message this one answers, when the channel knows it (a
    /// mail reply to the bot's announcement of a request).
    pub about: Option<&'a str>,
    /// The message is a single bare word answering the bot (`ack`, `support`), not a command.
    pub bare_word: bool,
    /// The message is an answer given in the room's native poll or by a reaction on it, which
    /// the Matrix adapter wrote as `!vote`: recorded without a reply unless something is wrong.
    pub poll_answer: Option<AnswerChannel>,
    /// The message was written in a direct conversation with the bot that nobody else reads
    /// (a Matrix direct-message room with the bot and the sender alone). Answers that must not
    /// be seen by the group, such as a survey's, are taken only from such a message or by mail.
    pub private: bool,
}

impl<'a> Message<'a> {
    /// A plain command message, without reply context.
    pub fn new(sender: &'a SenderAddress, body: &'a str, channel: Channel) -> Message<'a> {
        Message {
            sender,
            body,
            channel,
            about: None,
            bare_word: false,
            poll_answer: None,
            private: false,
        }
    }
}

/// What the core decides on.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Message(Message<'a>),
    /// A timer that fell due at `due`; it may be handled later than that (the bot was down).
    Timer {
        key: &'a str,
        due: Timestamp,
        timer: &'a Timer,
    },
}

/// What became of a message, for logs and storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    NotACommand,
    Executed,
    UnknownCommand,
    BadArguments,
    NotPermitted,
    /// A timer that fell due was handled.
    TimerFired,
    /// The sender reached the limit of answered messages (`rate_limits`) and was told so.
    RateLimitNotice,
    /// The sender is over the limit and was already told: nothing was done or said.
    RateLimited,
}

impl Disposition {
    pub fn name(self) -> &'static str {
        match self {
            Disposition::NotACommand => "not_a_command",
            Disposition::Executed => "executed",
            Disposition::UnknownCommand => "unknown_command",
            Disposition::BadArguments => "bad_arguments",
            Disposition::NotPermitted => "not_permitted",
            Disposition::TimerFired => "timer_fired",
            Disposition::RateLimitNotice => "rate_limit_notice",
            Disposition::RateLimited => "rate_limited",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub command: Option<String>,
    pub disposition: Disposition,
    /// The changes to the group's state, to be committed with the input.
    pub changes: Vec<Change>,
    pub effects: Vec<Effect>,
}

impl Decision {
    pub fn not_a_command() -> Decision {
        Decision {
            command: None,
            disposition: Disposition::NotACommand,
            changes: Vec::new(),
            effects: Vec::new(),
        }
    }

    /// The reply document, if the decision answers the message.
    pub fn reply(&self) -> Option<&ReplyDocument> {
        self.effects.iter().find_map(|effect| match effect {
            Effect::Reply { document } => Some(document),
            _ => None,
        })
    }
}

/// What a command handler produced: the answer to the sender, and any changes and further
/// effects (announcements, timers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub reply: ReplyDocument,
    pub changes: Vec<Change>,
    pub effects: Vec<Effect>,
}

impl From<ReplyDocument> for Outcome {
    fn from(reply: ReplyDocument) -> Outcome {
        Outcome {
            reply,
            ..Outcome::default()
        }
    }
}

/// Everything a command handler may look at.
pub struct CommandContext<'a> {
    pub group: &'a Group,
    pub state: &'a GroupState,
    pub channel: Channel,
    /// The record the message answers, if the channel knows it (see [`Message::about`]).
    pub about: Option<&'a str>,
    pub sender: &'a SenderAddress,
    pub person: Option<&'a Person>,
    pub now: Timestamp,
    pub catalog: &'a Catalog,
    pub prefix: &'a str,
    /// The command line as typed, for commands that read the writer's own words.
    pub line: &'a str,
    /// See [`Message::poll_answer`].
    pub poll_answer: Option<AnswerChannel>,
    /// The lines of the message after the command line (a room message of several lines; by
    /// mail each command line is read alone, so this is empty there).
    pub following_lines: &'a str,
    /// See [`Message::private`].
    pub private: bool,
}

impl CommandContext<'_> {
    /// Whether the reply is seen by the group's room: the command was typed there, not by mail
    /// or in a direct message. Commands whose reply tells the room what happened announce it to
    /// the room themselves otherwise.
    pub fn reply_reaches_the_room(&self) -> bool {
        self.channel == Channel::Matrix && !self.private
    }

    /// The line as typed from the start of `token` (its opening quote, if quoted) to the end:
    /// the writer's own words, with their quotes and apostrophes.
    pub fn text_from(&self, token: &Token) -> &str {
        let start = self
            .line
            .char_indices()
            .nth(token.column.saturating_sub(1))
            .map(|(offset, _)| offset)
            .unwrap_or(self.line.len());
        self.line[start..].trim()
    }

    /// A syntax line from a command file, written with `!`, shown with the configured prefix.
    pub fn with_prefix(&self, syntax: &str) -> String {
        match syntax.strip_prefix('!') {
            Some(rest) => format!("{}{rest}", self.prefix),
            None => syntax.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Engine {
    catalog: Catalog,
    prefix: String,
}

impl Engine {
    pub fn new(catalog: Catalog, prefix: impl Into<String>) -> Engine {
        Engine {
            catalog,
            prefix: prefix.into(),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Decides on one input against the group's current state.
    pub fn decide(
        &self,
        state: &GroupState,
        group: &Group,
        input: &Input,
        now: Timestamp,
    ) -> Decision {
        match input {
            Input::Message(message) => self.decide_message(state, group, message, now),
            Input::Timer { key, due, timer } => {
                let (changes, effects) = match timer {
                    Timer::MeetingReminder { .. }
                    | Timer::ActionFollowUp { .. }
                    | Timer::MeetingSeries { .. }
                    | Timer::MeetingAutoEnd { .. } => crate::meetings::timers::on_timer(
                        state,
                        group,
                        timer,
                        *due,
                        now,
                        &self.prefix,
                    ),
                    Timer::ConsultationReminder { .. } | Timer::ConsultationClose { .. } => {
                        crate::consensus::timers::on_timer(state, group, timer, now, &self.prefix)
                    }
                    Timer::SurveyReminder { .. } | Timer::SurveyClose { .. } => {
                        crate::surveys::timers::on_timer(state, group, timer, now)
                    }
                    Timer::ProgressReportReminder { .. } => {
                        crate::record::deadlines::on_timer(group, timer)
                    }
                    Timer::PublishRecord => (Vec::new(), crate::record::publication::on_timer()),
                    Timer::PublicationReminder { .. } => {
                        crate::consensus::publication::on_timer(state, group, timer, &self.prefix)
                    }
                    _ => crate::feedback::timers::on_timer(
                        state,
                        group,
                        timer,
                        *due,
                        now,
                        &self.prefix,
                    ),
                };
                Decision {
                    command: Some(format!("timer {key}")),
                    disposition: Disposition::TimerFired,
                    changes,
                    effects,
                }
            }
        }
    }

    /// A plain command message with no reply context, against the given state.
    pub fn decide_command(
        &self,
        state: &GroupState,
        group: &Group,
        sender: &SenderAddress,
        body: &str,
        now: Timestamp,
    ) -> Decision {
        let message = Message::new(sender, body, Channel::Matrix);
        self.decide_message(state, group, &message, now)
    }

    pub fn decide_message(
        &self,
        state: &GroupState,
        group: &Group,
        message: &Message,
        now: Timestamp,
    ) -> Decision {
        let sender = message.sender;
        let translated;
        let body = if message.bare_word {
            translated = bare_word_command(message.body, message.about, state, &self.prefix);
            translated.as_str()
        } else {
            message.body
        };
        // Scribe lines (`present+`, `agreed: ...`) stand for commands without the prefix.
        let scribe_line;
        let command_line = match command_line(body, &self.prefix) {
            Some(line) => line,
            None => match crate::meetings::scribe::scribe_command(body, state, &self.prefix) {
                Some(line) => {
                    scribe_line = line;
                    scribe_line.as_str()
                }
                None if message.private => {
                    return reply_decision(
                        None,
                        Disposition::UnknownCommand,
                        private_conversation_hint(state, &self.prefix),
                    );
                }
                None => return Decision::not_a_command(),
            },
        };
        // A line over the cap is answered without being read (see `several.rs`).
        if command_line
            .chars()
            .nth(crate::several::COMMAND_LINE_CHARACTERS)
            .is_some()
        {
            let name_end = command_line
                .find(char::is_whitespace)
                .unwrap_or(command_line.len());
            let name: String = command_line[..name_end].chars().take(40).collect();
            return reply_decision(
                None,
                Disposition::BadArguments,
                crate::several::overlong_line_reply(&name),
            );
        }
        let tokenized = tokenize(command_line);
        let Some((name_token, arguments)) = tokenized.tokens.split_first() else {
            return Decision::not_a_command();
        };
        let typed_name = name_token
            .text
            .strip_prefix(self.prefix.as_str())
            .unwrap_or(&name_token.text)
            .to_ascii_lowercase();
        let person = group.identify(sender);
        let context = CommandContext {
            group,
            state,
            channel: message.channel,
            about: message.about,
            sender,
            person,
            now,
            catalog: &self.catalog,
            prefix: &self.prefix,
            line: command_line,
            poll_answer: message.poll_answer,
            following_lines: following_lines(body, command_line),
            private: message.private,
        };
        let Some(spec) = self.catalog.find(&typed_name) else {
            return reply_decision(
                None,
                Disposition::UnknownCommand,
                no_such_command_reply(&context, &typed_name, |name| {
                    format!("{}{name}", self.prefix)
                }),
            );
        };
        if let Some(problem) = tokenized.problems.first().filter(|_| !spec.free_text) {
            let problem = ArgumentProblem::new(problem.message.clone());
            return reply_decision(
                Some(spec),
                Disposition::BadArguments,
                usage_reply(&context, spec, &problem),
            );
        }
        let Some(handler) = commands::handler_for(&spec.name) else {
            // A command file without a handler is caught by a test; answering keeps the promise
            // that every command gets a reply even if that test were skipped.
            return reply_decision(
                Some(spec),
                Disposition::UnknownCommand,
                ReplyDocument::from_text(format!(
                    "{}{} is documented but not available in this version.",
                    self.prefix, spec.name
                )),
            );
        };
        let form_index = match (handler.choose_form)(arguments) {
            Ok(index) => index,
            Err(problem) => {
                return reply_decision(
                    Some(spec),
                    Disposition::BadArguments,
                    usage_reply(&context, spec, &problem),
                );
            }
        };
        let Some(form) = spec.forms.get(form_index) else {
            return reply_decision(
                Some(spec),
                Disposition::BadArguments,
                usage_reply(
                    &context,
                    spec,
                    &ArgumentProblem::new("this form is not documented"),
                ),
            );
        };
        let admitted = form.admits(person)
            || (form.admits_meeting_rapporteur()
                && person.is_some_and(|person| {
                    crate::meetings::minutes::is_meeting_rapporteur(state, person, now)
                }));
        if !admitted {
            return reply_decision(
                Some(spec),
                Disposition::NotPermitted,
                refusal_reply(&context, form),
            );
        }
        let outcome = handler.execute(&context, form_index, arguments);
        // An empty reply is no reply: a poll answered in the room's own poll is seen there.
        let mut effects = Vec::new();
        if !outcome.reply.blocks.is_empty() {
            effects.push(Effect::Reply {
                document: outcome.reply,
            });
        }
        effects.extend(outcome.effects);
        Decision {
            command: Some(spec.name.clone()),
            disposition: Disposition::Executed,
            changes: outcome.changes,
            effects,
        }
    }
}

/// A single bare word answering one of the bot's messages, as a command: `ack` and the
/// positions (`support`, `no-support`, ...) answer the request the bot's message was about;
/// `support` and `abstain` answer a call for consensus, an option's number a poll, `regrets`
/// a meeting; any other word is the command of that name (`roster`).
pub fn bare_word_command(
    word: &str,
    about: Option<&str>,
    state: &GroupState,
    prefix: &str,
) -> String {
    let word = word.trim().to_lowercase();
    let about_meeting =
        about.is_some_and(|about| crate::meetings::model::parse_meeting_label(about).is_some());
    let about_number = about.and_then(crate::feedback::model::parse_request_label);
    let about_call = about_number.is_some_and(|number| state.calls.contains_key(&number));
    let about_poll = about_number.is_some_and(|number| state.polls.contains_key(&number));
    match about {
        // "regrets" or "apologies" answering a meeting's invitation or reminder.
        Some(about) if about_meeting && matches!(word.as_str(), "regrets" | "apologies") => {
            format!("{prefix}regrets {about}")
        }
        Some(about) if about_call && matches!(word.as_str(), "support" | "object" | "abstain") => {
            format!("{prefix}{word} {about}")
        }
        Some(about) if about_poll && word.chars().all(|c| c.is_ascii_digit()) => {
            format!("{prefix}vote {about} {word}")
        }
        // A number answers only a poll; elsewhere a reply that starts with one is conversation.
        _ if !word.is_empty() && word.chars().all(|c| c.is_ascii_digit()) => String::new(),
        Some(about) if word == "ack" || word == "acknowledged" => format!("{prefix}ack {about}"),
        Some(about) if crate::feedback::model::Position::from_name(&word).is_some() => {
            format!("{prefix}respond {about} {word}")
        }
        _ => format!("{prefix}{word}"),
    }
}

/// "There is no command `!x`. Did you mean `!y`?" with a pointer to `!help`. The suggestion is
/// written by `suggest` from the closest command's name, so `!help rostr` can suggest
/// `!help roster` where `!rostr` suggests `!roster`.
pub fn no_such_command_reply(
    context: &CommandContext,
    typed_name: &str,
    suggest: impl Fn(&str) -> String,
) -> ReplyDocument {
    let mut line = LineBuilder::new()
        .text("There is no command ")
        .code(format!("{}{typed_name}", context.prefix))
        .text(".");
    if let Some(closest) = context.catalog.closest(typed_name) {
        line = line
            .text(" Did you mean ")
            .code(suggest(&closest.name))
            .text("?");
    }
    let mut document = ReplyDocument::new();
    document.push_line(line);
    document.push_line(
        LineBuilder::new()
            .text("Type ")
            .code(context.with_prefix("!help"))
            .text(" for the list of commands."),
    );
    document
}

/// The answer to a line without a command in a direct conversation with the bot: in a room,
/// chat is not the bot's business, but here every line is meant for it, so silence would leave
/// the writer wondering whether the bot works.
fn private_conversation_hint(state: &GroupState, prefix: &str) -> ReplyDocument {
    let open_surveys: Vec<String> = state
        .surveys
        .values()
        .filter(|survey| survey.is_open())
        .map(|survey| survey.label())
        .collect();
    let mut text = format!(
        "I read commands here, not conversation: {prefix}help lists them, and {prefix}help \
         <command> explains one."
    );
    if let Some(first) = open_surveys.first() {
        text.push_str(&format!(
            " Open survey{}: {}. To answer one here, privately, write {prefix}survey answer \
             {first} on the first line and your answers below it, one line per question, its \
             number first (1: ..., 2: ...); {prefix}survey show {first} shows the questions.",
            if open_surveys.len() == 1 { "" } else { "s" },
            open_surveys.join(", "),
        ));
    }
    ReplyDocument::from_text(text)
}

fn reply_decision(
    spec: Option<&CommandSpec>,
    disposition: Disposition,
    document: ReplyDocument,
) -> Decision {
    Decision {
        command: spec.map(|spec| spec.name.clone()),
        disposition,
        changes: Vec::new(),
        effects: vec![Effect::Reply { document }],
    }
}

fn usage_reply(
    context: &CommandContext,
    spec: &CommandSpec,
    problem: &ArgumentProblem,
) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .text("I could not read that ")
            .code(context.with_prefix(&format!("!{}", spec.name)))
            .text(format!(" command: {}.", problem.message)),
    );
    document.push_line(LineBuilder::new().text("Write it as:"));
    document.push_list(
        spec.forms
            .iter()
            .map(|form| LineBuilder::new().code(context.with_prefix(&form.syntax)))
            .collect(),
    );
    document.push_line(
        LineBuilder::new()
            .text("See ")
            .code(context.with_prefix(&format!("!help {}", spec.name)))
            .text(" for examples."),
    );
    document
}

/// "Only chairs or co-chairs of G may use `!x`." with the names of those who may, so the sender
/// knows whom to ask, and who the bot takes the sender for.
fn refusal_reply(context: &CommandContext, form: &super::catalog::CommandForm) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .text("Only ")
            .text(form.who_may_use_text())
            .text(format!(" of {} may use ", context.group.short_name))
            .code(context.with_prefix(&form.syntax))
            .text("."),
    );
    let who_may: Vec<String> = context
        .group
        .people
        .iter()
        .filter(|person| form.admits(Some(person)))
        .map(|person| format!("{} ({})", person.name, person.roles_text()))
        .collect();
    const NAMED_AT_MOST: usize = 8;
    if !who_may.is_empty() && who_may.len() <= NAMED_AT_MOST {
        document.push_line(LineBuilder::new().text(format!(
            "In {} that is {}.",
            context.group.short_name,
            who_may.join(", ")
        )));
    }
    let you_are = match context.person {
        Some(person) => format!(
            "You are {}, {}.",
            person.name,
            if person.roles.is_empty() {
                "with no role".to_string()
            } else {
                person.roles_text()
            }
        ),
        None => format!(
            "The {} group file does not list {}.",
            context.group.short_name, context.sender
        ),
    };
    document.push_line(LineBuilder::new().text(you_are));
    document
}

/// The text of `body` after `line`, when `line` is a part of `body` (the command line as found
/// by [`command_line`]); empty otherwise (a scribe line rewritten as a command).
fn following_lines<'a>(body: &'a str, line: &str) -> &'a str {
    let body_start = body.as_ptr() as usize;
    let line_start = line.as_ptr() as usize;
    if line_start < body_start || line_start + line.len() > body_start + body.len() {
        return "";
    }
    let end = line_start - body_start + line.len();
    // The line break that ends the command line goes; blank lines between paragraphs stay.
    let rest = body.get(end..).unwrap_or_default();
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))
        .unwrap_or(rest);
    if rest.trim().is_empty() {
        ""
    } else {
        rest.trim_end()
    }
}

/// The command line of a message: its first line that is not a reply quote, if that line starts
/// with the prefix followed directly by a command name. Matrix clients that still send reply
/// fallbacks put the quoted message first as `> ` lines, which must not hide the command.
pub fn command_line<'a>(body: &'a str, prefix: &str) -> Option<&'a str> {
    let line = body
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('>'))?;
    let rest = line.strip_prefix(prefix)?;
    let first = rest.chars().next()?;
    if !first.is_alphabetic() {
        return None;
    }
    let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let name_is_plain = rest[..name_end]
        .chars()
        .all(|character| character.is_alphanumeric() || character == '-' || character == '_');
    name_is_plain.then_some(line)
}

/// The name the user typed, for handlers that mention their own arguments.
pub fn describe_arguments(arguments: &[Token]) -> String {
    arguments
        .iter()
        .map(|token| format!("\"{}\"", token.text))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::test_support::small_group;

    fn engine() -> Engine {
        Engine::new(Catalog::builtin().expect("valid catalog"), "!")
    }

    fn now() -> Timestamp {
        "2026-11-25T16:00:00Z".parse().expect("valid")
    }

    fn decide(sender: &str, body: &str) -> Decision {
        engine().decide_command(
            &GroupState::default(),
            &small_group(),
            &SenderAddress::Matrix(sender.into()),
            body,
            now(),
        )
    }

    #[test]
    fn command_lines_are_recognised_only_at_the_start() {
        let cases = [
            ("!help", Some("!help")),
            ("  !help roster  ", Some("!help roster")),
            ("> <@a:b> earlier\n> text\n\n!ping", Some("!ping")),
            ("hello !help", None),
            ("!", None),
            ("!!!", None),
            ("! help", None),
            ("!123", None),
            ("!he/lp", None),
            ("", None),
        ];
        for (body, expected) in cases {
            assert_eq!(command_line(body, "!"), expected, "{body:?}");
        }
        assert_eq!(command_line("?help", "?"), Some("?help"));
    }

    #[test]
    fn dispositions_for_a_table_of_messages() {
        let chair = "@ana:example.org";
        let stranger = "@who:example.org";
        let cases = [
            (chair, "just chatting", Disposition::NotACommand),
            (chair, "!help", Disposition::Executed),
            (chair, "!HELP Roster", Disposition::Executed),
            (stranger, "!ping", Disposition::Executed),
            (chair, "!rooster", Disposition::UnknownCommand),
            (chair, "!roster a b c", Disposition::BadArguments),
            (chair, "!whoami \"Ana", Disposition::BadArguments),
            (
                stranger,
                "!whoami @ana:example.org",
                Disposition::NotPermitted,
            ),
            (chair, "!whoami @sam:example.org", Disposition::Executed),
        ];
        for (sender, body, expected) in cases {
            let decision = decide(sender, body);
            assert_eq!(decision.disposition, expected, "{sender} {body:?}");
            assert_eq!(
                decision.effects.is_empty(),
                expected == Disposition::NotACommand,
                "{body:?}"
            );
        }
    }

    #[test]
    fn refusal_names_who_may() {
        let decision = decide("@who:example.org", "!whoami \"Ana Lima\"");
        let text = decision.reply().expect("a reply").plain_text();
        assert!(
            text.contains("Only chairs, co-chairs or staff of TG may use"),
            "{text}"
        );
        assert!(text.contains("does not list @who:example.org"), "{text}");
    }

    #[test]
    fn bad_arguments_show_the_syntax() {
        let text = decide("@ana:example.org", "!roster a b")
            .reply()
            .expect("reply")
            .plain_text();
        assert!(text.contains("- `!roster`"), "{text}");
        assert!(text.contains("- `!roster <organization>`"), "{text}");
        assert!(text.contains("`!help roster`"), "{text}");
    }

    #[test]
    fn another_prefix_is_used_in_replies() {
        let engine = Engine::new(Catalog::builtin().expect("valid"), "?");
        let decision = engine.decide_command(
            &GroupState::default(),
            &small_group(),
            &SenderAddress::Matrix("@ana:example.org".into()),
            "?rooster",
            now(),
        );
        let text = decision.reply().expect("reply").plain_text();
        assert!(
            text.contains("`?roster`") && text.contains("`?help`"),
            "{text}"
        );
    }

    #[test]
    fn hostile_input_never_panics() {
        let inputs = [
            "!\u{0}",
            "!a\u{FFFF}",
            "!whoami \"",
            "!whoami '",
            "!roster \u{201C}",
            "!é",
            "!help \"\"",
            "!roster \"\"",
            "!whoami \"\"",
        ];
        for input in inputs {
            let _ = decide("@ana:example.org", input);
        }
    }
}
