//! Meetings and attendance: scheduling (with iCalendar invitations and recurring schedules),
//! reminders through the durable clock, the roll call by organization, minutes with action
//! items, and attendance over time. `model` holds what the record knows, `changes` how the
//! change log fills it, and one module per group of commands decides them.

pub mod actions;
pub mod attendance;
pub mod calendar;
pub mod changes;
pub mod find;
pub mod minutes;
pub mod model;
pub mod policy;
pub mod render;
pub mod representation;
pub mod roll_call;
pub mod schedule;
pub mod scribe;
pub mod timers;

#[cfg(test)]
mod tests;

use crate::commands::{Execute, Handler};

pub fn handler_for(name: &str) -> Option<Handler> {
    let handler = match name {
        "meeting" => Handler {
            choose_form: schedule::choose_form,
            execute: Execute::Act(schedule::meeting),
        },
        "present" => Handler {
            choose_form: roll_call::choose_present_form,
            execute: Execute::Act(roll_call::present),
        },
        "left" => Handler {
            choose_form: roll_call::choose_left_form,
            execute: Execute::Act(roll_call::left),
        },
        "regrets" => Handler {
            choose_form: roll_call::choose_regrets_form,
            execute: Execute::Act(roll_call::regrets),
        },
        "topic" => Handler {
            choose_form: minutes::choose_text_form,
            execute: Execute::Act(minutes::topic),
        },
        "info" => Handler {
            choose_form: minutes::choose_text_form,
            execute: Execute::Act(minutes::info),
        },
        "agreed" => Handler {
            choose_form: minutes::choose_text_form,
            execute: Execute::Act(minutes::agreed),
        },
        "action" => Handler {
            choose_form: minutes::choose_action_form,
            execute: Execute::Act(minutes::action),
        },
        "link" => Handler {
            choose_form: minutes::choose_link_form,
            execute: Execute::Act(minutes::link),
        },
        "undo" => Handler {
            choose_form: minutes::choose_undo_form,
            execute: Execute::Act(minutes::undo),
        },
        "rapporteur" => Handler {
            choose_form: minutes::choose_rapporteur_form,
            execute: Execute::Act(minutes::rapporteur),
        },
        "actions" => Handler {
            choose_form: actions::choose_actions_form,
            execute: Execute::Answer(actions::actions),
        },
        "done" => Handler {
            choose_form: actions::choose_done_form,
            execute: Execute::Act(actions::done),
        },
        "attendance" => Handler {
            choose_form: attendance::choose_attendance_form,
            execute: Execute::Answer(attendance::attendance),
        },
        _ => return None,
    };
    Some(handler)
}
