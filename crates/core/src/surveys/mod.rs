//! The anonymous survey (the CIP-CCG's annual satisfaction survey): questions from a file the
//! group file names, a questionnaire mailed to every member and participant, answers by mail
//! stored without the identity of who gave them, and results published only when enough
//! people answered. `model` holds what the record knows, `changes` how it is filled, `ballot`
//! how a filled-in questionnaire is read.

pub mod ballot;
pub mod changes;
pub mod commands;
pub mod model;
pub mod render;
pub mod timers;

#[cfg(test)]
mod tests;

use crate::commands::{Execute, Handler};

pub fn handler_for(name: &str) -> Option<Handler> {
    match name {
        "survey" => Some(Handler {
            choose_form: commands::choose_form,
            execute: Execute::Act(commands::survey),
        }),
        _ => None,
    }
}
