use super::{ArgumentProblem, none_or_one};
use crate::catalog::CommandSpec;
use crate::engine::{CommandContext, no_such_command_reply};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::tokenize::Token;

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    none_or_one(arguments, "command name")
}

pub fn execute(context: &CommandContext, form: usize, arguments: &[Token]) -> ReplyDocument {
    if form == 0 {
        return overview(context);
    }
    let wanted = arguments[0].text.trim();
    let wanted = wanted.strip_prefix(context.prefix).unwrap_or(wanted);
    match context.catalog.find(wanted) {
        Some(spec) => details(context, spec),
        None => no_such_command_reply(context, wanted, |name| {
            format!("{}help {name}", context.prefix)
        }),
    }
}

fn overview(context: &CommandContext) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().text(format!(
        "Commands of rapporteur for {}:",
        context.group.short_name
    )));
    document.push_list(
        context
            .catalog
            .commands
            .iter()
            .map(|spec| {
                LineBuilder::new()
                    .code(context.with_prefix(&spec.forms[0].syntax))
                    .text(format!(": {}", spec.summary))
            })
            .collect(),
    );
    document.push_line(
        LineBuilder::new()
            .text("Type ")
            .code(context.with_prefix("!help <command>"))
            .text(" for the details of one command."),
    );
    document
}

fn details(context: &CommandContext, spec: &CommandSpec) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .code(format!("{}{}", context.prefix, spec.name))
            .text(format!(": {}", spec.summary)),
    );
    document.push_list(
        spec.forms
            .iter()
            .map(|form| {
                LineBuilder::new()
                    .code(context.with_prefix(&form.syntax))
                    .text(format!(
                        ": {} Who may use it: {}.",
                        form.description,
                        form.who_may_use_text()
                    ))
            })
            .collect(),
    );
    for paragraph in spec.help.lines() {
        if !paragraph.trim().is_empty() {
            document.push_line(LineBuilder::new().text(paragraph.trim()));
        }
    }
    document.push_line(LineBuilder::new().text("Examples:"));
    document.push_list(
        spec.examples
            .iter()
            .map(|example| LineBuilder::new().code(context.with_prefix(&example.input)))
            .collect(),
    );
    document
}
