//! What becomes of a call or poll: `!designate R-5 <level> [text]` (the chair adopts a position
//! at one of the levels of the group's charter), `!minority R-5 <text>` (a member who disagreed
//! files a minority view, published with the outcome) and `!chair-report R-5 [adopt [text]]`
//! (a draft of the Chair's report of the contentious issues, to edit and adopt).

use super::find::{Consultation, find_consultation};
use super::model::{PUBLICATION_LIMIT_DAYS, Stance};
use super::render::{call_tally, poll_tally, subject};
use super::tally::tally;
use crate::commands::ArgumentProblem;
use crate::directory::Group;
use crate::engine::{CommandContext, Outcome};
use crate::feedback::model::request_label;
use crate::feedback::render::{person_name, when};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::Change;
use crate::tokenize::Token;
use jiff::{SignedDuration, Timestamp};

pub fn choose_designate_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.len() {
        0 => Err(ArgumentProblem::new(
            "name the call or poll by its ID, like R-5",
        )),
        1 => Err(ArgumentProblem::new("the designation is missing")),
        _ => Ok(0),
    }
}

/// The designation the text starts with (the longest the group file knows, in any case, quoted
/// or not) and the words after it.
fn designation_and_text<'a>(group: &'a Group, text: &'a str) -> Option<(&'a str, &'a str)> {
    let text = text.trim();
    let (level_text, rest, quoted) = match text.strip_prefix('"') {
        Some(inner) => match inner.find('"') {
            Some(end) => (&inner[..end], &inner[end + 1..], true),
            None => (inner, "", true),
        },
        None => (text, "", false),
    };
    let mut known: Vec<&String> = group.consensus_designations.iter().collect();
    known.sort_by_key(|level| std::cmp::Reverse(level.len()));
    for level in known {
        if quoted {
            if level_text.trim().eq_ignore_ascii_case(level) {
                return Some((level.as_str(), rest.trim()));
            }
            continue;
        }
        let Some(head) = text.get(..level.len()) else {
            continue;
        };
        let after = &text[level.len()..];
        if head.eq_ignore_ascii_case(level)
            && (after.is_empty() || after.starts_with(|c: char| c.is_whitespace() || c == ':'))
        {
            return Some((level.as_str(), after.trim_start_matches(':').trim()));
        }
    }
    None
}

/// The date by which an outcome adopted at `adopted` must be published.
pub fn publish_by(adopted: Timestamp) -> Timestamp {
    adopted + SignedDuration::from_hours(24 * PUBLICATION_LIMIT_DAYS)
}

pub fn designate(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the form admits only chairs");
    let consultation = match find_consultation(context, &arguments[0].text) {
        Ok(found) => found,
        Err(reply) => return reply.into(),
    };
    let written = context.text_from(&arguments[1]);
    let Some((level, text)) = designation_and_text(context.group, written) else {
        return ReplyDocument::from_text(format!(
            "\"{}\" is not a designation of {}. Its charter knows: {}. Write it like {}.",
            super::render::shortened(written, 40),
            context.group.short_name,
            context.group.consensus_designations.join(", "),
            context.with_prefix(&format!(
                "!designate R-{} {} the text as adopted",
                consultation.number(),
                context
                    .group
                    .consensus_designations
                    .first()
                    .map(String::as_str)
                    .unwrap_or("Consensus")
            ))
        ))
        .into();
    };
    let text = (!text.is_empty()).then(|| super::call::unquoted(text).to_string());
    let number = consultation.number();
    let mut changes = Vec::new();
    let mut effects = super::timers::consultation_cancels(context.group, number);
    if let Consultation::Poll(poll) = consultation
        && poll.is_open()
    {
        let (closing_changes, closing_effects) = super::timers::poll_closing(
            context.group,
            context.state,
            poll,
            Some(&sender.id),
            context.now,
            context.prefix,
        );
        changes.extend(closing_changes);
        effects.extend(closing_effects);
    }
    changes.push(Change::OutcomeDesignated {
        number,
        level: level.to_string(),
        text: text.clone(),
        by: sender.id.clone(),
        at: context.now,
    });
    // The announcement shows the outcome as it now stands, the designation included.
    let mut after = context.state.clone();
    for change in &changes {
        after.apply(change);
    }
    let mut document = match (after.calls.get(&number), after.polls.get(&number)) {
        (Some(call), _) => call_tally(context.group, call),
        (_, Some(poll)) => poll_tally(context.group, poll),
        _ => ReplyDocument::new(),
    };
    document.push_line(
        LineBuilder::new()
            .text("Members who disagree may file a minority view with ")
            .code(context.with_prefix(&format!("!minority R-{number} <text>")))
            .text(format!(
                ". To be published by {} (within {PUBLICATION_LIMIT_DAYS} days of adoption).",
                when(context.group, publish_by(context.now))
            )),
    );
    if let Some(line) =
        crate::record::permalink_line(context.group, &format!("outcomes/r-{number}"))
    {
        document.push_line(line);
    }
    let mail_subject = subject(
        context.group,
        &request_label(number),
        &format!("designated {level}"),
        &consultation.title(),
    );
    effects.extend(super::render::to_room_and_list(
        &mail_subject,
        &request_label(number),
        &document,
    ));
    // Staff are reminded before the publication limit, counted from this designation.
    effects.extend(super::publication::reminders(
        number,
        context.now,
        context.now,
    ));
    let replaced = consultation
        .outcome()
        .designation
        .as_ref()
        .map(|earlier| format!(" (it was {})", earlier.level))
        .unwrap_or_default();
    Outcome {
        reply: ReplyDocument::from_text(format!(
            "Designated R-{number} {level}{replaced}, adopted {}; announced to the room and the \
             list. To be published by {}.",
            when(context.group, context.now),
            when(context.group, publish_by(context.now))
        )),
        changes,
        effects,
    }
}

pub fn choose_minority_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.len() {
        0 => Err(ArgumentProblem::new(
            "name the call or poll by its ID, like R-5",
        )),
        1 => Err(ArgumentProblem::new(
            "the text of the minority view is missing",
        )),
        _ => Ok(0),
    }
}

/// A hidden poll tells nothing of its answers while it is open, not even through who may
/// file a minority view or what a Chair's report would say.
fn refuse_while_hidden(
    context: &CommandContext,
    consultation: Consultation,
) -> Result<(), ReplyDocument> {
    match consultation {
        Consultation::Poll(poll) if !poll.tally_visible() => {
            Err(ReplyDocument::from_text(format!(
                "{} is hidden until it closes; this waits for its close ({}).",
                super::render::poll_title(poll),
                context.with_prefix(&format!("!poll close {}", poll.label()))
            )))
        }
        _ => Ok(()),
    }
}

pub fn minority(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the form admits only known people");
    let consultation = match find_consultation(context, &arguments[0].text) {
        Ok(found) => found,
        Err(reply) => return reply.into(),
    };
    if let Err(reply) = refuse_while_hidden(context, consultation) {
        return reply.into();
    }
    // A minority view is the view of someone who disagreed: an objection to a call, or an
    // answer to a poll other than the one most members chose.
    let disagreed = match consultation {
        Consultation::Call(call) => call
            .answers
            .get(&sender.id)
            .is_some_and(|answer| answer.stance == Stance::Object),
        Consultation::Poll(poll) => {
            let counts = tally(context.group, |person| {
                poll.answers.get(person).map(|answer| answer.option)
            })
            .counted;
            let most = counts.values().copied().max().unwrap_or(0);
            poll.answers
                .get(&sender.id)
                .is_some_and(|answer| counts.get(&answer.option).copied().unwrap_or(0) < most)
        }
    };
    if !disagreed {
        let what = match consultation {
            Consultation::Call(_) => "objected to",
            Consultation::Poll(_) => "chose an answer other than the most supported one in",
        };
        return ReplyDocument::from_text(format!(
            "A minority view is filed by a member who {what} R-{}; the record does not show \
             that you did. {} shows the answers.",
            consultation.number(),
            context.with_prefix(&format!("!consensus show R-{}", consultation.number()))
        ))
        .into();
    }
    let text = super::call::unquoted(context.text_from(&arguments[1])).to_string();
    let replaces = consultation
        .outcome()
        .minority_views
        .iter()
        .any(|view| view.person == sender.id);
    Outcome {
        reply: ReplyDocument::from_text(format!(
            "Filed: {}'s minority view on R-{}{}; it is published with the outcome.",
            sender.name,
            consultation.number(),
            if replaces {
                ", in place of the earlier one"
            } else {
                ""
            }
        )),
        changes: vec![Change::MinorityViewFiled {
            number: consultation.number(),
            person: sender.id.clone(),
            text,
            at: context.now,
        }],
        effects: Vec::new(),
    }
}

pub fn choose_chair_report_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments {
        [] => Err(ArgumentProblem::new(
            "name the call or poll by its ID, like R-5",
        )),
        [_] => Ok(0),
        [_, verb, ..] if verb.text.eq_ignore_ascii_case("adopt") => Ok(1),
        [_, other, ..] => Err(ArgumentProblem::new(format!(
            "\"{}\" is not understood; write adopt to adopt the report",
            other.text
        ))),
    }
}

/// The draft of the Chair's report: the question, each position with the reasons given, the
/// open objections and who has not answered.
pub fn chair_report_draft(group: &Group, consultation: Consultation) -> String {
    let mut lines = Vec::new();
    match consultation {
        Consultation::Call(call) => {
            lines.push(format!("Chair's report on {}", call.label()));
            lines.push(format!("Question: {}", call.text));
            lines.push(format!(
                "Called by {} on {}.",
                person_name(group, &call.opened.by),
                when(group, call.opened.at)
            ));
            let counted = tally(group, |person| {
                call.answers.get(person).map(|answer| answer.stance)
            });
            for stance in super::model::Stance::ALL {
                let people: Vec<String> = call
                    .answers
                    .iter()
                    .filter(|(_, answer)| answer.stance == stance)
                    .map(|(person, answer)| {
                        let who = group
                            .person_by_id(person)
                            .map(|found| match &found.organization {
                                Some(organization) => format!("{} ({organization})", found.name),
                                None => found.name.clone(),
                            })
                            .unwrap_or_else(|| person.clone());
                        match &answer.reason {
                            Some(reason) => format!("  - {who}: {reason}"),
                            None => format!("  - {who}"),
                        }
                    })
                    .collect();
                if !people.is_empty() {
                    lines.push(format!("{}:", stance.heading()));
                    lines.extend(people);
                }
            }
            let silent = counted.silent_organizations();
            if !silent.is_empty() {
                lines.push(format!("No answer (no objection): {}.", silent.join(", ")));
            }
            let open: Vec<String> = call
                .objections()
                .map(|(person, answer)| {
                    format!(
                        "  - {}: {}",
                        person_name(group, person),
                        answer.reason.as_deref().unwrap_or("(no reason given)")
                    )
                })
                .collect();
            if open.is_empty() {
                lines.push("Open objections: none.".to_string());
            } else {
                lines.push("Open objections:".to_string());
                lines.extend(open);
            }
        }
        Consultation::Poll(poll) => {
            lines.push(format!("Chair's report on {}", poll.label()));
            lines.push(format!("Question: {}", poll.question));
            lines.push(format!(
                "Polled by {} on {}.",
                person_name(group, &poll.opened.by),
                when(group, poll.opened.at)
            ));
            for (number, option) in poll.numbered_options() {
                let people: Vec<String> = poll
                    .answers
                    .iter()
                    .filter(|(_, answer)| answer.option + 1 == number)
                    .map(|(person, _)| person_name(group, person))
                    .collect();
                lines.push(format!(
                    "{number}. {option}: {}",
                    if people.is_empty() {
                        "nobody".to_string()
                    } else {
                        people.join(", ")
                    }
                ));
            }
            let silent = tally(group, |person| {
                poll.answers.get(person).map(|answer| answer.option)
            })
            .silent_organizations()
            .join(", ");
            if !silent.is_empty() {
                lines.push(format!("No answer: {silent}."));
            }
        }
    }
    for view in &consultation.outcome().minority_views {
        lines.push(format!(
            "Minority view of {}: {}",
            person_name(group, &view.person),
            view.text
        ));
    }
    lines.join("\n")
}

pub fn chair_report(context: &CommandContext, form: usize, arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the form admits only chairs");
    let consultation = match find_consultation(context, &arguments[0].text) {
        Ok(found) => found,
        Err(reply) => return reply.into(),
    };
    if let Err(reply) = refuse_while_hidden(context, consultation) {
        return reply.into();
    }
    let number = consultation.number();
    let draft = chair_report_draft(context.group, consultation);
    if form == 0 {
        let mut reply = ReplyDocument::new();
        reply.push_line(LineBuilder::new().text(format!(
            "Draft of the Chair's report on R-{number}, to edit and adopt:"
        )));
        reply.push_preformatted(draft);
        reply.push_line(
            LineBuilder::new()
                .text("Adopt it as it is with ")
                .code(context.with_prefix(&format!("!chair-report R-{number} adopt")))
                .text(", or send your edited text after ")
                .code(context.with_prefix(&format!("!chair-report R-{number} adopt ")))
                .text("."),
        );
        return reply.into();
    }
    // The edited report: the words after "adopt" and the lines after the command line (a
    // report pasted into the room keeps its paragraphs), or the draft as it stands.
    let on_the_line = arguments
        .get(2)
        .map(|token| context.text_from(token))
        .unwrap_or_default();
    let text = [on_the_line, context.following_lines]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let text = if text.is_empty() { draft } else { text };
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().strong(format!(
        "Chair's report on R-{number} adopted by {}",
        sender.name
    )));
    document.push_preformatted(text.clone());
    let mut effects = Vec::new();
    let mail_subject = subject(
        context.group,
        &request_label(number),
        "Chair's report",
        &consultation.title(),
    );
    effects.extend(super::render::to_room_and_list(
        &mail_subject,
        &request_label(number),
        &document,
    ));
    // The publication limit runs from the designation, if there is one.
    let adopted = consultation
        .outcome()
        .designation
        .as_ref()
        .map_or(context.now, |designation| designation.stamp.at);
    effects.extend(super::publication::reminders(number, adopted, context.now));
    let reply = ReplyDocument::from_text(format!(
        "Adopted the Chair's report on R-{number}; announced to the room and the list. To be \
         published by {}.",
        when(context.group, publish_by(context.now))
    ));
    Outcome {
        reply,
        changes: vec![Change::ChairReportAdopted {
            number,
            text,
            by: sender.id.clone(),
            at: context.now,
        }],
        effects,
    }
}
