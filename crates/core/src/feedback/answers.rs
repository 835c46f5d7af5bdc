//! An organization's answers to a request (`!ack`, `!respond`, `!extend`) and the chair's
//! decision on more time (`!grant`, `!refuse`). A later answer replaces an earlier one; both
//! stay in the request's history.

use super::commands::{
    addressed_organization, answering_for, at_least, find_open_request, leading_deadline,
    read_deadline, refuse_with, require_future, rest_text, text_reply,
};
use super::model::{ExtensionState, Position};
use super::render::{request_title, subject, when};
use super::timers::{after_changes, replan};
use crate::commands::ArgumentProblem;
use crate::effects::{Audience, Effect};
use crate::engine::{CommandContext, Outcome};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::Change;
use crate::tokenize::Token;

pub fn choose_ack_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.len() {
        0 => Err(ArgumentProblem::new(
            "the request ID (such as R-3) is missing",
        )),
        1 => Ok(0),
        _ => Err(ArgumentProblem::new(
            "it takes only the request ID; comments go with !respond",
        )),
    }
}

pub fn choose_respond_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.len() {
        0 => Err(ArgumentProblem::new(
            "the request ID and the position are missing",
        )),
        1 => Err(ArgumentProblem::new("the position is missing")),
        _ => Ok(0),
    }
}

pub fn choose_extend_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.len() {
        0 => Err(ArgumentProblem::new(
            "the request ID and the date are missing",
        )),
        1 => Err(ArgumentProblem::new("the date you ask for is missing")),
        _ => Ok(0),
    }
}

pub fn choose_grant_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.len() {
        0 | 1 => Err(ArgumentProblem::new(
            "the request ID and the organization are missing",
        )),
        2 => Ok(0),
        _ => Ok(1),
    }
}

pub fn choose_refuse_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    at_least(arguments, 2, "the request ID or the organization", 0)
}

/// A line telling how late an answer is, if it is.
fn lateness(context: &CommandContext, due: jiff::Timestamp) -> Option<String> {
    (context.now > due).then(|| {
        format!(
            " This is after the deadline of {}.",
            when(context.group, due)
        )
    })
}

pub fn ack(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let request = match find_open_request(context, &arguments[0]) {
        Ok(request) => request,
        Err(reply) => return refuse_with(reply),
    };
    let (person, _, organization) = match answering_for(context, request) {
        Ok(found) => found,
        Err(reply) => return refuse_with(reply),
    };
    let status = &request.organizations[organization];
    if let Some(stamp) = &status.acknowledged {
        return text_reply(format!(
            "{organization} already acknowledged {} on {} ({}). Respond with {}.",
            request_title(request),
            when(context.group, stamp.at),
            super::render::person_name(context.group, &stamp.by),
            context.with_prefix(&format!(
                "!respond {} <position> [comments]",
                request.label()
            ))
        ))
        .into();
    }
    let changes = vec![Change::Acknowledged {
        number: request.number,
        organization: organization.clone(),
        by: person.id.clone(),
        at: context.now,
    }];
    let after = after_changes(request, &changes);
    let respond_by = after.respond_by_for(&after.organizations[organization]);
    let mut text = format!(
        "Recorded: {organization} acknowledges {}. Its response is due by {}.",
        request_title(request),
        when(context.group, respond_by)
    );
    if let Some(late) = lateness(context, request.acknowledge_by) {
        text.push_str(&late);
    }
    Outcome {
        reply: text_reply(text),
        effects: vec![replan(context.group, &after, context.now)],
        changes,
    }
}

pub fn respond(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let request = match find_open_request(context, &arguments[0]) {
        Ok(request) => request,
        Err(reply) => return refuse_with(reply),
    };
    let accepted = Position::accepted_for(request.kind);
    let names: Vec<&str> = accepted.iter().map(|position| position.name()).collect();
    let position = match Position::from_name(&arguments[1].text) {
        Some(position) if accepted.contains(&position) => position,
        _ => {
            let mut document = ReplyDocument::new();
            document.push_line(
                LineBuilder::new()
                    .text("I could not read that ")
                    .code(context.with_prefix("!respond"))
                    .text(format!(
                        " command: \"{}\" is not a position {} accepts.",
                        arguments[1].text,
                        request.label()
                    )),
            );
            document.push_line(
                LineBuilder::new()
                    .text("Write it as ")
                    .code(context.with_prefix(&format!(
                        "!respond {} {} [comments]",
                        request.label(),
                        names.join("|")
                    )))
                    .text("."),
            );
            return refuse_with(document);
        }
    };
    let (person, _, organization) = match answering_for(context, request) {
        Ok(found) => found,
        Err(reply) => return refuse_with(reply),
    };
    let comments = rest_text(arguments, 2);
    if position == Position::NoSupport && comments.is_none() {
        let mut document = ReplyDocument::new();
        document.push_line(LineBuilder::new().text(format!(
            "A response of no-support must give {organization}'s reasons, so that the group can address them (the charter asks for them)."
        )));
        document.push_line(
            LineBuilder::new()
                .text("Write it as ")
                .code(context.with_prefix(&format!(
                    "!respond {} no-support <the reasons>",
                    request.label()
                ))),
        );
        return refuse_with(document);
    }
    let status = &request.organizations[organization];
    let mut changes = Vec::new();
    if status.acknowledged.is_none() {
        // A response is also the acknowledgement it implies.
        changes.push(Change::Acknowledged {
            number: request.number,
            organization: organization.clone(),
            by: person.id.clone(),
            at: context.now,
        });
    }
    changes.push(Change::Responded {
        number: request.number,
        organization: organization.clone(),
        position,
        text: comments.clone(),
        by: person.id.clone(),
        at: context.now,
    });
    let mut text = format!(
        "Recorded: {organization} responds {position} to {}",
        request_title(request)
    );
    if let Some(comments) = &comments {
        text.push_str(&format!(", with \"{comments}\""));
    }
    text.push('.');
    if let Some(previous) = &status.response {
        text.push_str(&format!(
            " This replaces its response of {}, given {}; both stay in the history.",
            previous.position,
            when(context.group, previous.stamp.at)
        ));
    }
    if let Some(late) = lateness(context, request.respond_by_for(status)) {
        text.push_str(&late);
    }
    let after = after_changes(request, &changes);
    let outstanding = after.not_responded().len();
    text.push_str(&format!(
        " {} of {} organizations have responded.",
        after.organizations.len() - outstanding,
        after.organizations.len()
    ));
    Outcome {
        reply: text_reply(text),
        effects: vec![replan(context.group, &after, context.now)],
        changes,
    }
}

pub fn extend(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let request = match find_open_request(context, &arguments[0]) {
        Ok(request) => request,
        Err(reply) => return refuse_with(reply),
    };
    let (person, _, organization) = match answering_for(context, request) {
        Ok(found) => found,
        Err(reply) => return refuse_with(reply),
    };
    let (until, reason_start) = match leading_deadline(context, "extend", arguments, 1) {
        Ok(found) => found,
        Err(reply) => return refuse_with(reply),
    };
    let status = &request.organizations[organization];
    let current = request.respond_by_for(status);
    if until <= current {
        return text_reply(format!(
            "{organization}'s response is already due by {}; ask for a later date.",
            when(context.group, current)
        ))
        .into();
    }
    let reason = rest_text(arguments, reason_start);
    let mut changes = Vec::new();
    if status.acknowledged.is_none() {
        // Asking for more time answers the request's first question: it has been received.
        changes.push(Change::Acknowledged {
            number: request.number,
            organization: organization.clone(),
            by: person.id.clone(),
            at: context.now,
        });
    }
    changes.push(Change::ExtensionRequested {
        number: request.number,
        organization: organization.clone(),
        until,
        reason: reason.clone(),
        by: person.id.clone(),
        at: context.now,
    });
    let mut to_chairs = ReplyDocument::new();
    to_chairs.push_line(LineBuilder::new().text(format!(
        "{organization} asks for more time on {}: until {} instead of {}{}.",
        request_title(request),
        when(context.group, until),
        when(context.group, current),
        reason
            .as_ref()
            .map(|reason| format!(", because \"{reason}\""))
            .unwrap_or_default()
    )));
    to_chairs.push_line(
        LineBuilder::new()
            .text("A chair decides with ")
            .code(context.with_prefix(&format!("!grant {} {organization}", request.label())))
            .text(" or ")
            .code(context.with_prefix(&format!(
                "!refuse {} {organization} [reason]",
                request.label()
            )))
            .text("."),
    );
    Outcome {
        reply: text_reply(format!(
            "Recorded: {organization} asks for an extension of {} until {}. The chairs have been asked to decide; until then the response stays due by {}.",
            request_title(request),
            when(context.group, until),
            when(context.group, current)
        )),
        changes,
        effects: vec![Effect::Announce {
            audience: Audience::Chairs,
            subject: subject(context.group, request, "extension asked"),
            about: Some(request.label()),
            document: to_chairs,
        }],
    }
}

pub fn grant(context: &CommandContext, form: usize, arguments: &[Token]) -> Outcome {
    let request = match find_open_request(context, &arguments[0]) {
        Ok(request) => request,
        Err(reply) => return refuse_with(reply),
    };
    let (organization, status) = match addressed_organization(request, &arguments[1]) {
        Ok(found) => found,
        Err(reply) => return refuse_with(reply),
    };
    let asked = status
        .extension
        .as_ref()
        .filter(|extension| extension.state == ExtensionState::Requested);
    let until = if form == 1 {
        let text = rest_text(arguments, 2).unwrap_or_default();
        match read_deadline(context, "grant", &text)
            .and_then(|until| require_future(context, "new deadline", until))
        {
            Ok(until) => until,
            Err(reply) => return refuse_with(reply),
        }
    } else {
        match asked {
            Some(extension) => extension.until,
            None => {
                let mut document = ReplyDocument::new();
                document.push_line(
                    LineBuilder::new()
                        .text(format!(
                            "{organization} has not asked for more time on {}. To set a new deadline anyway, write ",
                            request.label()
                        ))
                        .code(context.with_prefix(&format!(
                            "!grant {} {organization} <date>",
                            request.label()
                        )))
                        .text("."),
                );
                return refuse_with(document);
            }
        }
    };
    let by = context
        .person
        .map(|person| person.id.clone())
        .unwrap_or_default();
    let changes = vec![Change::ExtensionGranted {
        number: request.number,
        organization: organization.clone(),
        until,
        by,
        at: context.now,
    }];
    let after = after_changes(request, &changes);
    let mut notice = ReplyDocument::new();
    notice.push_line(LineBuilder::new().text(format!(
        "More time granted: {organization}'s response to {} is now due by {}.",
        request_title(request),
        when(context.group, until)
    )));
    Outcome {
        reply: text_reply(format!(
            "Granted: {organization} now responds to {} by {}. This counts as its updated timeframe.",
            request_title(request),
            when(context.group, until)
        )),
        changes,
        effects: vec![
            Effect::Announce {
                audience: Audience::Organizations(vec![organization.clone()]),
                subject: subject(context.group, request, "extension granted"),
                about: Some(request.label()),
                document: notice,
            },
            replan(context.group, &after, context.now),
        ],
    }
}

pub fn refuse(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let request = match find_open_request(context, &arguments[0]) {
        Ok(request) => request,
        Err(reply) => return refuse_with(reply),
    };
    let (organization, status) = match addressed_organization(request, &arguments[1]) {
        Ok(found) => found,
        Err(reply) => return refuse_with(reply),
    };
    if !status
        .extension
        .as_ref()
        .is_some_and(|extension| extension.state == ExtensionState::Requested)
    {
        return text_reply(format!(
            "{organization} has no request for more time on {} waiting for a decision.",
            request.label()
        ))
        .into();
    }
    let reason = rest_text(arguments, 2);
    let by = context
        .person
        .map(|person| person.id.clone())
        .unwrap_or_default();
    let respond_by = request.respond_by_for(status);
    let changes = vec![Change::ExtensionRefused {
        number: request.number,
        organization: organization.clone(),
        reason: reason.clone(),
        by,
        at: context.now,
    }];
    let mut notice = ReplyDocument::new();
    notice.push_line(LineBuilder::new().text(format!(
        "More time refused: {organization}'s response to {} stays due by {}{}.",
        request_title(request),
        when(context.group, respond_by),
        reason
            .as_ref()
            .map(|reason| format!(" (\"{reason}\")"))
            .unwrap_or_default()
    )));
    Outcome {
        reply: text_reply(format!(
            "Refused: {organization}'s response to {} stays due by {}.",
            request_title(request),
            when(context.group, respond_by)
        )),
        changes,
        effects: vec![Effect::Announce {
            audience: Audience::Organizations(vec![organization.clone()]),
            subject: subject(context.group, request, "extension refused"),
            about: Some(request.label()),
            document: notice,
        }],
    }
}
