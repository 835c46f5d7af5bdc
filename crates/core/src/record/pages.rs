//! What an entry's page says, as one reply document (escaped in one place when rendered to
//! HTML): the minutes of a meeting, every organization's status on a request, an outcome with
//! its tally, designation, minority views and Chair's report, an action item.

use super::entries::{EntryKind, RecordEntry};
use crate::consensus::render::{call_tally, outcome_lines, poll_tally};
use crate::directory::Group;
use crate::feedback::render::{person_name, status_line, when};
use crate::meetings::render::minutes_document;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::GroupState;
use jiff::Timestamp;

/// The number in an entry's key (`requests/r-5` → 5).
fn number_of(entry: &RecordEntry) -> Option<u32> {
    entry.key.rsplit('-').next()?.parse().ok()
}

/// The body of an entry's page; `now` only marks what is overdue.
pub fn entry_document(
    group: &Group,
    state: &GroupState,
    entry: &RecordEntry,
    now: Timestamp,
) -> ReplyDocument {
    let number = number_of(entry).unwrap_or_default();
    match entry.kind {
        EntryKind::Meeting => match state.meetings.get(&number) {
            Some(meeting) => minutes_document(group, meeting, state),
            None => ReplyDocument::from_text("This meeting is no longer in the record."),
        },
        EntryKind::Request => match state.requests.get(&number) {
            Some(request) => {
                let mut document = ReplyDocument::new();
                document.push_line(LineBuilder::new().text(format!(
                    "Opened {} by {}. Acknowledge by {}; respond by {}.",
                    when(group, request.opened.at),
                    person_name(group, &request.opened.by),
                    when(group, request.acknowledge_by),
                    when(group, request.respond_by)
                )));
                if let Some(document_link) = &request.document {
                    document.push_line(
                        LineBuilder::new()
                            .text("Document: ")
                            .code(document_link.clone()),
                    );
                }
                document.push_list(
                    request
                        .organizations
                        .iter()
                        .map(|(organization, status)| {
                            status_line(group, request, organization, status, now)
                        })
                        .collect(),
                );
                document
            }
            None => ReplyDocument::from_text("This request is no longer in the record."),
        },
        EntryKind::Poll => match state.polls.get(&number) {
            Some(poll) => {
                let mut document = poll_tally(group, poll);
                outcome_lines(&mut document, group, &poll.outcome);
                document
            }
            None => ReplyDocument::from_text("This poll is no longer in the record."),
        },
        EntryKind::Outcome => {
            if let Some(call) = state.calls.get(&number) {
                let mut document = call_tally(group, call);
                outcome_lines(&mut document, group, &call.outcome);
                document
            } else if let Some(poll) = state.polls.get(&number) {
                let mut document = poll_tally(group, poll);
                outcome_lines(&mut document, group, &poll.outcome);
                document
            } else {
                ReplyDocument::from_text("This outcome is no longer in the record.")
            }
        }
        EntryKind::Action => match state.actions.get(&number) {
            Some(action) => {
                let mut document = ReplyDocument::new();
                let mut line = LineBuilder::new().text(format!(
                    "{}, from M-{}, assigned {}",
                    person_name(group, &action.owner),
                    action.meeting,
                    when(group, action.assigned_at)
                ));
                if let Some(due) = action.due {
                    line = line.text(format!("; due {}", when(group, due)));
                }
                document.push_line(line);
                document.push_line(LineBuilder::new().text(
                    match (&action.done, action.withdrawn) {
                        (_, true) => "Withdrawn.".to_string(),
                        (Some((by, at)), _) => {
                            format!(
                                "Done {} (recorded by {}).",
                                when(group, *at),
                                person_name(group, by)
                            )
                        }
                        (None, false) => "Open.".to_string(),
                    },
                ));
                document
            }
            None => ReplyDocument::from_text("This action item is no longer in the record."),
        },
    }
}

/// The rows of a kind's CSV table, header first: flat facts from the entries' data.
pub fn csv_rows(kind: EntryKind, entries: &[&RecordEntry]) -> Vec<Vec<String>> {
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut rows = Vec::new();
    match kind {
        EntryKind::Meeting => {
            rows.push(
                ["id", "title", "started", "ended", "present", "regrets"]
                    .map(String::from)
                    .to_vec(),
            );
            for entry in entries {
                let data = &entry.data;
                rows.push(vec![
                    entry.label.clone(),
                    entry.title.clone(),
                    text(&data["started"]),
                    text(&data["ended"]),
                    data["present"].as_array().map_or(0, Vec::len).to_string(),
                    data["regrets"].as_array().map_or(0, Vec::len).to_string(),
                ]);
            }
        }
        EntryKind::Request => {
            rows.push(
                [
                    "id",
                    "title",
                    "organization",
                    "acknowledged_at",
                    "position",
                    "responded_at",
                ]
                .map(String::from)
                .to_vec(),
            );
            for entry in entries {
                for organization in entry.data["organizations"].as_array().into_iter().flatten() {
                    rows.push(vec![
                        entry.label.clone(),
                        entry.title.clone(),
                        text(&organization["organization"]),
                        text(&organization["acknowledged_at"]),
                        text(&organization["position"]),
                        text(&organization["responded_at"]),
                    ]);
                }
            }
        }
        EntryKind::Poll => {
            rows.push(
                [
                    "id",
                    "question",
                    "opened_at",
                    "closed_at",
                    "answers",
                    "counts",
                ]
                .map(String::from)
                .to_vec(),
            );
            for entry in entries {
                let data = &entry.data;
                // "1. Yes: 4; 2. No: 1": each option with how many chose it.
                let counts: Vec<String> = data["options"]
                    .as_array()
                    .map(|options| {
                        options
                            .iter()
                            .enumerate()
                            .map(|(index, option)| {
                                format!(
                                    "{}. {}: {}",
                                    index + 1,
                                    text(option),
                                    text(&data["counts"][index])
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                rows.push(vec![
                    entry.label.clone(),
                    entry.title.clone(),
                    text(&data["opened_at"]),
                    text(&data["closed_at"]),
                    text(&data["answers"]),
                    counts.join("; "),
                ]);
            }
        }
        EntryKind::Outcome => {
            rows.push(
                [
                    "id",
                    "text",
                    "designation",
                    "adopted_at",
                    "publish_by",
                    "minority_views",
                ]
                .map(String::from)
                .to_vec(),
            );
            for entry in entries {
                let data = &entry.data;
                rows.push(vec![
                    entry.label.clone(),
                    entry.title.clone(),
                    text(&data["designation"]),
                    text(&data["adopted_at"]),
                    text(&data["publish_by"]),
                    data["minority_views"]
                        .as_array()
                        .map_or(0, Vec::len)
                        .to_string(),
                ]);
            }
        }
        EntryKind::Action => {
            rows.push(
                [
                    "id",
                    "meeting",
                    "owner",
                    "text",
                    "due",
                    "done_at",
                    "withdrawn",
                ]
                .map(String::from)
                .to_vec(),
            );
            for entry in entries {
                let data = &entry.data;
                rows.push(vec![
                    entry.label.clone(),
                    text(&data["meeting"]),
                    text(&data["owner"]),
                    entry.title.clone(),
                    text(&data["due"]),
                    text(&data["done_at"]),
                    text(&data["withdrawn"]),
                ]);
            }
        }
    }
    rows
}

/// A field of a published table as a spreadsheet must read it: text that a spreadsheet would
/// take for a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) is prefixed with
/// an apostrophe, since titles and names come from anyone who writes to the group.
pub fn inert_field(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// RFC 4180 text of rows, with CRLF line ends; every field made inert for spreadsheets.
pub fn to_csv(rows: &[Vec<String>]) -> String {
    rows.iter()
        .map(|row| {
            row.iter()
                .map(|field| crate::feedback::response_times::csv_field(&inert_field(field)))
                .collect::<Vec<_>>()
                .join(",")
                + "\r\n"
        })
        .collect()
}
