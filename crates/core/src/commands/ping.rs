use super::ArgumentProblem;
use crate::engine::{CommandContext, describe_arguments};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::time_display::utc_and_local;
use crate::tokenize::Token;

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    if arguments.is_empty() {
        Ok(0)
    } else {
        Err(ArgumentProblem::new(format!(
            "it takes no arguments, and you gave {}",
            describe_arguments(arguments)
        )))
    }
}

pub fn execute(context: &CommandContext, _form: usize, _arguments: &[Token]) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().strong("pong").text(format!(
        " from rapporteur for {}, at {}.",
        context.group.short_name,
        utc_and_local(
            context.now,
            &context.group.time_zone,
            &context.group.time_zone_name
        )
    )));
    document
}
