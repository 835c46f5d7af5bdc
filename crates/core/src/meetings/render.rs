//! The texts of meetings: the details line, the representation by organization, the minutes
//! mailed to the list and the summary posted to the room. Every text goes through
//! [`ReplyDocument`], so it is escaped once when rendered as HTML.

use super::find::person_with_seat;
use super::model::{AttendanceMode, Meeting, MeetingState, MinutesKind, Regrets};
use super::representation::{Representation, representation};
use crate::directory::Group;
use crate::feedback::render::{person_name, when};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::GroupState;

/// "90 minutes, remote, at "Room 3"".
pub fn meeting_details(meeting: &Meeting) -> String {
    let mut details = super::policy::describe_minutes(meeting.minutes_long);
    if let Some(mode) = meeting.mode {
        details.push_str(&format!(", {}", mode.name()));
    }
    if let Some(location) = &meeting.location {
        details.push_str(&format!(", at \"{location}\""));
    }
    details
}

fn attendee(
    group: &Group,
    meeting: &Meeting,
    person: &str,
    mode: Option<AttendanceMode>,
) -> String {
    let name = person_name(group, person);
    let mut notes = Vec::new();
    if let Some(mode) = mode {
        notes.push(mode.name().to_string());
    }
    if let Some(left) = meeting
        .attendance
        .get(person)
        .and_then(|attendance| attendance.left)
    {
        notes.push(format!("left {}", left.strftime("%H:%M UTC")));
    }
    if notes.is_empty() {
        name
    } else {
        format!("{name} ({})", notes.join(", "))
    }
}

fn regrets_text(group: &Group, person: &str, regrets: &Regrets) -> String {
    let mut text = person_name(group, person);
    let mut notes = Vec::new();
    if let Some(reason) = &regrets.reason {
        notes.push(reason.clone());
    }
    if let Some(alternate) = &regrets.alternate {
        notes.push(format!("alternate: {alternate}"));
    }
    if !notes.is_empty() {
        text.push_str(&format!(" ({})", notes.join("; ")));
    }
    text
}

/// "3 of 4 organizations represented; quorum 3: reached".
pub fn representation_headline(representation: &Representation) -> String {
    let mut text = format!(
        "{} of {} organizations represented",
        representation.represented(),
        representation.organizations.len()
    );
    if let (Some(quorum), Some(reached)) = (representation.quorum, representation.quorum_reached())
    {
        text.push_str(&format!(
            "; quorum {quorum}: {}",
            if reached { "reached" } else { "not reached" }
        ));
    }
    text
}

/// One line per organization, then the others who attended and their apologies.
pub fn representation_lines(
    group: &Group,
    meeting: &Meeting,
    representation: &Representation,
) -> Vec<LineBuilder> {
    let mut lines: Vec<LineBuilder> = representation
        .organizations
        .iter()
        .map(|row| {
            let mut parts = Vec::new();
            if row.is_represented() {
                let names: Vec<String> = row
                    .present
                    .iter()
                    .map(|(person, mode)| attendee(group, meeting, person, *mode))
                    .collect();
                parts.push(format!("represented by {}", names.join(", ")));
            }
            if !row.regrets.is_empty() {
                let names: Vec<String> = row
                    .regrets
                    .iter()
                    .map(|(person, regrets)| regrets_text(group, person, regrets))
                    .collect();
                parts.push(format!("regrets from {}", names.join(", ")));
            }
            if !row.is_represented() && row.regrets.is_empty() {
                parts.push("absent".to_string());
            } else if !row.is_represented() {
                parts.insert(0, "not represented".to_string());
            }
            LineBuilder::new()
                .strong(row.short_name.clone())
                .text(format!(": {}", parts.join("; ")))
        })
        .collect();
    if !representation.others.is_empty() {
        let names: Vec<String> = representation
            .others
            .iter()
            .map(|(person, mode)| {
                let described = group
                    .person_by_id(person)
                    .map(person_with_seat)
                    .unwrap_or_else(|| person.clone());
                match mode {
                    Some(mode) => format!("{described}, {}", mode.name()),
                    None => described,
                }
            })
            .collect();
        lines.push(LineBuilder::new().strong("Also present").text(format!(
            " (not counted for an organization): {}",
            names.join("; ")
        )));
    }
    if !representation.other_regrets.is_empty() {
        let names: Vec<String> = representation
            .other_regrets
            .iter()
            .map(|(person, regrets)| regrets_text(group, person, regrets))
            .collect();
        lines.push(
            LineBuilder::new()
                .strong("Other regrets")
                .text(format!(": {}", names.join(", "))),
        );
    }
    lines
}

fn held_text(group: &Group, meeting: &Meeting) -> String {
    match meeting.state {
        MeetingState::Ended { started, ended } => {
            format!(
                "Held from {} to {}.",
                when(group, started),
                ended.strftime("%H:%M UTC")
            )
        }
        MeetingState::InProgress { started } => {
            format!("In progress since {}.", when(group, started))
        }
        _ => format!("Scheduled for {}.", when(group, meeting.start)),
    }
}

/// The full minutes: header, representation, then the items in order under their topics.
pub fn minutes_document(group: &Group, meeting: &Meeting, state: &GroupState) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().strong(format!(
        "Minutes of {} meeting {} \"{}\"",
        group.short_name,
        meeting.label(),
        meeting.title
    )));
    document.push_line(LineBuilder::new().text(format!(
        "{} Scheduled length: {}.",
        held_text(group, meeting),
        super::policy::describe_minutes(meeting.minutes_long)
    )));
    if let Some(rapporteur) = &meeting.rapporteur {
        document.push_line(
            LineBuilder::new().text(format!("Rapporteur: {}.", person_name(group, rapporteur))),
        );
    }
    let representation = representation(group, meeting);
    document.push_line(
        LineBuilder::new()
            .strong("Attendance")
            .text(format!(": {}.", representation_headline(&representation))),
    );
    document.push_list(representation_lines(group, meeting, &representation));
    let entries: Vec<_> = meeting.standing_minutes().collect();
    if entries.is_empty() {
        document.push_line(LineBuilder::new().text("No items were minuted."));
    } else {
        document.push_line(LineBuilder::new().strong("Minutes").text(" (times in UTC)"));
        document.push_list(
            entries
                .iter()
                .map(|entry| minutes_line(group, state, entry))
                .collect(),
        );
    }
    let actions: Vec<String> = entries
        .iter()
        .filter_map(|entry| match &entry.kind {
            MinutesKind::Action { number, owner, due } => {
                Some(action_summary(group, *number, owner, &entry.text, *due))
            }
            _ => None,
        })
        .collect();
    if !actions.is_empty() {
        document.push_line(LineBuilder::new().strong("Action items"));
        document.push_list(
            actions
                .into_iter()
                .map(|text| LineBuilder::new().text(text))
                .collect(),
        );
    }
    document
}

pub fn action_summary(
    group: &Group,
    number: u32,
    owner: &str,
    text: &str,
    due: Option<jiff::Timestamp>,
) -> String {
    let mut line = format!("A-{number}: {} to {text}", person_name(group, owner));
    if let Some(due) = due {
        line.push_str(&format!(", due {}", when(group, due)));
    }
    line
}

fn minutes_line(
    group: &Group,
    _state: &GroupState,
    entry: &super::model::MinutesEntry,
) -> LineBuilder {
    let time = entry.at.strftime("%H:%M").to_string();
    let line = LineBuilder::new().text(format!("{time} "));
    match &entry.kind {
        MinutesKind::Topic => line.strong(format!("Topic: {}", entry.text)),
        MinutesKind::Info => line.text(format!("Info: {}", entry.text)),
        MinutesKind::Agreed => line.strong("Agreed:").text(format!(" {}", entry.text)),
        MinutesKind::Action { number, owner, due } => line.text(format!(
            "Action {}",
            action_summary(group, *number, owner, &entry.text, *due)
        )),
        MinutesKind::Link { url } => {
            let line = line.text("Link: ").code(url.clone());
            if entry.text.is_empty() {
                line
            } else {
                line.text(format!(" {}", entry.text))
            }
        }
    }
}

/// The room's summary at the end: a few lines whatever the size of the group (represented,
/// regrets, absent), and what was agreed and assigned; the full minutes go to the list.
pub fn summary_document(group: &Group, meeting: &Meeting, _state: &GroupState) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    let representation = representation(group, meeting);
    document.push_line(LineBuilder::new().text(format!(
        "Meeting {} \"{}\" ended. {}.",
        meeting.label(),
        meeting.title,
        representation_headline(&representation),
    )));
    let represented: Vec<String> = representation
        .organizations
        .iter()
        .filter(|row| row.is_represented())
        .map(|row| row.short_name.clone())
        .collect();
    let regrets: Vec<String> = representation
        .organizations
        .iter()
        .filter(|row| !row.is_represented() && !row.regrets.is_empty())
        .map(|row| {
            let names: Vec<String> = row
                .regrets
                .iter()
                .map(|(person, _)| person_name(group, person))
                .collect();
            format!("{} ({})", row.short_name, names.join(", "))
        })
        .collect();
    let absent: Vec<String> = representation
        .organizations
        .iter()
        .filter(|row| !row.is_represented() && row.regrets.is_empty())
        .map(|row| row.short_name.clone())
        .collect();
    let mut lines = Vec::new();
    for (label, names) in [
        ("Represented", represented),
        ("Regrets", regrets),
        ("Absent", absent),
    ] {
        if !names.is_empty() {
            lines.push(
                LineBuilder::new()
                    .strong(label)
                    .text(format!(": {}", names.join(", "))),
            );
        }
    }
    if !representation.others.is_empty() {
        let names: Vec<String> = representation
            .others
            .iter()
            .map(|(person, _)| person_name(group, person))
            .collect();
        lines.push(
            LineBuilder::new()
                .strong("Also present")
                .text(format!(": {}", names.join(", "))),
        );
    }
    document.push_list(lines);
    let agreed = meeting
        .standing_minutes()
        .filter(|entry| entry.kind == MinutesKind::Agreed)
        .count();
    let actions = meeting
        .standing_minutes()
        .filter(|entry| matches!(entry.kind, MinutesKind::Action { .. }))
        .count();
    document.push_line(LineBuilder::new().text(format!(
        "{} agreed, {} assigned. The full minutes go to the list{}.",
        count(agreed, "item"),
        count(actions, "action item"),
        if group.list_address.is_some() {
            ""
        } else {
            " (the group has none configured)"
        }
    )));
    document
}

pub fn count(number: usize, unit: &str) -> String {
    if number == 1 {
        format!("1 {unit}")
    } else {
        format!("{number} {unit}s")
    }
}
