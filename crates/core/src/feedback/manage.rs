//! Opening and closing requests (`!request`) and reminder cycles on demand (`!remind`).

use super::commands::{
    find_open_request, find_request, read_deadline, refuse_with, require_future, rest_text,
    text_reply,
};
use super::cycle::{Trigger, reminder_cycle};
use super::model::{FeedbackRequest, RequestKind, RequestState, request_label};
use super::render::{announcement, request_title, subject, when};
use super::timers::{after_changes, continuation_key, follow_up_key, replan};
use crate::commands::ArgumentProblem;
use crate::effects::{Audience, Effect, Timer};
use crate::engine::{CommandContext, Outcome};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::{Change, GroupState};
use crate::tokenize::Token;
use std::collections::BTreeMap;

const FORM_OPEN: usize = 0;
const FORM_CONTINUATION: usize = 1;
const FORM_CLOSE: usize = 2;

pub fn choose_request_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    let Some(verb) = arguments.first() else {
        return Err(ArgumentProblem::new(
            "say what to do: open, continuation or close",
        ));
    };
    let (form, needs) = match verb.text.to_ascii_lowercase().as_str() {
        "open" => (FORM_OPEN, "the title (in quotes)"),
        "continuation" => (FORM_CONTINUATION, "the title (in quotes)"),
        "close" => (FORM_CLOSE, "the request ID (such as R-3)"),
        other => {
            return Err(ArgumentProblem::new(format!(
                "\"{other}\" is not something a request can do; use open, continuation or close"
            )));
        }
    };
    if arguments.len() < 2 || arguments[1].text.trim().is_empty() {
        return Err(ArgumentProblem::new(format!("{needs} is missing")));
    }
    Ok(form)
}

pub fn choose_remind_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments {
        [] => Err(ArgumentProblem::new(
            "the request ID (such as R-3) is missing",
        )),
        [_] => Ok(0),
        [_, force] if force.text.eq_ignore_ascii_case("force") => Ok(1),
        [_, other] => Err(ArgumentProblem::new(format!(
            "\"{}\" is not understood after the request ID; only force may follow it",
            other.text
        ))),
        _ => Err(ArgumentProblem::new(
            "it takes the request ID and optionally force",
        )),
    }
}

pub fn request(context: &CommandContext, form: usize, arguments: &[Token]) -> Outcome {
    match form {
        FORM_OPEN => open(context, RequestKind::Feedback, &arguments[1..]),
        FORM_CONTINUATION => open(context, RequestKind::Continuation, &arguments[1..]),
        _ => close(context, &arguments[1..]),
    }
}

const KEYWORDS: [&str; 4] = ["to", "ack", "due", "doc"];

/// The title and the keyword parts of `!request open "<title>" [to ...] [ack ...] [due ...]
/// [doc ...]`. Only unquoted words count as keywords, so a quoted "to" is text.
fn keyword_parts(
    arguments: &[Token],
) -> Result<(&str, BTreeMap<&'static str, Vec<&Token>>), String> {
    let title = arguments[0].text.trim();
    let mut parts: BTreeMap<&'static str, Vec<&Token>> = BTreeMap::new();
    let mut current: Option<&'static str> = None;
    for token in &arguments[1..] {
        let keyword = (!token.was_quoted)
            .then(|| {
                KEYWORDS
                    .iter()
                    .find(|keyword| token.text.eq_ignore_ascii_case(keyword))
            })
            .flatten();
        match (keyword, current) {
            (Some(keyword), _) => {
                if parts.contains_key(keyword) {
                    return Err(format!("{keyword} is given twice"));
                }
                parts.insert(keyword, Vec::new());
                current = Some(keyword);
            }
            (None, Some(keyword)) => parts.entry(keyword).or_default().push(token),
            (None, None) => {
                return Err(format!(
                    "\"{}\" follows the title, where I expected to, ack, due or doc; put a title with spaces in quotes",
                    token.text
                ));
            }
        }
    }
    if let Some((keyword, _)) = parts.iter().find(|(_, values)| values.is_empty()) {
        return Err(format!("{keyword} needs a value after it"));
    }
    Ok((title, parts))
}

fn joined(tokens: &[&Token], separator: &str) -> String {
    tokens
        .iter()
        .map(|token| token.text.as_str())
        .collect::<Vec<_>>()
        .join(separator)
}

fn usage_problem(context: &CommandContext, message: &str) -> Outcome {
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .text("I could not read that ")
            .code(context.with_prefix("!request"))
            .text(format!(" command: {message}.")),
    );
    document.push_line(LineBuilder::new().text("Write it as:"));
    document.push_list(vec![LineBuilder::new().code(context.with_prefix(
        "!request open \"<title>\" [to all|<org>,<org>...] [ack <date>] [due <date>] [doc <url>]",
    ))]);
    document.into()
}

fn open(context: &CommandContext, kind: RequestKind, arguments: &[Token]) -> Outcome {
    let group = context.group;
    let (title, parts) = match keyword_parts(arguments) {
        Ok(found) => found,
        Err(message) => return usage_problem(context, &message),
    };
    if title.chars().count() > 200 {
        return usage_problem(context, "the title is longer than 200 characters");
    }
    let organizations: Vec<String> = match parts.get("to") {
        None => group
            .organizations
            .iter()
            .map(|organization| organization.short_name.clone())
            .collect(),
        Some(tokens) if tokens.len() == 1 && tokens[0].text.eq_ignore_ascii_case("all") => group
            .organizations
            .iter()
            .map(|organization| organization.short_name.clone())
            .collect(),
        Some(tokens) => {
            let mut names = Vec::new();
            for name in joined(tokens, ",")
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                match group.organization(name) {
                    Some(organization) => {
                        if !names.contains(&organization.short_name) {
                            names.push(organization.short_name.clone());
                        }
                    }
                    None => {
                        return text_reply(format!(
                            "{} has no organization \"{name}\". Its organizations are: {}.",
                            group.short_name,
                            group
                                .organizations
                                .iter()
                                .map(|organization| organization.short_name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                        .into();
                    }
                }
            }
            names
        }
    };
    if organizations.is_empty() {
        return text_reply(format!("{} has no organizations to ask.", group.short_name)).into();
    }
    let default_deadline = |days: u32| format!("in {days} days");
    let acknowledge_text = parts
        .get("ack")
        .map(|tokens| joined(tokens, " "))
        .unwrap_or_else(|| default_deadline(group.feedback.acknowledge_within_days));
    let respond_text = parts
        .get("due")
        .map(|tokens| joined(tokens, " "))
        .unwrap_or_else(|| default_deadline(group.feedback.respond_within_days));
    let acknowledge_by = match read_deadline(context, "request", &acknowledge_text)
        .and_then(|at| require_future(context, "acknowledgement deadline", at))
    {
        Ok(at) => at,
        Err(reply) => return refuse_with(reply),
    };
    let respond_by = match read_deadline(context, "request", &respond_text)
        .and_then(|at| require_future(context, "response deadline", at))
    {
        Ok(at) => at,
        Err(reply) => return refuse_with(reply),
    };
    if acknowledge_by > respond_by {
        return text_reply(format!(
            "The acknowledgement deadline ({}) is after the response deadline ({}); acknowledging comes first.",
            when(group, acknowledge_by),
            when(group, respond_by)
        ))
        .into();
    }
    let document = match parts.get("doc") {
        None => None,
        Some(tokens) if tokens.len() == 1 && is_web_address(&tokens[0].text) => {
            Some(tokens[0].text.clone())
        }
        Some(tokens) => {
            return usage_problem(
                context,
                &format!(
                    "doc takes one web address starting with https:// or http://, not \"{}\"",
                    joined(tokens, " ")
                ),
            );
        }
    };
    let number = context.state.last_number + 1;
    let opened_by = context
        .person
        .map(|person| person.id.clone())
        .unwrap_or_default();
    let change = Change::RequestOpened {
        number,
        title: title.to_string(),
        kind,
        organizations: organizations.clone(),
        acknowledge_by,
        respond_by,
        document,
        opened_by,
        at: context.now,
    };
    let mut state = GroupState::default();
    state.apply(&change);
    let request: &FeedbackRequest = &state.requests[&number];
    let announced = announcement(group, request, context.prefix);
    let label = request_label(number);
    let mut effects = vec![
        Effect::Announce {
            audience: Audience::Organizations(organizations.clone()),
            subject: subject(group, request, "for your organization"),
            about: Some(label.clone()),
            document: announced.clone(),
        },
        Effect::Announce {
            audience: Audience::List,
            subject: subject(group, request, "opened"),
            about: Some(label.clone()),
            document: announced,
        },
        replan(group, request, context.now),
    ];
    if kind == RequestKind::Continuation {
        effects.push(Effect::Schedule {
            key: continuation_key(number),
            at: respond_by,
            timer: Timer::ContinuationDeadline { number },
        });
    }
    let mut reply = ReplyDocument::new();
    reply.push_line(LineBuilder::new().text(format!(
        "Opened {} for {} organization{}: {}.",
        request_title(request),
        organizations.len(),
        if organizations.len() == 1 { "" } else { "s" },
        organizations.join(", ")
    )));
    reply.push_line(LineBuilder::new().text(format!(
        "Acknowledge by {}; respond by {}.",
        when(group, acknowledge_by),
        when(group, respond_by)
    )));
    reply.push_line(
        LineBuilder::new()
            .text("Announced to the organizations' members and contacts and to the list. Follow it with ")
            .code(context.with_prefix(&format!("!status {label}")))
            .text("."),
    );
    Outcome {
        reply,
        changes: vec![change],
        effects,
    }
}

fn is_web_address(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && text.len() <= 2000
        && !text
            .chars()
            .any(|character| character.is_whitespace() || character.is_control())
}

fn close(context: &CommandContext, arguments: &[Token]) -> Outcome {
    let request = match find_request(context, &arguments[0]) {
        Ok(request) => request,
        Err(reply) => return refuse_with(reply),
    };
    if let RequestState::Closed { at, .. } = &request.state {
        return text_reply(format!(
            "{} was already closed on {}.",
            request_title(request),
            when(context.group, *at)
        ))
        .into();
    }
    let force = arguments
        .get(1)
        .is_some_and(|token| !token.was_quoted && token.text.eq_ignore_ascii_case("force"));
    let outcome = rest_text(arguments, if force { 2 } else { 1 });
    let missing = request.not_responded();
    if !missing.is_empty() && !force && request.kind == RequestKind::Feedback {
        let mut document = ReplyDocument::new();
        document.push_line(LineBuilder::new().text(format!(
            "{} cannot be closed yet: {} of {} organizations have not responded ({}). A final proposal rests on the feedback of each.",
            request_title(request),
            missing.len(),
            request.organizations.len(),
            missing.join(", ")
        )));
        document.push_line(
            LineBuilder::new()
                .text("To close it anyway, write ")
                .code(context.with_prefix(&format!(
                    "!request close {} force [outcome]",
                    request.label()
                )))
                .text("."),
        );
        return refuse_with(document);
    }
    let by = context.person.map(|person| person.id.clone());
    let changes = vec![Change::RequestClosed {
        number: request.number,
        outcome: outcome.clone(),
        forced: force && !missing.is_empty(),
        by,
        at: context.now,
    }];
    let mut notice = ReplyDocument::new();
    notice.push_line(
        LineBuilder::new()
            .strong(format!("Closed: {}", request_title(request)))
            .text(
                outcome
                    .as_ref()
                    .map(|outcome| format!(". Outcome: {outcome}"))
                    .unwrap_or_default(),
            ),
    );
    let responses: Vec<LineBuilder> = request
        .organizations
        .iter()
        .map(|(name, status)| {
            LineBuilder::new()
                .strong(name.clone())
                .text(match &status.response {
                    Some(response) => format!(": {}", response.position),
                    None => ": did not respond".to_string(),
                })
        })
        .collect();
    notice.push_list(responses);
    if let Some(line) =
        crate::record::permalink_line(context.group, &format!("requests/r-{}", request.number))
    {
        notice.push_line(line);
    }
    let mut reply = ReplyDocument::new();
    reply.push_line(LineBuilder::new().text(format!(
        "Closed {}.{}",
        request_title(request),
        if missing.is_empty() {
            " Every organization responded.".to_string()
        } else {
            format!(" Did not respond: {}.", missing.join(", "))
        }
    )));
    Outcome {
        reply,
        changes,
        effects: vec![
            Effect::Announce {
                audience: Audience::Room,
                subject: subject(context.group, request, "closed"),
                about: Some(request.label()),
                document: notice.clone(),
            },
            Effect::Announce {
                audience: Audience::List,
                subject: subject(context.group, request, "closed"),
                about: Some(request.label()),
                document: notice,
            },
            Effect::Cancel {
                key: follow_up_key(request.number),
            },
            Effect::Cancel {
                key: continuation_key(request.number),
            },
        ],
    }
}

pub fn remind(context: &CommandContext, form: usize, arguments: &[Token]) -> Outcome {
    let request = match find_open_request(context, &arguments[0]) {
        Ok(request) => request,
        Err(reply) => return refuse_with(reply),
    };
    let cycle = reminder_cycle(
        context.group,
        request,
        context.now,
        Trigger::Chair { force: form == 1 },
        context.prefix,
    );
    let after = after_changes(request, &cycle.changes);
    let mut effects = cycle.effects;
    effects.push(replan(context.group, &after, context.now));
    Outcome {
        reply: cycle.summary,
        changes: cycle.changes,
        effects,
    }
}
