//! `!poll open "<question>" "<option>" "<option>"... [closes <date>] [hidden]` posts a native
//! Matrix poll in the room and mails the question with numbered options to the list;
//! `!poll close R-6` ends it (as its closing date does) and `!poll show R-6` shows the tally.

use super::find::find_poll;
use super::model::{MAX_POLL_OPTIONS, Poll};
use super::render::{poll_announcement, poll_tally, poll_title, subject};
use super::timers::{consultation_plan, poll_closing};
use crate::commands::ArgumentProblem;
use crate::effects::{Audience, Effect, PollStart};
use crate::engine::{CommandContext, Outcome};
use crate::feedback::model::Stamp;
use crate::feedback::render::when;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::Change;
use crate::tokenize::Token;

const FORM_OPEN: usize = 0;
const FORM_CLOSE: usize = 1;
const FORM_SHOW: usize = 2;

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    let Some(verb) = arguments.first() else {
        return Err(ArgumentProblem::new("say what to do: open, close or show"));
    };
    match verb.text.to_ascii_lowercase().as_str() {
        "open" if arguments.len() >= 4 => Ok(FORM_OPEN),
        "open" => Err(ArgumentProblem::new(
            "a poll needs its question and at least two options, each in quotes",
        )),
        "close" if arguments.len() == 2 => Ok(FORM_CLOSE),
        "show" | "status" if arguments.len() == 2 => Ok(FORM_SHOW),
        "close" | "show" | "status" => {
            Err(ArgumentProblem::new("name one poll by its ID, like R-6"))
        }
        other => Err(ArgumentProblem::new(format!(
            "\"{other}\" is not understood; use open, close or show"
        ))),
    }
}

pub fn poll(context: &CommandContext, form: usize, arguments: &[Token]) -> Outcome {
    match form {
        FORM_OPEN => open(context, &arguments[1..]),
        FORM_CLOSE => close(context, &arguments[1].text),
        FORM_SHOW => match find_poll(context, &arguments[1].text) {
            Ok(poll) => poll_tally(context.group, poll).into(),
            Err(reply) => reply.into(),
        },
        _ => unreachable!("choose_form gives only the forms above"),
    }
}

/// What `open` read: the question, the options and the words after them.
struct Opening {
    question: String,
    options: Vec<String>,
    closes_text: Option<String>,
    hidden: bool,
}

fn read_opening(arguments: &[Token]) -> Result<Opening, String> {
    if !arguments[0].was_quoted {
        return Err(format!(
            "\"{}\" is not a question in quotes; put the question in quotes, then each option",
            arguments[0].text
        ));
    }
    let question = arguments[0].text.trim().to_string();
    let mut options = Vec::new();
    let mut rest = &arguments[1..];
    // Options are quoted; one-word options may go without quotes when none is quoted, but an
    // unquoted word after quoted options is a mistake to point out, not an option.
    let mut quoted_seen = false;
    while let Some((token, after)) = rest.split_first() {
        let word = token.text.to_ascii_lowercase();
        if !token.was_quoted && (word == "closes" || word == "hidden" || quoted_seen) {
            break;
        }
        quoted_seen |= token.was_quoted;
        options.push(token.text.trim().to_string());
        rest = after;
    }
    let mut closes_words = Vec::new();
    let mut hidden = false;
    let mut in_closes = false;
    for token in rest {
        let word = token.text.to_ascii_lowercase();
        if !token.was_quoted && word == "hidden" {
            hidden = true;
            in_closes = false;
        } else if !token.was_quoted && word == "closes" && closes_words.is_empty() {
            in_closes = true;
        } else if in_closes {
            closes_words.push(token.text.clone());
        } else {
            return Err(format!(
                "\"{}\" is not understood after the options; put each option in quotes",
                token.text
            ));
        }
    }
    Ok(Opening {
        question,
        options,
        closes_text: (!closes_words.is_empty()).then(|| closes_words.join(" ")),
        hidden,
    })
}

fn open(context: &CommandContext, arguments: &[Token]) -> Outcome {
    let sender = context
        .person
        .expect("the form admits only chairs and staff");
    let example = context.with_prefix(
        "!poll open \"Which date suits for the workshop?\" \"9 March\" \"16 March\" closes +1w",
    );
    let opening = match read_opening(arguments) {
        Ok(opening) => opening,
        Err(problem) => {
            return ReplyDocument::from_text(format!("{problem}. Write it like {example}.")).into();
        }
    };
    if opening.question.is_empty() || opening.options.iter().any(String::is_empty) {
        return ReplyDocument::from_text(format!(
            "The question and each option need some text. Write it like {example}."
        ))
        .into();
    }
    if opening.options.len() < 2 {
        return ReplyDocument::from_text(format!(
            "A poll needs at least two options, each in quotes. Write it like {example}."
        ))
        .into();
    }
    if opening.options.len() > MAX_POLL_OPTIONS {
        return ReplyDocument::from_text(format!(
            "A poll takes at most {MAX_POLL_OPTIONS} options (Matrix clients show no more); \
             this one has {}.",
            opening.options.len()
        ))
        .into();
    }
    for (index, option) in opening.options.iter().enumerate() {
        if opening.options[..index]
            .iter()
            .any(|earlier| earlier.eq_ignore_ascii_case(option))
        {
            return ReplyDocument::from_text(format!(
                "The option \"{option}\" is given twice; each option must differ."
            ))
            .into();
        }
    }
    let closes = match &opening.closes_text {
        None => None,
        Some(text) => match super::call::closing_instant(context, text) {
            Ok(closes) => Some(closes),
            Err(reply) => return reply.into(),
        },
    };
    let number = context.state.last_number + 1;
    let opened = Stamp {
        by: sender.id.clone(),
        at: context.now,
    };
    let poll = Poll::new(
        number,
        opening.question.clone(),
        opening.options.clone(),
        closes,
        opening.hidden,
        opened,
    );
    let announcement = poll_announcement(context.group, &poll, context.prefix);
    let mut effects = vec![
        Effect::StartPoll {
            poll: PollStart {
                number,
                question: poll.question.clone(),
                options: poll.options.clone(),
                hidden: poll.hidden,
            },
            fallback: announcement.clone(),
        },
        Effect::Announce {
            audience: Audience::List,
            subject: subject(context.group, &poll.label(), "poll", &poll.question),
            about: Some(poll.label()),
            document: announcement,
        },
    ];
    effects.extend(consultation_plan(
        context.group,
        number,
        closes,
        context.now,
    ));
    let mut reply = ReplyDocument::new();
    reply.push_line(LineBuilder::new().text(format!(
        "Opened {} with {} options; it is posted as a poll in the room and mailed to the list{}{}.",
        poll_title(&poll),
        poll.options.len(),
        closes
            .map(|closes| format!("; it closes {}", when(context.group, closes)))
            .unwrap_or_default(),
        if poll.hidden {
            "; the tally stays hidden until it closes"
        } else {
            ""
        }
    )));
    Outcome {
        reply,
        changes: vec![Change::PollOpened {
            number,
            question: opening.question,
            options: opening.options,
            closes,
            hidden: opening.hidden,
            by: sender.id.clone(),
            at: context.now,
        }],
        effects,
    }
}

fn close(context: &CommandContext, label: &str) -> Outcome {
    let sender = context
        .person
        .expect("the form admits only chairs and staff");
    let poll = match find_poll(context, label) {
        Ok(poll) => poll,
        Err(reply) => return reply.into(),
    };
    if !poll.is_open() {
        return ReplyDocument::from_text(format!(
            "{} is already closed. {} shows its result.",
            poll_title(poll),
            context.with_prefix(&format!("!poll show {}", poll.label()))
        ))
        .into();
    }
    let (changes, effects) = poll_closing(
        context.group,
        context.state,
        poll,
        Some(&sender.id),
        context.now,
        context.prefix,
    );
    Outcome {
        reply: ReplyDocument::from_text(format!(
            "Closed {}; its result goes to the room and the list.",
            poll_title(poll)
        )),
        changes,
        effects,
    }
}
