//! The handlers behind the command files in `commands/`. Each handler chooses which documented
//! form the arguments match (so permissions can be checked per form) and then produces the reply.

mod help;
mod ping;
mod roster;
mod whoami;

use super::engine::{CommandContext, Outcome};
use super::reply::ReplyDocument;
use super::tokenize::Token;

/// What was wrong with the arguments, in words the user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentProblem {
    pub message: String,
}

impl ArgumentProblem {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

#[derive(Clone, Copy)]
pub struct Handler {
    /// The index, in the command file's `forms`, of the form these arguments match.
    pub choose_form: fn(&[Token]) -> Result<usize, ArgumentProblem>,
    pub execute: Execute,
}

/// A handler either only answers (the read-only commands) or acts on the group's state.
#[derive(Clone, Copy)]
pub enum Execute {
    Answer(fn(&CommandContext, usize, &[Token]) -> ReplyDocument),
    Act(fn(&CommandContext, usize, &[Token]) -> Outcome),
}

impl Handler {
    pub fn execute(&self, context: &CommandContext, form: usize, arguments: &[Token]) -> Outcome {
        match self.execute {
            Execute::Answer(answer) => answer(context, form, arguments).into(),
            Execute::Act(act) => act(context, form, arguments),
        }
    }
}

pub fn handler_for(name: &str) -> Option<Handler> {
    let handler = match name {
        "help" => Handler {
            choose_form: help::choose_form,
            execute: Execute::Answer(help::execute),
        },
        "ping" => Handler {
            choose_form: ping::choose_form,
            execute: Execute::Answer(ping::execute),
        },
        "whoami" => Handler {
            choose_form: whoami::choose_form,
            execute: Execute::Answer(whoami::execute),
        },
        "roster" => Handler {
            choose_form: roster::choose_form,
            execute: Execute::Answer(roster::execute),
        },
        _ => {
            return crate::feedback::commands::handler_for(name)
                .or_else(|| crate::meetings::handler_for(name))
                .or_else(|| crate::consensus::handler_for(name))
                .or_else(|| crate::surveys::handler_for(name));
        }
    };
    Some(handler)
}

/// Chooses between a form without arguments (index 0) and a form with exactly one (index 1).
fn none_or_one(arguments: &[Token], what: &str) -> Result<usize, ArgumentProblem> {
    match arguments.len() {
        0 => Ok(0),
        1 if arguments[0].text.trim().is_empty() => {
            Err(ArgumentProblem::new(format!("the {what} is empty")))
        }
        1 => Ok(1),
        count => Err(ArgumentProblem::new(format!(
            "it takes at most one argument, the {what}, and you gave {count} ({}); \
             put a name with spaces in quotes",
            super::engine::describe_arguments(arguments)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn every_documented_command_has_a_handler() {
        for command in Catalog::builtin().expect("valid").commands {
            assert!(handler_for(&command.name).is_some(), "{}", command.name);
        }
    }
}
