//! Calls for consensus and polls: a chair calls for consensus on a text or opens a poll, members
//! answer from the room or by mail, every tally groups them by organization, and the chair
//! designates the outcome, with minority views and a Chair's report attached. Neither is a
//! vote. `model` holds what the record knows, `changes` how the change log fills it, and one
//! module per group of commands decides them.

pub mod answers;
pub mod call;
pub mod changes;
pub mod find;
pub mod model;
pub mod outcome;
pub mod policy;
pub mod poll;
pub mod publication;
pub mod record;
pub mod render;
pub mod tally;
pub mod timers;
pub mod vote;

#[cfg(test)]
mod tests;

use crate::commands::{Execute, Handler};

pub fn handler_for(name: &str) -> Option<Handler> {
    let handler = match name {
        "consensus" => Handler {
            choose_form: call::choose_form,
            execute: Execute::Act(call::consensus),
        },
        "support" => Handler {
            choose_form: answers::choose_form,
            execute: Execute::Act(answers::support),
        },
        "object" => Handler {
            choose_form: answers::choose_form,
            execute: Execute::Act(answers::object),
        },
        "abstain" => Handler {
            choose_form: answers::choose_form,
            execute: Execute::Act(answers::abstain),
        },
        "poll" => Handler {
            choose_form: poll::choose_form,
            execute: Execute::Act(poll::poll),
        },
        "vote" => Handler {
            choose_form: vote::choose_form,
            execute: Execute::Act(vote::vote),
        },
        "designate" => Handler {
            choose_form: outcome::choose_designate_form,
            execute: Execute::Act(outcome::designate),
        },
        "minority" => Handler {
            choose_form: outcome::choose_minority_form,
            execute: Execute::Act(outcome::minority),
        },
        "published" => Handler {
            choose_form: publication::choose_form,
            execute: Execute::Act(publication::published),
        },
        "chair-report" => Handler {
            choose_form: outcome::choose_chair_report_form,
            execute: Execute::Act(outcome::chair_report),
        },
        _ => return None,
    };
    Some(handler)
}
