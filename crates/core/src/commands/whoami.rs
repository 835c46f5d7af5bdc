use super::{ArgumentProblem, none_or_one};
use crate::directory::Person;
use crate::engine::CommandContext;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::tokenize::Token;

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    none_or_one(
        arguments,
        "person (a Matrix ID, an email address or a full name)",
    )
}

pub fn execute(context: &CommandContext, form: usize, arguments: &[Token]) -> ReplyDocument {
    if form == 0 {
        return match context.person {
            Some(person) => describe(context, person, "You are"),
            None => unknown_sender(context),
        };
    }
    let query = arguments[0].text.trim();
    match context.group.find_person(query) {
        Some(person) => describe(context, person, "This is"),
        None => ReplyDocument::from_text(format!(
            "No one in {} matches \"{query}\". Give a Matrix ID, an email address or a full name \
             as the group file writes it.",
            context.group.short_name
        )),
    }
}

fn describe(context: &CommandContext, person: &Person, opening: &str) -> ReplyDocument {
    let group = context.group;
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .text(format!("{opening} "))
            .strong(&person.name)
            .text(format!(" in {}.", group.short_name)),
    );
    let organization_text = match person.organization.as_deref() {
        Some(short_name) => match group.organization(short_name) {
            Some(organization) => format!("{} ({})", organization.short_name, organization.name),
            None => short_name.to_string(),
        },
        None => "none".to_string(),
    };
    let roles = if person.roles.is_empty() {
        "none".to_string()
    } else {
        person.roles_text()
    };
    let mut addresses: Vec<&str> = person.matrix_ids.iter().map(String::as_str).collect();
    addresses.extend(person.emails.iter().map(String::as_str));
    document.push_list(vec![
        LineBuilder::new().text(format!("Organization: {organization_text}")),
        LineBuilder::new().text(format!("Roles: {roles}")),
        LineBuilder::new().text(format!("Addresses: {}", addresses.join(", "))),
    ]);
    document
}

fn unknown_sender(context: &CommandContext) -> ReplyDocument {
    let group = context.group;
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().text(format!(
        "The {} group file does not list {}, so you may use only the commands open to everyone.",
        group.short_name, context.sender
    )));
    let staff: Vec<&str> = group
        .people_with_role(crate::directory::Role::Staff)
        .map(|person| person.name.as_str())
        .collect();
    if !staff.is_empty() {
        document.push_line(LineBuilder::new().text(format!(
            "If you belong to the group, ask staff ({}) to add this address.",
            staff.join(", ")
        )));
    }
    document
}
