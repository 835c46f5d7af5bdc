//! `!vote R-6 option 3`, `!vote R-6 3` or `!vote R-6 <option text>`: an answer to a poll. The
//! same decision records the answers that arrive as responses to the room's native poll and as
//! reactions on it (the Matrix adapter turns them into this command, marked as such, and they
//! get no reply unless something is wrong) and the option numbers mailed in reply to the poll's
//! mail. A person's latest answer counts once, whichever account or channel it came from.

use super::find::find_poll;
use super::model::{AnswerChannel, Poll};
use super::render::poll_title;
use crate::commands::ArgumentProblem;
use crate::engine::{Channel, CommandContext, Outcome};
use crate::feedback::render::when;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::Change;
use crate::tokenize::Token;

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.len() {
        0 => Err(ArgumentProblem::new("name the poll by its ID, like R-6")),
        1 => Err(ArgumentProblem::new(
            "the option is missing: its number or its text",
        )),
        _ => Ok(0),
    }
}

/// The option the writer chose, from its number (`3`, `option 3`, `#3`) or its text.
fn chosen_option(poll: &Poll, written: &str) -> Option<usize> {
    let written = super::call::unquoted(written);
    let number_text = written
        .strip_prefix("option")
        .or_else(|| written.strip_prefix("Option"))
        .unwrap_or(written)
        .trim()
        .trim_start_matches('#')
        .trim_end_matches(['.', ')']);
    if let Ok(number) = number_text.parse::<usize>()
        && (1..=poll.options.len()).contains(&number)
    {
        return Some(number - 1);
    }
    // Not an option's number: an option's text ("2027" among years, "16 March").
    let wanted = written.trim_end_matches('.').trim();
    poll.options
        .iter()
        .position(|option| option.trim().eq_ignore_ascii_case(wanted))
}

fn options_list(poll: &Poll) -> Vec<LineBuilder> {
    poll.numbered_options()
        .map(|(number, option)| LineBuilder::new().text(format!("{number}. {option}")))
        .collect()
}

pub fn vote(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the form admits only known people");
    let poll = match find_poll(context, &arguments[0].text) {
        Ok(poll) => poll,
        Err(reply) => return reply.into(),
    };
    if !poll.is_open() {
        let closed = poll
            .closed
            .map(|at| format!(" on {}", when(context.group, at)))
            .unwrap_or_default();
        return ReplyDocument::from_text(format!(
            "{} closed{closed}; answers given after it closed are not counted. {} shows its \
             result.",
            poll_title(poll),
            context.with_prefix(&format!("!poll show {}", poll.label()))
        ))
        .into();
    }
    let written = context.text_from(&arguments[1]);
    let Some(option) = chosen_option(poll, written) else {
        let mut reply = ReplyDocument::new();
        reply.push_line(LineBuilder::new().text(format!(
            "{} has no option \"{}\". Its options:",
            poll_title(poll),
            super::call::unquoted(written)
        )));
        reply.push_list(options_list(poll));
        reply.push_line(
            LineBuilder::new()
                .text("Answer with ")
                .code(context.with_prefix(&format!("!vote {} <option number>", poll.label()))),
        );
        return reply.into();
    };
    let channel = match (context.poll_answer, context.channel) {
        (Some(channel), _) => channel,
        (None, Channel::Mail) => AnswerChannel::Mail,
        (None, _) => AnswerChannel::Command,
    };
    let previous = poll.answers.get(&sender.id);
    let option_text = format!("{}. {}", option + 1, poll.options[option]);
    if previous.is_some_and(|previous| previous.option == option) {
        let reply = if context.poll_answer.is_some() {
            ReplyDocument::new()
        } else {
            ReplyDocument::from_text(format!(
                "Your answer to {} is already recorded: {option_text}.",
                poll.label()
            ))
        };
        return reply.into();
    }
    // Answers in the room's own poll are seen there; only typed answers are confirmed.
    let reply = if context.poll_answer.is_some() {
        ReplyDocument::new()
    } else {
        let replaced = previous
            .map(|previous| {
                format!(
                    " This replaces your earlier answer ({}).",
                    previous.option + 1
                )
            })
            .unwrap_or_default();
        let hidden = if poll.hidden {
            " The tally stays hidden until the poll closes."
        } else {
            ""
        };
        ReplyDocument::from_text(format!(
            "Recorded: {} answers {} with {option_text}.{replaced}{hidden}",
            sender.name,
            poll.label()
        ))
    };
    Outcome {
        reply,
        changes: vec![Change::PollAnswered {
            number: poll.number,
            person: sender.id.clone(),
            option,
            channel,
            at: context.now,
        }],
        effects: Vec::new(),
    }
}
