//! Action items after the meeting: `!actions [person|organization]` lists the open ones and
//! `!done <action>` closes one (its owner, a chair, a co-chair or staff).

use super::model::{ActionItem, parse_action_label};
use super::render::action_summary;
use super::timers::action_timer_cancels;
use crate::commands::ArgumentProblem;
use crate::directory::Role;
use crate::engine::{CommandContext, Outcome};
use crate::feedback::render::person_name;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::Change;
use crate::tokenize::Token;

pub fn choose_actions_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    Ok(if arguments.is_empty() { 0 } else { 1 })
}

pub fn actions(context: &CommandContext, form: usize, arguments: &[Token]) -> ReplyDocument {
    let open: Vec<&ActionItem> = context
        .state
        .actions
        .values()
        .filter(|item| item.is_open())
        .collect();
    let (items, whose): (Vec<&ActionItem>, String) = if form == 0 {
        (open, String::new())
    } else {
        let query: Vec<&str> = arguments.iter().map(|token| token.text.as_str()).collect();
        let query = query.join(" ");
        if let Some(organization) = context.group.organization(&query) {
            let items = open
                .into_iter()
                .filter(|item| {
                    context
                        .group
                        .person_by_id(&item.owner)
                        .and_then(|person| person.organization.as_deref())
                        .is_some_and(|own| own.eq_ignore_ascii_case(&organization.short_name))
                })
                .collect();
            (items, format!(" of {}", organization.short_name))
        } else {
            match super::find::find_person_named(context.group, &query) {
                Ok(person) => (
                    open.into_iter()
                        .filter(|item| item.owner == person.id)
                        .collect(),
                    format!(" of {}", person.name),
                ),
                Err(reply) => return reply,
            }
        }
    };
    let mut document = ReplyDocument::new();
    if items.is_empty() {
        document.push_line(LineBuilder::new().text(format!(
            "No open action items{whose} in {}.",
            context.group.short_name
        )));
        return document;
    }
    document.push_line(LineBuilder::new().text(format!(
        "Open action items{whose} in {}:",
        context.group.short_name
    )));
    document.push_list(
        items
            .iter()
            .map(|item| {
                let mut line = format!(
                    "{} (M-{})",
                    action_summary(
                        context.group,
                        item.number,
                        &item.owner,
                        &item.text,
                        item.due
                    ),
                    item.meeting
                );
                if item.due.is_some_and(|due| due < context.now) {
                    line.push_str(", overdue");
                }
                LineBuilder::new().text(line)
            })
            .collect(),
    );
    document.push_line(
        LineBuilder::new()
            .text("Close one with ")
            .code(context.with_prefix("!done A-<n>"))
            .text("."),
    );
    document
}

pub fn choose_done_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments {
        [] => Err(ArgumentProblem::new(
            "the action item (such as A-3) is missing",
        )),
        [_] => Ok(0),
        [_, other, ..] => Err(ArgumentProblem::new(format!(
            "\"{}\" is not understood after the action item",
            other.text
        ))),
    }
}

pub fn done(context: &CommandContext, _form: usize, arguments: &[Token]) -> Outcome {
    let sender = context.person.expect("the form admits only known people");
    let Some(number) = parse_action_label(&arguments[0].text) else {
        return ReplyDocument::from_text(format!(
            "\"{}\" is not an action item; they look like A-3. {} lists the open ones.",
            arguments[0].text,
            context.with_prefix("!actions")
        ))
        .into();
    };
    let Some(item) = context.state.actions.get(&number) else {
        return ReplyDocument::from_text(format!(
            "There is no action item A-{number} in {}. {} lists the open ones.",
            context.group.short_name,
            context.with_prefix("!actions")
        ))
        .into();
    };
    let may = item.owner == sender.id
        || [Role::Chair, Role::CoChair, Role::Staff]
            .into_iter()
            .any(|role| sender.has_role(role));
    if !may {
        return ReplyDocument::from_text(format!(
            "Only its owner ({}), a chair, a co-chair or staff may close {}.",
            person_name(context.group, &item.owner),
            item.label()
        ))
        .into();
    }
    if let Some((by, at)) = &item.done {
        return ReplyDocument::from_text(format!(
            "{} was closed already, by {} on {}.",
            item.label(),
            person_name(context.group, by),
            at.strftime("%Y-%m-%d %H:%M UTC")
        ))
        .into();
    }
    if item.withdrawn {
        return ReplyDocument::from_text(format!(
            "{} was taken back from the minutes; there is nothing to close.",
            item.label()
        ))
        .into();
    }
    Outcome {
        reply: ReplyDocument::from_text(format!(
            "Done: {}.",
            action_summary(
                context.group,
                item.number,
                &item.owner,
                &item.text,
                item.due
            )
        )),
        changes: vec![Change::ActionDone {
            action: number,
            by: sender.id.clone(),
            at: context.now,
        }],
        effects: action_timer_cancels(number),
    }
}
