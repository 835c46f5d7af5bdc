//! Publication of adopted outcomes (CCEG: statements are released within 7 days of adoption).
//! The bot's own record publishes an outcome at once; the group's statement is released by
//! its staff, who say so with `!published R-5 <link>`. Until then, staff are reminded two days
//! before the limit and when it falls due, through the durable clock.

use super::find::{Consultation, find_consultation};
use super::outcome::publish_by;
use crate::commands::ArgumentProblem;
use crate::directory::{Group, Role};
use crate::effects::{Audience, Effect, Timer};
use crate::engine::{CommandContext, Outcome};
use crate::feedback::render::{person_name, when};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::{Change, GroupState};
use crate::tokenize::Token;
use jiff::{SignedDuration, Timestamp};

/// The reminders before the publication limit, in hours before it.
pub const REMINDER_HOURS_BEFORE: [u32; 2] = [48, 0];

pub fn reminder_key(number: u32, hours_before: u32) -> String {
    format!("R-{number}:publication:{hours_before}h")
}

/// The reminders of an outcome adopted at `adopted` (scheduled again, under the same keys, when
/// a new designation moves the limit).
pub fn reminders(number: u32, adopted: Timestamp, now: Timestamp) -> Vec<Effect> {
    let limit = publish_by(adopted);
    REMINDER_HOURS_BEFORE
        .iter()
        .map(|hours| {
            let at = limit - SignedDuration::from_hours(i64::from(*hours));
            Effect::Schedule {
                key: reminder_key(number, *hours),
                at: at.max(now),
                timer: Timer::PublicationReminder {
                    number,
                    hours_before: *hours,
                },
            }
        })
        .collect()
}

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments.len() {
        0 => Err(ArgumentProblem::new("name the outcome by its ID, like R-5")),
        1 | 2 => Ok(0),
        _ => Err(ArgumentProblem::new(
            "give one link to where the statement is published",
        )),
    }
}

/// `!published R-5 [link]`: the group's statement on the outcome is out.
pub fn published(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let sender = context
        .person
        .expect("the form admits only chairs and staff");
    let consultation = match find_consultation(context, &arguments[0].text) {
        Ok(found) => found,
        Err(reply) => return reply.into(),
    };
    let number = consultation.number();
    let outcome = consultation.outcome();
    let Some(adopted) = adopted_at(consultation) else {
        return ReplyDocument::from_text(format!(
            "R-{number} has no adopted outcome yet: a chair designates it ({}) or adopts a \
             Chair's report first.",
            context.with_prefix(&format!("!designate R-{number} <level>"))
        ))
        .into();
    };
    let url = arguments.get(1).map(|token| token.text.clone());
    if let Some(url) = &url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return ReplyDocument::from_text(format!(
            "\"{url}\" is not a web address; give the link where the statement is published, \
             starting with https://."
        ))
        .into();
    }
    let limit = publish_by(adopted);
    let mut line = LineBuilder::new().text(format!(
        "Recorded: R-{number} was published {}, {} after its adoption ({}",
        when(context.group, context.now),
        days_text(context.now.duration_since(adopted)),
        if context.now <= limit {
            "within the limit".to_string()
        } else {
            format!("after the limit of {}", when(context.group, limit))
        }
    ));
    line = line.text(").");
    let mut reply = ReplyDocument::new();
    reply.push_line(line);
    if let Some(url) = &url {
        reply.push_line(LineBuilder::new().text("At ").link(url.clone()));
    }
    if let Some((earlier, stamp)) = &outcome.published {
        reply.push_line(LineBuilder::new().text(format!(
            "This replaces the record of {} by {}{}.",
            when(context.group, stamp.at),
            person_name(context.group, &stamp.by),
            earlier
                .as_ref()
                .map(|url| format!(" ({url})"))
                .unwrap_or_default()
        )));
    }
    Outcome {
        reply,
        changes: vec![Change::OutcomePublished {
            number,
            url,
            by: sender.id.clone(),
            at: context.now,
        }],
        effects: REMINDER_HOURS_BEFORE
            .iter()
            .map(|hours| Effect::Cancel {
                key: reminder_key(number, *hours),
            })
            .collect(),
    }
}

fn days_text(duration: SignedDuration) -> String {
    let hours = duration.as_hours();
    if hours < 48 {
        format!("{hours} hours")
    } else {
        format!("{} days", hours / 24)
    }
}

fn adopted_at(consultation: Consultation) -> Option<Timestamp> {
    let outcome = consultation.outcome();
    outcome
        .designation
        .as_ref()
        .map(|designation| designation.stamp.at)
        .or_else(|| outcome.chair_report.as_ref().map(|(_, stamp)| stamp.at))
}

/// The staff's reminder, unless the statement is published; chairs and co-chairs are told when
/// the group file names no staff.
pub fn on_timer(
    state: &GroupState,
    group: &Group,
    timer: &Timer,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    let Timer::PublicationReminder {
        number,
        hours_before,
    } = timer
    else {
        return (Vec::new(), Vec::new());
    };
    let consultation = match (state.calls.get(number), state.polls.get(number)) {
        (Some(call), _) => Consultation::Call(call),
        (_, Some(poll)) => Consultation::Poll(poll),
        _ => return (Vec::new(), Vec::new()),
    };
    let Some(adopted) = adopted_at(consultation) else {
        return (Vec::new(), Vec::new());
    };
    if consultation.outcome().published.is_some() {
        return (Vec::new(), Vec::new());
    }
    let mut reminded: Vec<String> = group
        .people
        .iter()
        .filter(|person| person.has_role(Role::Staff))
        .map(|person| person.id.clone())
        .collect();
    if reminded.is_empty() {
        reminded = group
            .people
            .iter()
            .filter(|person| person.has_role(Role::Chair) || person.has_role(Role::CoChair))
            .map(|person| person.id.clone())
            .collect();
    }
    let limit = publish_by(adopted);
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().strong(format!(
        "R-{number} {} publication {}",
        consultation.title(),
        if *hours_before == 0 {
            format!("is due now ({})", when(group, limit))
        } else {
            format!("is due by {}", when(group, limit))
        }
    )));
    document.push_line(
        LineBuilder::new()
            .text(format!(
                "It was adopted {}; statements are released within {} days of adoption. Once it \
                 is published, record it with ",
                when(group, adopted),
                super::model::PUBLICATION_LIMIT_DAYS
            ))
            .code(format!("{prefix}published R-{number} <link>"))
            .text("."),
    );
    (
        Vec::new(),
        vec![Effect::Announce {
            audience: Audience::People(reminded),
            subject: format!("[{}] R-{number}: publication due", group.short_name),
            about: Some(format!("R-{number}")),
            document,
        }],
    )
}
