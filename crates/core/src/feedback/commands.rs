//! The commands about feedback requests, and what they share: finding the request a command
//! names, checking that the sender may answer for an organization, and reading deadlines.

use super::model::{FeedbackRequest, RequestState, parse_request_label};
use super::render::{request_title, when};
use crate::commands::{ArgumentProblem, Execute, Handler};
use crate::dates::{ACCEPTED_FORMS, DeadlineRules, EndOfDay, parse_deadline};
use crate::directory::{DeadlineDayEnd, Organization, Person, Role};
use crate::engine::{CommandContext, Outcome};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::tokenize::Token;
use jiff::Timestamp;

pub fn handler_for(name: &str) -> Option<Handler> {
    let handler = match name {
        "request" => Handler {
            choose_form: super::manage::choose_request_form,
            execute: Execute::Act(super::manage::request),
        },
        "requests" => Handler {
            choose_form: super::reports::choose_requests_form,
            execute: Execute::Answer(super::reports::requests),
        },
        "status" => Handler {
            choose_form: super::reports::choose_status_form,
            execute: Execute::Answer(super::reports::status),
        },
        "ack" => Handler {
            choose_form: super::answers::choose_ack_form,
            execute: Execute::Act(super::answers::ack),
        },
        "respond" => Handler {
            choose_form: super::answers::choose_respond_form,
            execute: Execute::Act(super::answers::respond),
        },
        "extend" => Handler {
            choose_form: super::answers::choose_extend_form,
            execute: Execute::Act(super::answers::extend),
        },
        "grant" => Handler {
            choose_form: super::answers::choose_grant_form,
            execute: Execute::Act(super::answers::grant),
        },
        "refuse" => Handler {
            choose_form: super::answers::choose_refuse_form,
            execute: Execute::Act(super::answers::refuse),
        },
        "remind" => Handler {
            choose_form: super::manage::choose_remind_form,
            execute: Execute::Act(super::manage::remind),
        },
        "report" => Handler {
            choose_form: super::report::choose_report_form,
            execute: Execute::Answer(super::report::report),
        },
        _ => return None,
    };
    Some(handler)
}

/// A reply that refuses: one document, no changes.
pub fn refuse_with(document: ReplyDocument) -> Outcome {
    document.into()
}

pub fn text_reply(text: impl Into<String>) -> ReplyDocument {
    ReplyDocument::from_text(text)
}

/// Requires at least `count` arguments, naming what is missing.
pub fn at_least(
    arguments: &[Token],
    count: usize,
    missing: &str,
    form: usize,
) -> Result<usize, ArgumentProblem> {
    if arguments.len() < count {
        Err(ArgumentProblem::new(format!("{missing} is missing")))
    } else {
        Ok(form)
    }
}

/// The open requests as a list line, for replies that name an unknown request.
fn open_requests_text(context: &CommandContext) -> String {
    let open: Vec<String> = context
        .state
        .requests
        .values()
        .filter(|request| request.is_open())
        .map(request_title)
        .collect();
    if open.is_empty() {
        format!("{} has no open requests.", context.group.short_name)
    } else {
        format!("Open requests: {}.", open.join(", "))
    }
}

/// The request a command names, or the reply that says why there is none.
pub fn find_request<'a>(
    context: &'a CommandContext,
    token: &Token,
) -> Result<&'a FeedbackRequest, ReplyDocument> {
    let Some(number) = parse_request_label(&token.text) else {
        return Err(text_reply(format!(
            "\"{}\" is not a request ID; IDs look like R-3. {}",
            token.text,
            open_requests_text(context)
        )));
    };
    if let Some(call) = context.state.calls.get(&number) {
        return Err(text_reply(format!(
            "R-{number} is a call for consensus, not a feedback request: answer it with {}, {} \
             or {}.",
            context.with_prefix(&format!("!support {}", call.label())),
            context.with_prefix(&format!("!object {} <reason>", call.label())),
            context.with_prefix(&format!("!abstain {}", call.label())),
        )));
    }
    if let Some(poll) = context.state.polls.get(&number) {
        return Err(text_reply(format!(
            "R-{number} is a poll, not a feedback request: answer it with {}.",
            context.with_prefix(&format!("!vote {} <option number>", poll.label())),
        )));
    }
    context.state.request(number).ok_or_else(|| {
        text_reply(format!(
            "There is no request R-{number} in {}. {}",
            context.group.short_name,
            open_requests_text(context)
        ))
    })
}

/// Refuses an answer to a closed request, saying when it closed.
pub fn require_open(
    context: &CommandContext,
    request: &FeedbackRequest,
) -> Result<(), ReplyDocument> {
    match &request.state {
        RequestState::Open => Ok(()),
        RequestState::Closed { at, .. } => Err(text_reply(format!(
            "{} was closed on {}; answers are no longer recorded.",
            request_title(request),
            when(context.group, *at)
        ))),
    }
}

/// The open request a command names, or the reply that says why it cannot be acted on.
pub fn find_open_request<'a>(
    context: &'a CommandContext,
    token: &Token,
) -> Result<&'a FeedbackRequest, ReplyDocument> {
    let request = find_request(context, token)?;
    require_open(context, request)?;
    Ok(request)
}

/// The addressed organization a chair's command names, or the reply that lists those addressed.
pub fn addressed_organization<'a>(
    request: &'a FeedbackRequest,
    token: &Token,
) -> Result<(&'a String, &'a super::model::OrganizationStatus), ReplyDocument> {
    request.organization(&token.text).ok_or_else(|| {
        text_reply(format!(
            "{} is not addressed to \"{}\"; it went to {}.",
            request_title(request),
            token.text,
            request.organizations.names_text()
        ))
    })
}

/// The organization the sender answers for, or why their answer cannot count.
pub fn answering_for<'a>(
    context: &'a CommandContext,
    request: &'a FeedbackRequest,
) -> Result<(&'a Person, &'a Organization, &'a String), ReplyDocument> {
    let group = context.group;
    let Some(person) = context.person else {
        return Err(text_reply(format!(
            "The {} group file does not list {}, so an answer from this address cannot count for an organization.",
            group.short_name, context.sender
        )));
    };
    let organization = person
        .organization
        .as_deref()
        .and_then(|name| group.organization(name));
    let Some(organization) = organization.filter(|_| person.has_role(Role::Member)) else {
        let what = if person.roles.is_empty() {
            "with no role".to_string()
        } else {
            person.roles_text()
        };
        let from = person
            .organization
            .as_deref()
            .map(|name| format!(" from {name}"))
            .unwrap_or_default();
        return Err(text_reply(format!(
            "You are {} ({what}{from}): only a member appointed by an organization answers for it, so your answer does not count.",
            person.name
        )));
    };
    let Some((addressed_name, _)) = request.organization(&organization.short_name) else {
        return Err(text_reply(format!(
            "{} is not addressed to {}; it went to {}.",
            request_title(request),
            organization.short_name,
            request.organizations.names_text()
        )));
    };
    if !group.may_answer_for(person, organization) {
        let designated: Vec<String> = organization
            .answerers
            .iter()
            .map(|id| super::render::person_name(group, id))
            .collect();
        return Err(text_reply(format!(
            "Only {} may answer for {} (the group file designates them).",
            designated.join(", "),
            organization.short_name
        )));
    }
    Ok((person, organization, addressed_name))
}

/// The rules deadlines are read with in this group.
fn deadline_rules<'a>(context: &'a CommandContext) -> DeadlineRules<'a> {
    DeadlineRules {
        zone: &context.group.time_zone,
        end_of_day: match context.group.feedback.deadline_day_end {
            DeadlineDayEnd::GroupZone => EndOfDay::GroupZone,
            DeadlineDayEnd::AnywhereOnEarth => EndOfDay::AnywhereOnEarth,
        },
    }
}

/// Reads a deadline, or says what was wrong and which forms are accepted.
pub fn read_deadline(
    context: &CommandContext,
    command: &str,
    text: &str,
) -> Result<Timestamp, ReplyDocument> {
    parse_deadline(text, context.now, &deadline_rules(context)).map_err(|problem| {
        let mut document = ReplyDocument::new();
        document.push_line(
            LineBuilder::new()
                .text("I could not read that ")
                .code(context.with_prefix(&format!("!{command}")))
                .text(format!(" command: {problem}.")),
        );
        document.push_line(LineBuilder::new().text(format!(
            "Write dates in one of these forms (a date alone means the end of that day, {}):",
            match context.group.feedback.deadline_day_end {
                DeadlineDayEnd::GroupZone => context.group.time_zone_name.clone(),
                DeadlineDayEnd::AnywhereOnEarth => "anywhere on Earth".to_string(),
            }
        )));
        document.push_list(
            ACCEPTED_FORMS
                .iter()
                .map(|form| match form.split_once(" - ") {
                    Some((examples, meaning)) => {
                        let mut line = LineBuilder::new();
                        for (index, example) in examples.split(" or ").enumerate() {
                            if index > 0 {
                                line = line.text(" or ");
                            }
                            line = line.code(example);
                        }
                        line.text(format!(": {meaning}"))
                    }
                    None => LineBuilder::new().code(*form),
                })
                .collect(),
        );
        document
    })
}

/// A deadline written in the past is refused: it is almost always a typing mistake.
pub fn require_future(
    context: &CommandContext,
    what: &str,
    instant: Timestamp,
) -> Result<Timestamp, ReplyDocument> {
    if instant <= context.now {
        Err(text_reply(format!(
            "The {what} {} is in the past; give a later date.",
            when(context.group, instant)
        )))
    } else {
        Ok(instant)
    }
}

/// The words of the arguments from `start`, joined with spaces: free text such as a reason.
pub fn rest_text(arguments: &[Token], start: usize) -> Option<String> {
    let text = arguments
        .get(start..)
        .unwrap_or_default()
        .iter()
        .map(|token| token.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The longest run of words from `start` (at most four) that reads as a deadline, and where the
/// words after it begin: `!extend R-3 in 2 weeks waiting for our council` has the date `in 2
/// weeks` and the reason after it.
pub fn leading_deadline(
    context: &CommandContext,
    command: &str,
    arguments: &[Token],
    start: usize,
) -> Result<(Timestamp, usize), ReplyDocument> {
    let available = arguments.len().saturating_sub(start).min(4);
    for length in (1..=available).rev() {
        let text = arguments[start..start + length]
            .iter()
            .map(|token| token.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        // Tried quietly: only the reading finally refused is explained to the sender.
        if let Ok(instant) = parse_deadline(&text, context.now, &deadline_rules(context)) {
            return Ok((instant, start + length));
        }
    }
    let first = arguments
        .get(start)
        .map(|token| token.text.as_str())
        .unwrap_or_default();
    read_deadline(context, command, first).map(|instant| (instant, start + 1))
}

/// Whether the sender is a chair or co-chair (for texts; permissions come from the command
/// files).
pub fn is_chair(person: Option<&Person>) -> bool {
    person.is_some_and(|person| person.has_role(Role::Chair) || person.has_role(Role::CoChair))
}
