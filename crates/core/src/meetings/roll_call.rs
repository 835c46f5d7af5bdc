//! The roll call: `!present` (and the scribe forms `present+`, `present+ <name>`), `!left`, and
//! apologies with `!regrets` (also `regrets+`), before or during a meeting, by chat or mail.

use super::find::{
    current_or_next, find_meeting, find_person_named, looks_like_meeting, meeting_in_progress,
    meeting_title, no_meeting_in_progress, person_with_seat, scheduled_list,
};
use super::model::AttendanceMode;
use crate::commands::ArgumentProblem;
use crate::directory::Person;
use crate::engine::{CommandContext, Outcome};
use crate::reply::ReplyDocument;
use crate::state::Change;
use crate::tokenize::Token;

pub const FORM_PRESENT: usize = 0;
pub const FORM_PRESENT_HOW: usize = 1;
pub const FORM_PRESENT_FOR: usize = 2;

pub fn choose_present_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments {
        [] => Ok(FORM_PRESENT),
        [how] if AttendanceMode::from_name(&how.text).is_some() => Ok(FORM_PRESENT_HOW),
        [first, rest @ ..] if first.text.eq_ignore_ascii_case("for") => {
            if rest.is_empty() {
                Err(ArgumentProblem::new("the person after \"for\" is missing"))
            } else {
                Ok(FORM_PRESENT_FOR)
            }
        }
        [other, ..] => Err(ArgumentProblem::new(format!(
            "\"{}\" is not understood; say remote or in-person, or for <person>",
            other.text
        ))),
    }
}

pub fn present(context: &CommandContext, form: usize, arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the forms admit only known people");
    let Some(meeting) = meeting_in_progress(context.state) else {
        return no_meeting_in_progress(context).into();
    };
    let (person, mode) = match form {
        FORM_PRESENT => (sender, None),
        FORM_PRESENT_HOW => (sender, AttendanceMode::from_name(&arguments[0].text)),
        _ => {
            let mut name_tokens = &arguments[1..];
            let mut mode = None;
            if let [rest @ .., last] = name_tokens
                && !rest.is_empty()
                && let Some(how) = AttendanceMode::from_name(&last.text)
            {
                mode = Some(how);
                name_tokens = rest;
            }
            let name: Vec<&str> = name_tokens
                .iter()
                .map(|token| token.text.as_str())
                .collect();
            match find_person_named(context.group, &name.join(" ")) {
                Ok(person) => (person, mode),
                Err(reply) => return reply.into(),
            }
        }
    };
    if let Some(attendance) = meeting.attendance.get(&person.id)
        && attendance.left.is_none()
        && (mode.is_none() || mode == attendance.mode)
    {
        return ReplyDocument::from_text(format!(
            "{} already recorded as present at {} since {}{}.",
            subject_is(person, sender),
            meeting.label(),
            attendance.joined.strftime("%H:%M UTC"),
            attendance
                .mode
                .map(|mode| format!(", {}", mode.name()))
                .unwrap_or_default()
        ))
        .into();
    }
    let mut text = format!(
        "Recorded: {} present at {} \"{}\"{}.",
        person_with_seat(person),
        meeting.label(),
        meeting.title,
        mode.map(|mode| format!(", {}", mode.name()))
            .unwrap_or_default()
    );
    if !person.occupies_seat() {
        text.push_str(" Participants, observers and staff do not count for an organization.");
    }
    Outcome {
        reply: ReplyDocument::from_text(text),
        changes: vec![Change::Attended {
            number: meeting.number,
            person: person.id.clone(),
            mode,
            by: sender.id.clone(),
            at: context.now,
        }],
        effects: Vec::new(),
    }
}

fn subject_is(person: &Person, sender: &Person) -> String {
    if person.id == sender.id {
        "You are".to_string()
    } else {
        format!("{} is", person.name)
    }
}

pub fn choose_left_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments {
        [] => Ok(0),
        [other, ..] => Err(ArgumentProblem::new(format!(
            "\"{}\" is not understood; !left takes nothing",
            other.text
        ))),
    }
}

pub fn left(context: &CommandContext, _form: usize, _arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the form admits only known people");
    let Some(meeting) = meeting_in_progress(context.state) else {
        return no_meeting_in_progress(context).into();
    };
    if !meeting.is_present(&sender.id) {
        return ReplyDocument::from_text(format!(
            "You are not recorded as present at {}; {} records you.",
            meeting.label(),
            context.with_prefix("!present")
        ))
        .into();
    }
    Outcome {
        reply: ReplyDocument::from_text(format!(
            "Recorded: {} left {} at {}.",
            sender.name,
            meeting.label(),
            context.now.strftime("%H:%M UTC")
        )),
        changes: vec![Change::LeftMeeting {
            number: meeting.number,
            person: sender.id.clone(),
            at: context.now,
        }],
        effects: Vec::new(),
    }
}

pub fn choose_regrets_form(_arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    Ok(0)
}

pub fn regrets(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the form admits only known people");
    // A mail answering a meeting's invitation or reminder is about that meeting.
    let answered = context
        .about
        .and_then(super::model::parse_meeting_label)
        .and_then(|number| context.state.meetings.get(&number));
    let (meeting, rest) = match (arguments.first(), answered) {
        (Some(first), _) if looks_like_meeting(&first.text) => {
            match find_meeting(context, &first.text) {
                Ok(meeting) => (meeting, &arguments[1..]),
                Err(reply) => return reply.into(),
            }
        }
        (_, Some(meeting)) => (meeting, arguments),
        _ => match current_or_next(context.state, context.now) {
            Some(meeting) => (meeting, arguments),
            None => {
                return ReplyDocument::from_text(format!(
                    "There is no meeting to send regrets for. {}",
                    scheduled_list(context)
                ))
                .into();
            }
        },
    };
    if meeting.is_cancelled() || meeting.has_ended() {
        return ReplyDocument::from_text(format!(
            "{} {}; regrets are for meetings to come. {}",
            meeting_title(context.group, meeting),
            if meeting.is_cancelled() {
                "was cancelled"
            } else {
                "has been held"
            },
            scheduled_list(context)
        ))
        .into();
    }
    if meeting.is_present(&sender.id) {
        return ReplyDocument::from_text(format!(
            "You are recorded as present at {}; say {} first if you are leaving.",
            meeting.label(),
            context.with_prefix("!left")
        ))
        .into();
    }
    let words = rest
        .first()
        .map(|token| context.text_from(token))
        .unwrap_or_default();
    let clean = |text: &str| {
        let text = text.trim().trim_end_matches([',', ';']).trim();
        let text = text
            .strip_prefix(['"', '\u{201C}'])
            .and_then(|inner| inner.strip_suffix(['"', '\u{201D}']))
            .unwrap_or(text)
            .trim();
        (!text.is_empty()).then(|| text.to_string())
    };
    let ends_with_alternate = words
        .split_whitespace()
        .last()
        .is_some_and(|word| word.eq_ignore_ascii_case("alternate"));
    if ends_with_alternate {
        return ReplyDocument::from_text(
            "The alternate's name is missing after \"alternate\"; write it like alternate \
             \"Jane Doe\".",
        )
        .into();
    }
    let (reason, alternate) = match super::minutes::split_at_word(words, "alternate", false) {
        Some((before, after)) => (clean(before), clean(after)),
        None => (clean(words), None),
    };
    let again = meeting.regrets.contains_key(&sender.id);
    let mut text = format!(
        "{} your regrets for {}",
        if again { "Updated" } else { "Recorded" },
        meeting_title(context.group, meeting)
    );
    if let Some(reason) = &reason {
        text.push_str(&format!(": {reason}"));
    }
    if let Some(alternate) = &alternate {
        text.push_str(&format!("; alternate: {alternate}"));
    }
    text.push('.');
    Outcome {
        reply: ReplyDocument::from_text(text),
        changes: vec![Change::RegretsSent {
            number: meeting.number,
            person: sender.id.clone(),
            reason,
            alternate,
            by: sender.id.clone(),
            at: context.now,
        }],
        effects: Vec::new(),
    }
}
