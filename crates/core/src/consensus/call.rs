//! `!consensus`: a chair calls for consensus on a text (`call`), anyone lists the open calls and
//! polls or shows one call's tally by organization (`show`).

use super::find::{Consultation, find_consultation, open_list};
use super::model::ConsensusCall;
use super::render::{call_announcement, call_tally, poll_tally, subject};
use super::timers::consultation_plan;
use crate::commands::ArgumentProblem;
use crate::dates::{DeadlineRules, EndOfDay, parse_deadline};
use crate::directory::DeadlineDayEnd;
use crate::effects::{Audience, Effect};
use crate::engine::{CommandContext, Outcome};
use crate::feedback::model::Stamp;
use crate::meetings::minutes::split_at_word;
use crate::reply::ReplyDocument;
use crate::state::Change;
use crate::tokenize::Token;
use jiff::Timestamp;

const FORM_LIST: usize = 0;
const FORM_CALL: usize = 1;
const FORM_SHOW: usize = 2;

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    let Some(verb) = arguments.first() else {
        return Ok(FORM_LIST);
    };
    match verb.text.to_ascii_lowercase().as_str() {
        "call" if arguments.len() >= 2 => Ok(FORM_CALL),
        "call" => Err(ArgumentProblem::new(
            "the text to reach consensus on is missing (in quotes)",
        )),
        "show" | "status" if arguments.len() == 2 => Ok(FORM_SHOW),
        "show" | "status" => Err(ArgumentProblem::new(
            "name one call or poll by its ID, like R-5",
        )),
        other => Err(ArgumentProblem::new(format!(
            "\"{other}\" is not understood; use call or show"
        ))),
    }
}

pub fn consensus(context: &CommandContext, form: usize, arguments: &[Token]) -> Outcome {
    match form {
        FORM_CALL => call(context, &arguments[1]),
        FORM_SHOW => show(context, &arguments[1].text).into(),
        _ => ReplyDocument::from_text(open_list(context)).into(),
    }
}

fn show(context: &CommandContext, label: &str) -> ReplyDocument {
    match find_consultation(context, label) {
        Ok(Consultation::Call(call)) => call_tally(context.group, call),
        Ok(Consultation::Poll(poll)) => poll_tally(context.group, poll),
        Err(reply) => reply,
    }
}

/// The rules a closing date is read with: the group's zone, and its choice of where a day ends.
pub fn deadline_rules<'a>(context: &'a CommandContext<'a>) -> DeadlineRules<'a> {
    DeadlineRules {
        zone: &context.group.time_zone,
        end_of_day: match context.group.feedback.deadline_day_end {
            DeadlineDayEnd::GroupZone => EndOfDay::GroupZone,
            DeadlineDayEnd::AnywhereOnEarth => EndOfDay::AnywhereOnEarth,
        },
    }
}

/// Reads `closes <date>` at the end of the writer's words: the words before it and the instant.
pub fn closing_date<'a>(
    context: &CommandContext,
    text: &'a str,
) -> Result<(&'a str, Option<Timestamp>), ReplyDocument> {
    // Words inside the quoted text are the text's ("... closes next week"): only the words
    // after its closing quote can say when the call closes.
    let quoted_end = quoted_prefix_end(text);
    match split_at_word(&text[quoted_end..], "closes", true) {
        None => Ok((text, None)),
        Some((before, date)) => {
            // `before` is a part of `text`: the writer's text ends where it ends.
            let before_end =
                (before.as_ptr() as usize - text.as_ptr() as usize + before.len()).max(quoted_end);
            Ok((
                text[..before_end].trim(),
                Some(closing_instant(context, date)?),
            ))
        }
    }
}

/// Where a text that opens with a quote has its closing quote (just past it), or 0.
fn quoted_prefix_end(text: &str) -> usize {
    let trimmed_start = text.len() - text.trim_start().len();
    let mut characters = text[trimmed_start..].char_indices();
    let Some((_, open)) = characters.next() else {
        return 0;
    };
    let close = match open {
        '"' => '"',
        '\u{201C}' => '\u{201D}',
        '\'' => '\'',
        _ => return 0,
    };
    characters
        .find(|(_, character)| *character == close)
        .map(|(offset, character)| trimmed_start + offset + character.len_utf8())
        .unwrap_or(0)
}

/// A closing date as written (`2026-12-20`, `+2w`, `friday`), which must be to come.
pub fn closing_instant(context: &CommandContext, date: &str) -> Result<Timestamp, ReplyDocument> {
    match parse_deadline(date, context.now, &deadline_rules(context)) {
        Ok(closes) if closes > context.now => Ok(closes),
        Ok(_) => Err(ReplyDocument::from_text(
            "That closing date is in the past; give one to come, such as +2w or 2026-12-20.",
        )),
        Err(problem) => Err(ReplyDocument::from_text(format!(
            "I could not read the closing date: {problem}. Write it like 2026-12-20, +2w or \
             friday."
        ))),
    }
}

/// The writer's text without the quotes around all of it.
pub fn unquoted(text: &str) -> &str {
    let text = text.trim();
    for (open, close) in [('"', '"'), ('\u{201C}', '\u{201D}'), ('\'', '\'')] {
        if let Some(inner) = text
            .strip_prefix(open)
            .and_then(|rest| rest.strip_suffix(close))
            && !inner.contains(close)
        {
            return inner.trim();
        }
    }
    text
}

fn call(context: &CommandContext, first: &Token) -> Outcome {
    let sender = context.person.expect("the form admits only chairs");
    let (text, closes) = match closing_date(context, context.text_from(first)) {
        Ok(found) => found,
        Err(reply) => return reply.into(),
    };
    let text = unquoted(text).to_string();
    if text.is_empty() {
        return ReplyDocument::from_text(format!(
            "What is the call about? Write it like {}.",
            context.with_prefix("!consensus call \"Adopt the position paper v3\" closes +2w")
        ))
        .into();
    }
    let number = context.state.last_number + 1;
    let opened = Stamp {
        by: sender.id.clone(),
        at: context.now,
    };
    let call = ConsensusCall::new(number, text.clone(), closes, opened);
    let announcement = call_announcement(context.group, &call, context.prefix);
    let mail_subject = subject(
        context.group,
        &call.label(),
        "call for consensus",
        &call.text,
    );
    let mut effects = Vec::new();
    // The room sees the reply itself; a call made by mail is announced there too.
    let audiences = if context.reply_reaches_the_room() {
        vec![Audience::List]
    } else {
        vec![Audience::Room, Audience::List]
    };
    for audience in audiences {
        effects.push(Effect::Announce {
            audience,
            subject: mail_subject.clone(),
            about: Some(call.label()),
            document: announcement.clone(),
        });
    }
    effects.extend(consultation_plan(
        context.group,
        number,
        closes,
        context.now,
    ));
    // The reply is the announcement itself, on either channel: the writer sees what everyone
    // was told.
    let reply = announcement;
    Outcome {
        reply,
        changes: vec![Change::ConsensusCalled {
            number,
            text,
            closes,
            by: sender.id.clone(),
            at: context.now,
        }],
        effects,
    }
}
