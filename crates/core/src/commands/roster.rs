use super::{ArgumentProblem, none_or_one};
use crate::directory::{Group, Organization, Person, Role};
use crate::engine::CommandContext;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::tokenize::Token;

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    none_or_one(arguments, "organization")
}

pub fn execute(context: &CommandContext, form: usize, arguments: &[Token]) -> ReplyDocument {
    let group = context.group;
    if form == 0 {
        return whole_roster(group);
    }
    let wanted = arguments[0].text.trim();
    match group.organization(wanted) {
        Some(organization) => one_organization(group, organization),
        None => {
            let names: Vec<&str> = group
                .organizations
                .iter()
                .map(|organization| organization.short_name.as_str())
                .collect();
            ReplyDocument::from_text(format!(
                "{} has no organization \"{wanted}\". Its organizations are: {}.",
                group.short_name,
                names.join(", ")
            ))
        }
    }
}

fn seated_members<'a>(group: &'a Group, organization: &Organization) -> Vec<&'a Person> {
    group
        .people_of(&organization.short_name)
        .filter(|person| person.occupies_seat())
        .collect()
}

/// "Ana Lima (chair)": a name with the roles other than plain membership.
fn name_with_roles(person: &Person) -> String {
    let extra: Vec<&str> = person
        .roles
        .iter()
        .filter(|role| !matches!(role, Role::Member | Role::Participant | Role::Observer))
        .map(|role| role.name())
        .collect();
    if extra.is_empty() {
        person.name.clone()
    } else {
        format!("{} ({})", person.name, extra.join(", "))
    }
}

fn seats_text(organization: &Organization, members: &[&Person]) -> String {
    let filled = members.len() as u32;
    let names: Vec<String> = members
        .iter()
        .map(|person| name_with_roles(person))
        .collect();
    let seat_word = if organization.seats == 1 {
        "seat"
    } else {
        "seats"
    };
    let vacant = organization.seats.saturating_sub(filled);
    match (filled, vacant) {
        (0, _) => format!("0 of {} {seat_word}: vacant", organization.seats),
        (_, 0) => format!(
            "{filled} of {} {seat_word}: {}",
            organization.seats,
            names.join(", ")
        ),
        _ => format!(
            "{filled} of {} {seat_word}: {}; {vacant} vacant",
            organization.seats,
            names.join(", ")
        ),
    }
}

fn whole_roster(group: &Group) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    let total_seats: u32 = group.organizations.iter().map(|o| o.seats).sum();
    let filled: u32 = group
        .organizations
        .iter()
        .map(|organization| {
            (seated_members(group, organization).len() as u32).min(organization.seats)
        })
        .sum();
    document.push_line(
        LineBuilder::new()
            .strong(&group.short_name)
            .text(format!(" ({})", group.name)),
    );
    document.push_line(LineBuilder::new().text(format!(
        "{} organizations; {filled} of {total_seats} seats filled, {} vacant.",
        group.organizations.len(),
        total_seats - filled
    )));
    document.push_list(
        group
            .organizations
            .iter()
            .map(|organization| {
                let members = seated_members(group, organization);
                LineBuilder::new()
                    .strong(&organization.short_name)
                    .text(format!(": {}", seats_text(organization, &members)))
            })
            .collect(),
    );
    for (role, label) in [
        (Role::Chair, "Chair"),
        (Role::CoChair, "Co-chairs"),
        (Role::Rapporteur, "Rapporteur"),
        (Role::Participant, "Participants"),
        (Role::Observer, "Observers"),
        (Role::Staff, "Staff"),
    ] {
        let names: Vec<String> = group
            .people_with_role(role)
            .map(|person| match (&person.organization, role) {
                (Some(organization), Role::Participant | Role::Observer) => {
                    format!("{} ({organization})", person.name)
                }
                _ => person.name.clone(),
            })
            .collect();
        if !names.is_empty() {
            document.push_line(LineBuilder::new().text(format!("{label}: {}.", names.join(", "))));
        }
    }
    document
}

fn one_organization(group: &Group, organization: &Organization) -> ReplyDocument {
    let members = seated_members(group, organization);
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .strong(&organization.short_name)
            .text(format!(" ({}) in {}", organization.name, group.short_name)),
    );
    document.push_line(
        LineBuilder::new().text(format!("Members: {}.", seats_text(organization, &members))),
    );
    let others: Vec<String> = group
        .people_of(&organization.short_name)
        .filter(|person| !person.occupies_seat())
        .map(|person| format!("{} ({})", person.name, person.roles_text()))
        .collect();
    if !others.is_empty() {
        document.push_line(LineBuilder::new().text(format!(
            "Also from {}: {}.",
            organization.short_name,
            others.join(", ")
        )));
    }
    document
}
