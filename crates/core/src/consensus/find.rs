//! Finding the call or poll a command names by its `R-<n>` ID, with answers that say what the
//! ID names instead (a feedback request, the other kind) and which ones are open.

use super::model::{ConsensusCall, Poll};
use super::render::{call_title, poll_title};
use crate::engine::CommandContext;
use crate::feedback::model::parse_request_label;
use crate::reply::ReplyDocument;

/// What an `R-<n>` ID names among calls and polls.
#[derive(Debug, Clone, Copy)]
pub enum Consultation<'a> {
    Call(&'a ConsensusCall),
    Poll(&'a Poll),
}

impl Consultation<'_> {
    pub fn number(&self) -> u32 {
        match self {
            Consultation::Call(call) => call.number,
            Consultation::Poll(poll) => poll.number,
        }
    }

    pub fn title(&self) -> String {
        match self {
            Consultation::Call(call) => call_title(call),
            Consultation::Poll(poll) => poll_title(poll),
        }
    }

    pub fn outcome(&self) -> &super::model::Outcome {
        match self {
            Consultation::Call(call) => &call.outcome,
            Consultation::Poll(poll) => &poll.outcome,
        }
    }
}

/// "Open: R-5 call for consensus "...", R-6 poll "..."." or that there are none.
pub fn open_list(context: &CommandContext) -> String {
    let mut open: Vec<(u32, String)> = context
        .state
        .calls
        .values()
        .filter(|call| call.is_open())
        .map(|call| (call.number, call_title(call)))
        .chain(
            context
                .state
                .polls
                .values()
                .filter(|poll| poll.is_open())
                .map(|poll| (poll.number, poll_title(poll))),
        )
        .collect();
    open.sort();
    if open.is_empty() {
        format!(
            "{} has no open call for consensus or poll.",
            context.group.short_name
        )
    } else {
        format!(
            "Open: {}.",
            open.into_iter()
                .map(|(_, title)| title)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The call or poll named by `text`.
pub fn find_consultation<'a>(
    context: &'a CommandContext,
    text: &str,
) -> Result<Consultation<'a>, ReplyDocument> {
    let Some(number) = parse_request_label(text) else {
        return Err(ReplyDocument::from_text(format!(
            "\"{}\" is not an ID; calls and polls are named like R-5. {}",
            text.trim(),
            open_list(context)
        )));
    };
    if let Some(call) = context.state.calls.get(&number) {
        return Ok(Consultation::Call(call));
    }
    if let Some(poll) = context.state.polls.get(&number) {
        return Ok(Consultation::Poll(poll));
    }
    if let Some(request) = context.state.requests.get(&number) {
        return Err(ReplyDocument::from_text(format!(
            "{} is a feedback request (\"{}\"), answered by organizations with {}. {}",
            request.label(),
            request.title,
            context.with_prefix("!respond"),
            open_list(context)
        )));
    }
    Err(ReplyDocument::from_text(format!(
        "There is no R-{number} in {}. {}",
        context.group.short_name,
        open_list(context)
    )))
}

/// The call named by `text`, or an answer that says why not (a poll is answered with `!vote`).
pub fn find_call<'a>(
    context: &'a CommandContext,
    text: &str,
) -> Result<&'a ConsensusCall, ReplyDocument> {
    match find_consultation(context, text)? {
        Consultation::Call(call) => Ok(call),
        Consultation::Poll(poll) => Err(ReplyDocument::from_text(format!(
            "{} is a poll; answer it with {}.",
            poll_title(poll),
            context.with_prefix(&format!("!vote {} <option number>", poll.label()))
        ))),
    }
}

/// The poll named by `text`, or an answer that says why not. A call for consensus is not a
/// vote: that answer explains how to take part instead.
pub fn find_poll<'a>(context: &'a CommandContext, text: &str) -> Result<&'a Poll, ReplyDocument> {
    match find_consultation(context, text)? {
        Consultation::Poll(poll) => Ok(poll),
        Consultation::Call(call) => Err(ReplyDocument::from_text(format!(
            "{} \"{}\" is a call for consensus, not a vote: say whether you support it with {}, \
             {} (with your reason) or {}. The chair designates the outcome.",
            call.label(),
            super::render::shortened(&call.text, 80),
            context.with_prefix(&format!("!support {}", call.label())),
            context.with_prefix(&format!("!object {} <reason>", call.label())),
            context.with_prefix(&format!("!abstain {}", call.label())),
        ))),
    }
}
