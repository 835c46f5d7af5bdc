//! The handlers behind the command files in `commands/`. Each handler chooses which documented
//! form the arguments match (so permissions can be checked per form) and then produces the reply.

mod help;
mod ping;
mod roster;
mod whoami;

use super::engine::CommandContext;
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
    pub execute: fn(&CommandContext, usize, &[Token]) -> ReplyDocument,
}

pub fn handler_for(name: &str) -> Option<Handler> {
    let handler = match name {
        "help" => Handler {
            choose_form: help::choose_form,
            execute: help::execute,
        },
        "ping" => Handler {
            choose_form: ping::choose_form,
            execute: ping::execute,
        },
        "whoami" => Handler {
            choose_form: whoami::choose_form,
            execute: whoami::execute,
        },
        "roster" => Handler {
            choose_form: roster::choose_form,
            execute: roster::execute,
        },
        _ => return None,
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
    use crate::core::catalog::Catalog;

    #[test]
    fn every_documented_command_has_a_handler() {
        for command in Catalog::builtin().expect("valid").commands {
            assert!(handler_for(&command.name).is_some(), "{}", command.name);
        }
    }
}
