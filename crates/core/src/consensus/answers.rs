//! Answers to a call for consensus: `!support R-5 [comment]`, `!object R-5 <reason>` (a reason
//! is required: an objection the group cannot address is no help to it) and `!abstain R-5
//! [comment]`. A later answer of the same person replaces the earlier one, whichever account
//! or channel it came from.

use super::find::find_call;
use super::model::Stance;
use super::render::call_title;
use crate::commands::ArgumentProblem;
use crate::engine::{CommandContext, Outcome};
use crate::feedback::render::when;
use crate::reply::ReplyDocument;
use crate::state::Change;
use crate::tokenize::Token;

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.first() {
        None => Err(ArgumentProblem::new("name the call by its ID, like R-5")),
        Some(_) => Ok(0),
    }
}

pub fn support(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    answer(context, arguments, Stance::Support)
}

pub fn object(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    answer(context, arguments, Stance::Object)
}

pub fn abstain(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    answer(context, arguments, Stance::Abstain)
}

fn answer(context: &CommandContext, arguments: &[Token], stance: Stance) -> Outcome {
    let sender = context.person.expect("the form admits only known people");
    let call = match find_call(context, &arguments[0].text) {
        Ok(call) => call,
        Err(reply) => return reply.into(),
    };
    let reason = arguments
        .get(1)
        .map(|token| super::call::unquoted(context.text_from(token)).to_string())
        .filter(|reason| !reason.is_empty());
    if stance == Stance::Object && reason.is_none() {
        return ReplyDocument::from_text(format!(
            "An objection needs its reason, so that the group can address it. Write it like {}.",
            context.with_prefix(&format!(
                "!object {} the deadline leaves ccNSOs no time to consult",
                call.label()
            ))
        ))
        .into();
    }
    if !call.is_open() {
        let when_closed = call
            .closed
            .map(|at| format!(" on {}", when(context.group, at)))
            .unwrap_or_default();
        return ReplyDocument::from_text(format!(
            "{} closed{when_closed}; it takes no more answers. {} shows its outcome.",
            call_title(call),
            context.with_prefix(&format!("!consensus show {}", call.label()))
        ))
        .into();
    }
    let previous = call.answers.get(&sender.id);
    if let Some(previous) = previous
        && previous.stance == stance
        && previous.reason == reason
    {
        return ReplyDocument::from_text(format!(
            "Your answer to {} is already recorded: {}.",
            call.label(),
            stance.name()
        ))
        .into();
    }
    let who = match &sender.organization {
        Some(organization) if sender.occupies_seat() => format!("{} ({organization})", sender.name),
        _ => format!(
            "{} (without a seat: not counted for an organization)",
            sender.name
        ),
    };
    let verb = match stance {
        Stance::Support => "supports",
        Stance::Object => "objects to",
        Stance::Abstain => "abstains on",
    };
    let replaced = previous
        .map(|previous| format!(" This replaces your earlier {}.", previous.stance.name()))
        .unwrap_or_default();
    let reason_text = reason
        .as_deref()
        .map(|reason| format!(": {}", reason.trim_end_matches(['.', ' '])))
        .unwrap_or_default();
    Outcome {
        reply: ReplyDocument::from_text(format!(
            "Recorded: {who} {verb} {}{reason_text}.{replaced}",
            call.label()
        )),
        changes: vec![Change::ConsensusAnswered {
            number: call.number,
            person: sender.id.clone(),
            stance,
            reason,
            at: context.now,
        }],
        effects: Vec::new(),
    }
}
