//! Keeping the minutes during a meeting: `!topic`, `!info`, `!agreed` (also the scribe lines
//! `agreed:` and `resolved:`), `!action`, `!link`, `!undo`, and `!rapporteur`, who keeps them.

use super::find::{
    current_or_next, find_person_named, keeps_minutes, meeting_in_progress, meeting_title,
    no_meeting_in_progress,
};
use super::model::{Meeting, MinutesEntry, MinutesKind};
use super::render::action_summary;
use super::timers::{action_plan, action_timer_cancels};
use crate::commands::ArgumentProblem;
use crate::dates::{DeadlineRules, EndOfDay, parse_deadline};
use crate::directory::{DeadlineDayEnd, Person};
use crate::engine::{CommandContext, Outcome};
use crate::feedback::render::person_name;
use crate::reply::ReplyDocument;
use crate::state::{Change, GroupState};
use crate::tokenize::Token;

/// Every minutes command takes some text.
pub fn choose_text_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    if arguments.iter().all(|token| token.text.trim().is_empty()) {
        Err(ArgumentProblem::new("the text is missing"))
    } else {
        Ok(0)
    }
}

/// Splits the writer's text around a keyword standing alone (`due`, `alternate`): the text
/// before it and after it, at its last (or first) occurrence that has words after it.
pub fn split_at_word<'a>(text: &'a str, word: &str, last: bool) -> Option<(&'a str, &'a str)> {
    let mut found = None;
    let mut offset = 0;
    for piece in text.split_inclusive(char::is_whitespace) {
        let bare = piece.trim_end();
        let after = text[offset + piece.len()..].trim();
        if bare.eq_ignore_ascii_case(word) && !after.is_empty() {
            found = Some((text[..offset].trim(), after));
            if !last {
                break;
            }
        }
        offset += piece.len();
    }
    found
}

fn joined(arguments: &[Token]) -> String {
    arguments
        .iter()
        .map(|token| token.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

fn record(
    context: &CommandContext,
    meeting: &Meeting,
    kind: MinutesKind,
    text: String,
    reply: String,
) -> Outcome {
    let sender = context.person.expect("the forms admit only known people");
    Outcome {
        reply: ReplyDocument::from_text(reply),
        changes: vec![Change::MinutesRecorded {
            number: meeting.number,
            entry: MinutesEntry {
                kind,
                text,
                by: sender.id.clone(),
                at: context.now,
            },
        }],
        effects: Vec::new(),
    }
}

fn running<'a>(context: &'a CommandContext) -> Result<&'a Meeting, Outcome> {
    meeting_in_progress(context.state).ok_or_else(|| no_meeting_in_progress(context).into())
}

pub fn topic(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    plain_item(context, arguments, MinutesKind::Topic)
}

pub fn info(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    plain_item(context, arguments, MinutesKind::Info)
}

pub fn agreed(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    plain_item(context, arguments, MinutesKind::Agreed)
}

fn plain_item(context: &CommandContext, arguments: &[Token], kind: MinutesKind) -> Outcome {
    let meeting = match running(context) {
        Ok(meeting) => meeting,
        Err(outcome) => return outcome,
    };
    let text = context.text_from(&arguments[0]).to_string();
    let reply = format!("{} {}: {text}", kind.label(), meeting.label());
    record(context, meeting, kind, text, reply)
}

pub fn choose_link_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.first() {
        None => Err(ArgumentProblem::new("the address is missing")),
        Some(url) if is_web_address(&url.text) => Ok(0),
        Some(other) => Err(ArgumentProblem::new(format!(
            "\"{}\" is not a web address; it starts with https:// or http://",
            other.text
        ))),
    }
}

fn is_web_address(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && text.len() > "https://".len()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub fn link(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let meeting = match running(context) {
        Ok(meeting) => meeting,
        Err(outcome) => return outcome,
    };
    let url = arguments[0].text.clone();
    let text = arguments
        .get(1)
        .map(|token| context.text_from(token).to_string())
        .unwrap_or_default();
    let reply = if text.is_empty() {
        format!("Link {}: {url}", meeting.label())
    } else {
        format!("Link {}: {url} {text}", meeting.label())
    };
    record(context, meeting, MinutesKind::Link { url }, text, reply)
}

pub fn choose_action_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    if arguments.len() < 2 {
        Err(ArgumentProblem::new(
            "it takes the person and what they are to do",
        ))
    } else {
        Ok(0)
    }
}

/// The owner of an action item: the first word (or quoted name), or the first two or three
/// words when they make a full name, as people type `!action Ana Lima draft the note`.
fn owner_and_rest<'a>(
    context: &'a CommandContext,
    arguments: &'a [Token],
) -> Result<(&'a Person, &'a [Token]), ReplyDocument> {
    for words in (1..=3.min(arguments.len() - 1)).rev() {
        let name = joined(&arguments[..words]);
        if let Some(person) = context
            .group
            .find_person(&name)
            .or_else(|| context.group.person_by_id(&name))
        {
            return Ok((person, &arguments[words..]));
        }
    }
    find_person_named(context.group, &arguments[0].text).map(|person| (person, &arguments[1..]))
}

pub fn action(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let meeting = match running(context) {
        Ok(meeting) => meeting,
        Err(outcome) => return outcome,
    };
    let (owner, rest) = match owner_and_rest(context, arguments) {
        Ok(found) => found,
        Err(reply) => return reply.into(),
    };
    let rest_text = rest
        .first()
        .map(|token| context.text_from(token))
        .unwrap_or_default();
    let (text, due) = match split_at_word(rest_text, "due", true) {
        Some((before, due_text)) => {
            let rules = DeadlineRules {
                zone: &context.group.time_zone,
                end_of_day: match context.group.feedback.deadline_day_end {
                    DeadlineDayEnd::GroupZone => EndOfDay::GroupZone,
                    DeadlineDayEnd::AnywhereOnEarth => EndOfDay::AnywhereOnEarth,
                },
            };
            match parse_deadline(due_text, context.now, &rules) {
                Ok(due) if due > context.now => (before, Some(due)),
                Ok(_) => {
                    return ReplyDocument::from_text(
                        "That due date is in the past; give one to come, such as +2w or \
                         2026-12-20.",
                    )
                    .into();
                }
                Err(problem) => {
                    return ReplyDocument::from_text(format!(
                        "I could not read the due date: {problem}. Write it like 2026-12-20, \
                         +2w or friday."
                    ))
                    .into();
                }
            }
        }
        None => (rest_text, None),
    };
    let text = text.to_string();
    if text.is_empty() {
        return ReplyDocument::from_text(format!(
            "What is {} to do? Write it like {}.",
            owner.name,
            context.with_prefix("!action \"Ana Lima\" circulate the draft due +1w")
        ))
        .into();
    }
    let number = context.state.last_action_number + 1;
    let mut outcome = record(
        context,
        meeting,
        MinutesKind::Action {
            number,
            owner: owner.id.clone(),
            due,
        },
        text.clone(),
        format!(
            "Action {}",
            action_summary(context.group, number, &owner.id, &text, due)
        ),
    );
    let item = super::model::ActionItem {
        number,
        meeting: meeting.number,
        owner: owner.id.clone(),
        text,
        due,
        assigned_at: context.now,
        done: None,
        withdrawn: false,
        reminded: Vec::new(),
    };
    outcome.effects.extend(action_plan(&item, context.now));
    outcome
}

pub fn choose_undo_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments {
        [] => Ok(0),
        [other, ..] => Err(ArgumentProblem::new(format!(
            "\"{}\" is not understood; !undo takes back the last item and takes nothing",
            other.text
        ))),
    }
}

pub fn undo(context: &CommandContext, _form: usize, _arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the form admits only known people");
    let meeting = match running(context) {
        Ok(meeting) => meeting,
        Err(outcome) => return outcome,
    };
    let Some((index, line)) = meeting
        .minutes
        .iter()
        .enumerate()
        .rev()
        .find(|(_, line)| !line.undone)
    else {
        return ReplyDocument::from_text(format!(
            "The minutes of {} have no item to take back.",
            meeting.label()
        ))
        .into();
    };
    let mut effects = Vec::new();
    if let MinutesKind::Action { number, .. } = &line.entry.kind {
        effects.extend(action_timer_cancels(*number));
    }
    let what = match &line.entry.kind {
        MinutesKind::Action { number, owner, due } => format!(
            "Action {}",
            action_summary(context.group, *number, owner, &line.entry.text, *due)
        ),
        MinutesKind::Link { url } => format!("Link: {url} {}", line.entry.text)
            .trim_end()
            .to_string(),
        kind => format!("{}: {}", kind.label(), line.entry.text),
    };
    Outcome {
        reply: ReplyDocument::from_text(format!(
            "Taken back from the minutes of {}: {what}",
            meeting.label()
        )),
        changes: vec![Change::MinutesUndone {
            number: meeting.number,
            index,
            by: sender.id.clone(),
            at: context.now,
        }],
        effects,
    }
}

pub fn choose_rapporteur_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    if arguments.is_empty() {
        Err(ArgumentProblem::new("the person is missing"))
    } else {
        Ok(0)
    }
}

pub fn rapporteur(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the form admits only known people");
    let Some(meeting) = current_or_next(context.state, context.now) else {
        return no_meeting_in_progress(context).into();
    };
    let person = match find_person_named(context.group, &joined(arguments)) {
        Ok(person) => person,
        Err(reply) => return reply.into(),
    };
    if meeting.rapporteur.as_deref() == Some(person.id.as_str()) {
        return ReplyDocument::from_text(format!(
            "{} is already the rapporteur of {}.",
            person.name,
            meeting_title(context.group, meeting)
        ))
        .into();
    }
    let previous = meeting
        .rapporteur
        .as_deref()
        .map(|previous| format!(" (in place of {})", person_name(context.group, previous)))
        .unwrap_or_default();
    Outcome {
        reply: ReplyDocument::from_text(format!(
            "{} is the rapporteur of {}{previous}: they keep the minutes and may take back the \
             last item with {}.",
            person.name,
            meeting_title(context.group, meeting),
            context.with_prefix("!undo")
        )),
        changes: vec![Change::RapporteurChosen {
            number: meeting.number,
            person: person.id.clone(),
            by: sender.id.clone(),
            at: context.now,
        }],
        effects: Vec::new(),
    }
}

/// Whether a person may keep the minutes of the meeting a command is about: used by the engine
/// for forms open to "the meeting's rapporteur".
pub fn is_meeting_rapporteur(state: &GroupState, person: &Person, now: jiff::Timestamp) -> bool {
    current_or_next(state, now).is_some_and(|meeting| {
        meeting.rapporteur.as_deref() == Some(person.id.as_str()) && keeps_minutes(person, meeting)
    })
}
