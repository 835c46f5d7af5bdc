//! Attendance over time: `!attendance [organization|person] [since <date>]` in chat, and the
//! rows of `rapporteur export attendance` for staff. Only meetings that were held count.

use super::find::local_date;
use super::model::{AttendanceMode, Meeting};
use super::representation::representation;
use crate::commands::ArgumentProblem;
use crate::directory::Group;
use crate::engine::CommandContext;
use crate::feedback::render::person_name;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::GroupState;
use crate::tokenize::Token;
use jiff::civil::Date;
use serde::Serialize;

/// One person's standing at one held meeting, for export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttendanceRow {
    /// The group's ID in the configuration, as in the other exports.
    pub group: String,
    pub meeting: String,
    pub date: String,
    pub title: String,
    pub person_id: String,
    pub person: String,
    /// The organization the person holds a seat for; empty for participants, observers, staff.
    pub organization: String,
    pub role: String,
    /// `present`, `regrets` or `absent`.
    pub status: String,
    /// `remote`, `in person` or empty.
    pub mode: String,
    pub reason: String,
    pub alternate: String,
}

pub fn held_meetings<'a>(
    state: &'a GroupState,
    since: Option<Date>,
    group: &Group,
) -> Vec<&'a Meeting> {
    state
        .meetings
        .values()
        .filter(|meeting| meeting.has_ended())
        .filter(|meeting| since.is_none_or(|since| local_date(group, meeting.start) >= since))
        .collect()
}

/// Every person of the group file at every held meeting: present, regrets or absent.
pub fn attendance_rows(group: &Group, state: &GroupState) -> Vec<AttendanceRow> {
    let mut rows = Vec::new();
    for meeting in held_meetings(state, None, group) {
        for person in &group.people {
            let attendance = meeting.attendance.get(&person.id);
            let regrets = meeting.regrets.get(&person.id);
            let status = match (attendance, regrets) {
                (Some(_), _) => "present",
                (None, Some(_)) => "regrets",
                (None, None) => "absent",
            };
            rows.push(AttendanceRow {
                group: group.id.clone(),
                meeting: meeting.label(),
                date: local_date(group, meeting.start).to_string(),
                title: meeting.title.clone(),
                person_id: person.id.clone(),
                person: person.name.clone(),
                organization: if person.occupies_seat() {
                    person.organization.clone().unwrap_or_default()
                } else {
                    String::new()
                },
                role: person.roles_text(),
                status: status.to_string(),
                mode: attendance
                    .and_then(|attendance| attendance.mode)
                    .map(AttendanceMode::name)
                    .unwrap_or_default()
                    .to_string(),
                reason: regrets
                    .filter(|_| attendance.is_none())
                    .and_then(|regrets| regrets.reason.clone())
                    .unwrap_or_default(),
                alternate: regrets
                    .filter(|_| attendance.is_none())
                    .and_then(|regrets| regrets.alternate.clone())
                    .unwrap_or_default(),
            });
        }
    }
    rows
}

/// The export's columns, in order: the CSV header and the JSON keys.
pub const EXPORT_COLUMNS: [&str; 12] = [
    "group",
    "meeting",
    "date",
    "title",
    "person_id",
    "person",
    "organization",
    "role",
    "status",
    "mode",
    "reason",
    "alternate",
];

impl AttendanceRow {
    fn cells(&self) -> [&str; 12] {
        [
            &self.group,
            &self.meeting,
            &self.date,
            &self.title,
            &self.person_id,
            &self.person,
            &self.organization,
            &self.role,
            &self.status,
            &self.mode,
            &self.reason,
            &self.alternate,
        ]
    }
}

/// The rows as CSV with a header line, lines ending in CRLF (RFC 4180).
pub fn to_csv(rows: &[AttendanceRow]) -> String {
    let mut csv = EXPORT_COLUMNS.join(",");
    csv.push_str("\r\n");
    for row in rows {
        let fields: Vec<String> = row
            .cells()
            .iter()
            .map(|cell| crate::feedback::response_times::csv_field(cell))
            .collect();
        csv.push_str(&fields.join(","));
        csv.push_str("\r\n");
    }
    csv
}

/// The rows as a pretty-printed JSON array of objects with the CSV's columns as keys.
pub fn to_json(rows: &[AttendanceRow]) -> String {
    serde_json::to_string_pretty(rows).unwrap_or_else(|_| "[]".to_string())
}

pub fn choose_attendance_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    let since_at = arguments
        .iter()
        .position(|token| !token.was_quoted && token.text.eq_ignore_ascii_case("since"));
    if let Some(index) = since_at {
        match arguments.get(index + 1..) {
            Some([date]) if date.text.parse::<Date>().is_ok() => {}
            _ => {
                return Err(ArgumentProblem::new(
                    "\"since\" takes one date, written like 2026-01-31",
                ));
            }
        }
    }
    let before_since = since_at.unwrap_or(arguments.len());
    Ok(if before_since == 0 { 0 } else { 1 })
}

pub fn attendance(context: &CommandContext, form: usize, arguments: &[Token]) -> ReplyDocument {
    let since_at = arguments
        .iter()
        .position(|token| !token.was_quoted && token.text.eq_ignore_ascii_case("since"));
    let since = since_at.and_then(|index| arguments.get(index + 1)?.text.parse::<Date>().ok());
    let subject_tokens = &arguments[..since_at.unwrap_or(arguments.len())];
    let held = held_meetings(context.state, since, context.group);
    let since_text = since
        .map(|since| format!(" since {since}"))
        .unwrap_or_default();
    let mut document = ReplyDocument::new();
    if held.is_empty() {
        document.push_line(LineBuilder::new().text(format!(
            "{} has held no meetings{since_text}.",
            context.group.short_name
        )));
        return document;
    }
    let count = held.len();
    if form == 0 {
        document.push_line(LineBuilder::new().text(format!(
            "Attendance in {} at {} held meeting{}{since_text}:",
            context.group.short_name,
            count,
            if count == 1 { "" } else { "s" }
        )));
        let rows = context
            .group
            .organizations
            .iter()
            .map(|organization| {
                let (represented, regrets) =
                    held.iter().fold((0, 0), |(present, regrets), meeting| {
                        let row = representation(context.group, meeting)
                            .organizations
                            .into_iter()
                            .find(|row| row.short_name == organization.short_name);
                        match row {
                            Some(row) if row.is_represented() => (present + 1, regrets),
                            Some(row) if !row.regrets.is_empty() => (present, regrets + 1),
                            _ => (present, regrets),
                        }
                    });
                LineBuilder::new().text(format!(
                    "{}: represented at {represented} of {count}, regrets at {regrets}, absent \
                     from {}",
                    organization.short_name,
                    count - represented - regrets
                ))
            })
            .collect();
        document.push_list(rows);
        return document;
    }
    let query: Vec<&str> = subject_tokens
        .iter()
        .map(|token| token.text.as_str())
        .collect();
    let query = query.join(" ");
    if let Some(organization) = context.group.organization(&query) {
        document.push_line(LineBuilder::new().text(format!(
            "{} at the {count} held meeting{} of {}{since_text}:",
            organization.short_name,
            if count == 1 { "" } else { "s" },
            context.group.short_name
        )));
        let lines = held
            .iter()
            .map(|meeting| {
                let row = representation(context.group, meeting)
                    .organizations
                    .into_iter()
                    .find(|row| row.short_name == organization.short_name);
                let text = match row {
                    Some(row) if row.is_represented() => format!(
                        "represented by {}",
                        row.present
                            .iter()
                            .map(|(person, _)| person_name(context.group, person))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Some(row) if !row.regrets.is_empty() => "regrets".to_string(),
                    _ => "absent".to_string(),
                };
                LineBuilder::new().text(format!(
                    "{} {} ({}): {text}",
                    local_date(context.group, meeting.start),
                    meeting.label(),
                    meeting.title
                ))
            })
            .collect();
        document.push_list(lines);
        return document;
    }
    let person = match super::find::find_person_named(context.group, &query) {
        Ok(person) => person,
        Err(reply) => return reply,
    };
    let present = held
        .iter()
        .filter(|meeting| meeting.attendance.contains_key(&person.id))
        .count();
    let regrets = held
        .iter()
        .filter(|meeting| {
            !meeting.attendance.contains_key(&person.id) && meeting.regrets.contains_key(&person.id)
        })
        .count();
    document.push_line(LineBuilder::new().text(format!(
        "{} attended {present} of {count} held meeting{}{since_text}, sent regrets for {regrets}:",
        person.name,
        if count == 1 { "" } else { "s" }
    )));
    document.push_list(
        held.iter()
            .map(|meeting| {
                let status = match (
                    meeting.attendance.get(&person.id),
                    meeting.regrets.contains_key(&person.id),
                ) {
                    (Some(attendance), _) => match attendance.mode {
                        Some(mode) => format!("present, {}", mode.name()),
                        None => "present".to_string(),
                    },
                    (None, true) => "regrets".to_string(),
                    (None, false) => "absent".to_string(),
                };
                LineBuilder::new().text(format!(
                    "{} {}: {status}",
                    local_date(context.group, meeting.start),
                    meeting.label()
                ))
            })
            .collect(),
    );
    document
}
