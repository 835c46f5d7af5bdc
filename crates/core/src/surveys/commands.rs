//! `!survey`: open a survey from the group file (its questionnaire is mailed to every member
//! and participant), answer it by mail, see how many answered, close it (its results are
//! published only when enough people answered, as counts and free-text answers).

use super::ballot::read_ballot;
use super::model::{BallotAnswer, Survey, SurveyForm, parse_survey_label};
use super::render::{AnswerBy, questionnaire, results};
use super::timers::{survey_cancels, survey_plan};
use crate::commands::ArgumentProblem;
use crate::directory::{Group, Person, Role};
use crate::effects::{Audience, Effect};
use crate::engine::{Channel, CommandContext, Outcome};
use crate::feedback::model::Stamp;
use crate::feedback::render::when;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::Change;
use crate::tokenize::Token;

const FORM_LIST: usize = 0;
const FORM_OPEN: usize = 1;
const FORM_CLOSE: usize = 2;
const FORM_ANSWER: usize = 3;
const FORM_SHOW: usize = 4;

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    let Some(verb) = arguments.first() else {
        return Ok(FORM_LIST);
    };
    match (verb.text.to_ascii_lowercase().as_str(), arguments.len()) {
        ("list" | "status", 1) => Ok(FORM_LIST),
        ("open", 2..) => Ok(FORM_OPEN),
        ("close", 2) => Ok(FORM_CLOSE),
        ("answer", 2..) => Ok(FORM_ANSWER),
        ("show", 2) => Ok(FORM_SHOW),
        ("open", _) => Err(ArgumentProblem::new(
            "name the survey of the group file to open",
        )),
        ("close" | "answer" | "show", _) => {
            Err(ArgumentProblem::new("name the survey by its ID, like S-1"))
        }
        (other, _) => Err(ArgumentProblem::new(format!(
            "\"{other}\" is not understood; use open, show, answer, close or list"
        ))),
    }
}

pub fn survey(context: &CommandContext, form: usize, arguments: &[Token]) -> Outcome {
    match form {
        FORM_OPEN => open(context, &arguments[1..]),
        FORM_CLOSE => close(context, &arguments[1].text),
        FORM_ANSWER => answer(context, &arguments[1..]),
        FORM_SHOW => show(context, &arguments[1].text).into(),
        _ => list(context).into(),
    }
}

/// Who is asked: the appointed members and the participants.
pub fn respondents(group: &Group) -> impl Iterator<Item = &Person> {
    group
        .people
        .iter()
        .filter(|person| person.occupies_seat() || person.has_role(Role::Participant))
}

fn list(context: &CommandContext) -> ReplyDocument {
    if context.state.surveys.is_empty() {
        let known: Vec<&str> = context
            .group
            .surveys
            .iter()
            .map(|form| form.id.as_str())
            .collect();
        return ReplyDocument::from_text(if known.is_empty() {
            format!(
                "{} has run no survey, and its group file names none.",
                context.group.short_name
            )
        } else {
            format!(
                "{} has run no survey yet. Its group file names: {}.",
                context.group.short_name,
                known.join(", ")
            )
        });
    }
    let mut document = ReplyDocument::new();
    document
        .push_line(LineBuilder::new().text(format!("Surveys of {}:", context.group.short_name)));
    let asked = respondents(context.group).count();
    document.push_list(
        context
            .state
            .surveys
            .values()
            .map(|survey| {
                let state = match (survey.closed, survey.closes) {
                    (Some(at), _) => format!("closed {}", when(context.group, at)),
                    (None, Some(closes)) => format!("open until {}", when(context.group, closes)),
                    (None, None) => "open".to_string(),
                };
                LineBuilder::new().text(format!(
                    "{} \"{}\": {state}; {} of {asked} answered",
                    survey.label(),
                    survey.form.title,
                    survey.answered.len()
                ))
            })
            .collect(),
    );
    document
}

fn find_form<'a>(group: &'a Group, name: &str) -> Option<&'a SurveyForm> {
    let name = name.trim().trim_end_matches(".toml");
    group
        .surveys
        .iter()
        .find(|form| form.id.eq_ignore_ascii_case(name))
}

fn open(context: &CommandContext, arguments: &[Token]) -> Outcome {
    let sender = context
        .person
        .expect("the form admits only chairs and staff");
    let Some(form) = find_form(context.group, &arguments[0].text) else {
        let known: Vec<&str> = context
            .group
            .surveys
            .iter()
            .map(|form| form.id.as_str())
            .collect();
        return ReplyDocument::from_text(if known.is_empty() {
            format!(
                "{} names no survey; a survey's questions are in a file the group file lists \
                 under [[surveys]].",
                context.group.short_name
            )
        } else {
            format!(
                "{} names no survey \"{}\"; it names: {}.",
                context.group.short_name,
                arguments[0].text,
                known.join(", ")
            )
        })
        .into();
    };
    let closes = match arguments.get(1) {
        None => None,
        Some(word) if word.text.eq_ignore_ascii_case("closes") && arguments.len() > 2 => {
            let date = arguments[2..]
                .iter()
                .map(|token| token.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            match crate::consensus::call::closing_instant(context, &date) {
                Ok(closes) => Some(closes),
                Err(reply) => return reply.into(),
            }
        }
        Some(other) => {
            return ReplyDocument::from_text(format!(
                "\"{}\" is not understood after the survey; write {}.",
                other.text,
                context.with_prefix(&format!("!survey open {} closes 2026-12-31", form.id))
            ))
            .into();
        }
    };
    let number = context.state.last_survey_number + 1;
    let opened = Stamp {
        by: sender.id.clone(),
        at: context.now,
    };
    let survey = Survey::new(number, form.clone(), closes, opened);
    let document = questionnaire(context.group, &survey, AnswerBy::MailReply);
    let subject = format!(
        "[{}] {}: survey ({})",
        context.group.short_name,
        survey.label(),
        survey.form.title
    );
    // The questionnaire goes by mail, one to each person: an answer given in the room would be
    // seen by everyone.
    let (by_mail, without_address): (Vec<&Person>, Vec<&Person>) =
        respondents(context.group).partition(|person| !person.emails.is_empty());
    let mut effects: Vec<Effect> = by_mail
        .iter()
        .map(|person| Effect::Announce {
            audience: Audience::Person(person.id.clone()),
            subject: subject.clone(),
            about: Some(survey.label()),
            document: document.clone(),
        })
        .collect();
    let notice = ReplyDocument::from_text(format!(
        "{label} survey \"{}\" is open{}: each member and participant got the questions by \
         mail. Answer that mail, or in a direct message with me ({prefix}survey show {label} \
         there shows the questions). Answers are stored without names; results are published \
         at the close if at least {} people answered.",
        survey.form.title,
        closes
            .map(|closes| format!(" until {}", when(context.group, closes)))
            .unwrap_or_default(),
        survey.form.minimum_answers,
        label = survey.label(),
        prefix = context.prefix,
    ));
    if !context.reply_reaches_the_room() {
        effects.push(Effect::Announce {
            audience: Audience::Room,
            subject: subject.clone(),
            about: Some(survey.label()),
            document: notice.clone(),
        });
    }
    effects.extend(survey_plan(context.group, number, closes, context.now));
    let mut reply = notice;
    if !without_address.is_empty() {
        reply.push_line(LineBuilder::new().text(format!(
            "Not mailed the questions, for want of a mail address in the group file (they can \
             answer in a direct message with me): {}.",
            without_address
                .iter()
                .map(|person| person.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Outcome {
        reply,
        changes: vec![Change::SurveyOpened {
            number,
            form: form.clone(),
            closes,
            by: sender.id.clone(),
            at: context.now,
        }],
        effects,
    }
}

/// The questions of a survey, with how to answer them by command: for those who answer in a
/// direct message, and for anyone who lost the mail.
fn show(context: &CommandContext, label: &str) -> ReplyDocument {
    match find_survey(context, label) {
        Ok(survey) => questionnaire(context.group, survey, AnswerBy::Command(context.prefix)),
        Err(reply) => reply,
    }
}

fn find_survey<'a>(context: &'a CommandContext, text: &str) -> Result<&'a Survey, ReplyDocument> {
    parse_survey_label(text)
        .and_then(|number| context.state.surveys.get(&number))
        .ok_or_else(|| {
            let surveys: Vec<String> = context
                .state
                .surveys
                .values()
                .map(|survey| format!("{} \"{}\"", survey.label(), survey.form.title))
                .collect();
            ReplyDocument::from_text(if surveys.is_empty() {
                format!("\"{}\" names no survey; none was opened.", text.trim())
            } else {
                format!(
                    "\"{}\" names no survey; surveys: {}.",
                    text.trim(),
                    surveys.join(", ")
                )
            })
        })
}

fn close(context: &CommandContext, label: &str) -> Outcome {
    let sender = context
        .person
        .expect("the form admits only chairs and staff");
    let survey = match find_survey(context, label) {
        Ok(survey) => survey,
        Err(reply) => return reply.into(),
    };
    if !survey.is_open() {
        return ReplyDocument::from_text(format!("{} is already closed.", survey.label())).into();
    }
    let (changes, effects) = closing(context.group, survey, Some(&sender.id), context.now);
    Outcome {
        reply: ReplyDocument::from_text(format!(
            "Closed {} with {} answers; {}",
            survey.label(),
            survey.ballots.len(),
            if survey.ballots.len() as u32 >= survey.form.minimum_answers {
                "its results go to the room and the list."
            } else {
                "too few to publish results without telling people apart: nothing is published."
            }
        )),
        changes,
        effects,
    }
}

/// Closing a survey, by a person or at its closing date: the results go to the room and the
/// list when enough people answered; otherwise only that it closed.
pub fn closing(
    group: &Group,
    survey: &Survey,
    by: Option<&str>,
    now: jiff::Timestamp,
) -> (Vec<Change>, Vec<Effect>) {
    let mut effects = survey_cancels(group, survey.number);
    let document = results(group, survey);
    let subject = format!(
        "[{}] {}: results ({})",
        group.short_name,
        survey.label(),
        survey.form.title
    );
    effects.extend(crate::consensus::render::to_room_and_list(
        &subject,
        &survey.label(),
        &document,
    ));
    (
        vec![Change::SurveyClosed {
            number: survey.number,
            by: by.map(str::to_string),
            at: now,
        }],
        effects,
    )
}

/// Free-text answers without lines that are only the writer's name (a signature written
/// right under the answer): the ballot names nobody.
fn without_own_name(ballot: Vec<BallotAnswer>, person: &Person) -> Vec<BallotAnswer> {
    let first_name = person.name.split_whitespace().next().unwrap_or_default();
    let is_name = |line: &str| {
        let line = line.trim().trim_start_matches(['-', '–', '—']).trim();
        line.eq_ignore_ascii_case(&person.name) || line.eq_ignore_ascii_case(first_name)
    };
    ballot
        .into_iter()
        .map(|answer| match answer {
            BallotAnswer::Text(text) => {
                let kept: Vec<&str> = text.lines().filter(|line| !is_name(line)).collect();
                let kept = kept.join("\n").trim().to_string();
                if kept.is_empty() {
                    BallotAnswer::Skipped
                } else {
                    BallotAnswer::Text(kept)
                }
            }
            other => other,
        })
        .collect()
}

fn answer(context: &CommandContext, arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the form admits only known people");
    let survey = match find_survey(context, &arguments[0].text) {
        Ok(survey) => survey,
        Err(reply) => return reply.into(),
    };
    if context.channel == Channel::Matrix && !context.private {
        return ReplyDocument::from_text(format!(
            "Answer {label} in a direct message with me (start one and send {prefix}survey \
             answer {label} with your answers there), or by mail, answering the questionnaire \
             you were sent: an answer here is seen by everyone in the room.",
            label = survey.label(),
            prefix = context.prefix,
        ))
        .into();
    }
    if !survey.is_open() {
        return ReplyDocument::from_text(format!(
            "{} is closed; it takes no more answers.",
            survey.label()
        ))
        .into();
    }
    if !(sender.occupies_seat() || sender.has_role(Role::Participant)) {
        return ReplyDocument::from_text(format!(
            "{} asks the members and participants of {}; the group file lists you as {}.",
            survey.label(),
            context.group.short_name,
            sender.roles_text()
        ))
        .into();
    }
    if survey.answered.contains(&sender.id) {
        return ReplyDocument::from_text(format!(
            "You have already answered {}. Answers cannot be changed: they are stored without \
             your name, so nothing links your answer to you.",
            survey.label()
        ))
        .into();
    }
    let written = [
        arguments
            .get(1)
            .map(|token| context.text_from(token))
            .unwrap_or_default(),
        context.following_lines,
    ]
    .join("\n");
    let ballot = match read_ballot(&survey.form, &written) {
        Ok(ballot) => without_own_name(ballot, sender),
        Err(problems) => {
            let mut reply = ReplyDocument::new();
            reply.push_line(LineBuilder::new().text(format!(
                "Your answers to {} were not recorded:",
                survey.label()
            )));
            reply.push_list(
                problems
                    .into_iter()
                    .map(|problem| LineBuilder::new().text(problem))
                    .collect(),
            );
            reply.push_line(LineBuilder::new().text(
                "Answer the questionnaire mail again with one line per question, its number first, such as \"1: 4\".",
            ));
            return reply.into();
        }
    };
    Outcome {
        reply: ReplyDocument::from_text(format!(
            "Thank you, {}: your answers to {} are recorded without your name.",
            sender.name,
            survey.label(),
        )),
        changes: vec![
            Change::SurveyAnswered {
                number: survey.number,
                person: sender.id.clone(),
            },
            Change::SurveyBallot {
                number: survey.number,
                answers: ballot,
            },
        ],
        effects: Vec::new(),
    }
}
