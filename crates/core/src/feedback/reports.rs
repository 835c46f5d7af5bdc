//! Reading the record: `!status R-3` (every organization's standing) and `!requests` (the open
//! requests with counts). Both are public: anyone may read them.

use super::commands::{find_request, text_reply};
use super::model::RequestState;
use super::render::{person_name, request_title, status_line, when};
use crate::commands::ArgumentProblem;
use crate::engine::CommandContext;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::tokenize::Token;

pub fn choose_status_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.len() {
        0 => Err(ArgumentProblem::new(
            "the request ID (such as R-3) is missing; !requests lists them",
        )),
        1 => Ok(0),
        _ => Err(ArgumentProblem::new("it takes one request ID")),
    }
}

pub fn choose_requests_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments {
        [] => Ok(0),
        [all] if all.text.eq_ignore_ascii_case("all") => Ok(1),
        _ => Err(ArgumentProblem::new(
            "it takes nothing, or all to include closed requests",
        )),
    }
}

pub fn status(context: &CommandContext, _form: usize, arguments: &[Token]) -> ReplyDocument {
    let request = match find_request(context, &arguments[0]) {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    let group = context.group;
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .strong(request_title(request))
            .text(format!(
                ", opened {} by {}.",
                when(group, request.opened.at),
                person_name(group, &request.opened.by)
            )),
    );
    match &request.state {
        RequestState::Open => document.push_line(LineBuilder::new().text(format!(
            "Acknowledge by {}; respond by {}.",
            when(group, request.acknowledge_by),
            when(group, request.respond_by)
        ))),
        RequestState::Closed {
            outcome,
            forced,
            at,
            ..
        } => document.push_line(LineBuilder::new().text(format!(
            "Closed {}{}{}.",
            when(group, *at),
            if *forced {
                " before every organization responded"
            } else {
                ""
            },
            outcome
                .as_ref()
                .map(|outcome| format!("; outcome: {outcome}"))
                .unwrap_or_default()
        ))),
    };
    if let Some(url) = &request.document {
        document.push_line(LineBuilder::new().text(format!("Document: {url}")));
    }
    let (acknowledged, responded) = request.organizations.answer_counts();
    document.push_line(LineBuilder::new().text(format!(
        "{} organizations: {acknowledged} acknowledged, {responded} responded.",
        request.organizations.len()
    )));
    document.push_list(
        request
            .organizations
            .iter()
            .map(|(name, status)| status_line(group, request, name, status, context.now))
            .collect(),
    );
    document
}

/// The most requests `!requests` lists: a group with hundreds of open requests would otherwise
/// get a reply larger than a Matrix event may be (measured: 1,000 requests give 369 KiB).
pub const REQUESTS_LISTED_AT_MOST: usize = 30;

pub fn requests(context: &CommandContext, form: usize, _arguments: &[Token]) -> ReplyDocument {
    let include_closed = form == 1;
    let matching: Vec<_> = context
        .state
        .requests
        .values()
        .filter(|request| include_closed || request.is_open())
        .collect();
    // The newest are listed when there are too many: they are the ones being worked on.
    let left_out = matching.len().saturating_sub(REQUESTS_LISTED_AT_MOST);
    let shown = &matching[left_out..];
    if matching.is_empty() {
        return text_reply(format!(
            "{} has no {}requests.",
            context.group.short_name,
            if include_closed { "" } else { "open " }
        ));
    }
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().text(format!(
        "{} {}request{} in {}:",
        matching.len(),
        if include_closed { "" } else { "open " },
        if matching.len() == 1 { "" } else { "s" },
        context.group.short_name
    )));
    document.push_list(
        shown
            .iter()
            .map(|request| {
                let total = request.organizations.len();
                let (acknowledged, responded) = request.organizations.answer_counts();
                let overdue = request
                    .organizations
                    .values()
                    .filter(|status| {
                        request
                            .owed_by(status)
                            .is_some_and(|owed| context.now > owed.due())
                    })
                    .count();
                let state = match &request.state {
                    RequestState::Open => {
                        format!("respond by {}", when(context.group, request.respond_by))
                    }
                    RequestState::Closed { at, .. } => {
                        format!("closed {}", when(context.group, *at))
                    }
                };
                let mut text = format!(
                    ": {acknowledged} of {total} acknowledged, {responded} responded; {state}"
                );
                if overdue > 0 {
                    text.push_str(&format!("; {overdue} overdue"));
                }
                LineBuilder::new().strong(request_title(request)).text(text)
            })
            .collect(),
    );
    if left_out > 0 {
        document.push_line(
            LineBuilder::new()
                .text(format!(
                    "The {left_out} older ones are not listed here; ask for one with "
                ))
                .code(context.with_prefix("!status R-n"))
                .text("."),
        );
    }
    document
}
