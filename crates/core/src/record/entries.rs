//! A group's record entries, derived from its state: the meetings held (minutes and
//! attendance), the feedback requests (every organization's status), the closed polls (their
//! tally: a poll gauges support, it is not a vote, but what it showed is on the record), the
//! adopted outcomes (designation, minority views, Chair's report) and the action items. Each entry's `data` holds
//! facts only, never text that depends on the time of publication (such as "overdue"), so an
//! entry changes, and a correction enters the chain, only when the facts change.

use crate::consensus::record::adopted_outcomes;
use crate::directory::Group;
use crate::feedback::model::{FeedbackRequest, RequestState};
use crate::meetings::model::{ActionItem, Meeting, MeetingState};
use crate::state::GroupState;
use jiff::Timestamp;
use serde_json::{Value, json};

/// What an entry records; its name is the first part of the entry's key and the site's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    Meeting,
    Request,
    Poll,
    Outcome,
    Action,
}

impl EntryKind {
    pub const ALL: [EntryKind; 5] = [
        EntryKind::Meeting,
        EntryKind::Request,
        EntryKind::Poll,
        EntryKind::Outcome,
        EntryKind::Action,
    ];

    /// The folder of the entry's pages (`meetings`), and the name of its table files.
    pub fn folder(self) -> &'static str {
        match self {
            EntryKind::Meeting => "meetings",
            EntryKind::Request => "requests",
            EntryKind::Poll => "polls",
            EntryKind::Outcome => "outcomes",
            EntryKind::Action => "actions",
        }
    }

    /// The kind's name in the chain (`meeting`).
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Meeting => "meeting",
            EntryKind::Request => "request",
            EntryKind::Poll => "poll",
            EntryKind::Outcome => "outcome",
            EntryKind::Action => "action",
        }
    }

    pub fn from_name(name: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The heading of the kind's section on the group's page.
    pub fn heading(self) -> &'static str {
        match self {
            EntryKind::Meeting => "Meetings",
            EntryKind::Request => "Feedback requests",
            EntryKind::Poll => "Polls",
            EntryKind::Outcome => "Consensus outcomes",
            EntryKind::Action => "Action items",
        }
    }
}

/// One entry of the record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEntry {
    pub kind: EntryKind,
    /// The stable key, which is also the permalink's path without its extension
    /// (`meetings/m-3`): it never changes once published.
    pub key: String,
    /// The label the group uses (`M-3`, `R-5`, `A-2`).
    pub label: String,
    pub title: String,
    /// When it happened: a meeting's end, a request's opening, an outcome's adoption, an
    /// action's assignment.
    pub at: Timestamp,
    /// The facts, as canonical data (see `chain::canonical_json`).
    pub data: Value,
}

/// Every entry of the group's record, by kind, then by number.
pub fn record_entries(group: &Group, state: &GroupState) -> Vec<RecordEntry> {
    let mut entries = Vec::new();
    for meeting in state.meetings.values() {
        if let MeetingState::Ended { started, ended } = meeting.state {
            entries.push(meeting_entry(group, meeting, started, ended));
        }
    }
    entries.extend(state.requests.values().map(request_entry));
    entries.extend(state.polls.values().filter_map(poll_entry));
    for outcome in adopted_outcomes(state) {
        let number = outcome.id.trim_start_matches("R-").to_string();
        entries.push(RecordEntry {
            kind: EntryKind::Outcome,
            key: format!("outcomes/r-{number}"),
            label: outcome.id.clone(),
            title: outcome.text.clone(),
            at: outcome.adopted_at,
            data: serde_json::to_value(&outcome).unwrap_or(Value::Null),
        });
    }
    entries.extend(state.actions.values().map(action_entry));
    entries
}

/// A closed poll: its question, options and how many chose each (the page shows them by
/// organization). An open poll is not on the record: its tally may be hidden until it closes.
fn poll_entry(poll: &crate::consensus::model::Poll) -> Option<RecordEntry> {
    let closed = poll.closed?;
    let mut counts = vec![0_u64; poll.options.len()];
    for answer in poll.answers.values() {
        if let Some(count) = counts.get_mut(answer.option) {
            *count += 1;
        }
    }
    Some(RecordEntry {
        kind: EntryKind::Poll,
        key: format!("polls/r-{}", poll.number),
        label: poll.label(),
        title: poll.question.clone(),
        at: closed,
        data: json!({
            "id": poll.label(),
            "question": poll.question,
            "options": poll.options,
            "counts": counts,
            "answers": poll.answers.len(),
            "opened_at": poll.opened.at,
            "closed_at": closed,
        }),
    })
}

fn person(group: &Group, id: &str) -> Value {
    match group.person_by_id(id) {
        Some(person) => json!({
            "id": person.id,
            "name": person.name,
            "organization": person.organization,
        }),
        None => json!({ "id": id }),
    }
}

fn meeting_entry(
    group: &Group,
    meeting: &Meeting,
    started: Timestamp,
    ended: Timestamp,
) -> RecordEntry {
    let present: Vec<Value> = meeting
        .attendance
        .iter()
        .map(|(id, attendance)| {
            json!({
                "person": person(group, id),
                "mode": attendance.mode.map(|mode| mode.name()),
            })
        })
        .collect();
    let regrets: Vec<Value> = meeting
        .regrets
        .iter()
        .map(|(id, regrets)| {
            json!({
                "person": person(group, id),
                "reason": regrets.reason,
                "alternate": regrets.alternate,
            })
        })
        .collect();
    let minutes: Vec<Value> = meeting
        .minutes
        .iter()
        .filter(|line| !line.undone)
        .map(|line| serde_json::to_value(&line.entry).unwrap_or(Value::Null))
        .collect();
    RecordEntry {
        kind: EntryKind::Meeting,
        key: format!("meetings/m-{}", meeting.number),
        label: meeting.label(),
        title: meeting.title.clone(),
        at: ended,
        data: json!({
            "number": meeting.number,
            "title": meeting.title,
            "scheduled_start": meeting.start,
            "started": started,
            "ended": ended,
            "location": meeting.location,
            "rapporteur": meeting.rapporteur.as_deref().map(|id| person(group, id)),
            "present": present,
            "regrets": regrets,
            "minutes": minutes,
        }),
    }
}

fn request_entry(request: &FeedbackRequest) -> RecordEntry {
    let organizations: Vec<Value> = request
        .organizations
        .iter()
        .map(|(organization, status)| {
            json!({
                "organization": organization,
                "acknowledged_at": status.acknowledged.as_ref().map(|stamp| stamp.at),
                "acknowledged_by": status.acknowledged.as_ref().map(|stamp| &stamp.by),
                "position": status.response.as_ref().map(|response| response.position.to_string()),
                "comment": status.response.as_ref().and_then(|response| response.text.clone()),
                "responded_at": status.response.as_ref().map(|response| response.stamp.at),
                "responded_by": status.response.as_ref().map(|response| &response.stamp.by),
                "extended_until": status.granted_until(),
            })
        })
        .collect();
    let (closed_at, outcome) = match &request.state {
        RequestState::Open => (None, None),
        RequestState::Closed { outcome, at, .. } => (Some(*at), outcome.clone()),
    };
    RecordEntry {
        kind: EntryKind::Request,
        key: format!("requests/r-{}", request.number),
        label: format!("R-{}", request.number),
        title: request.title.clone(),
        at: request.opened.at,
        data: json!({
            "number": request.number,
            "title": request.title,
            "document": request.document,
            "opened_at": request.opened.at,
            "opened_by": request.opened.by,
            "acknowledge_by": request.acknowledge_by,
            "respond_by": request.respond_by,
            "closed_at": closed_at,
            "outcome": outcome,
            "organizations": organizations,
        }),
    }
}

fn action_entry(action: &ActionItem) -> RecordEntry {
    RecordEntry {
        kind: EntryKind::Action,
        key: format!("actions/a-{}", action.number),
        label: action.label(),
        title: action.text.clone(),
        at: action.assigned_at,
        data: json!({
            "number": action.number,
            "meeting": format!("M-{}", action.meeting),
            "owner": action.owner,
            "text": action.text,
            "due": action.due,
            "assigned_at": action.assigned_at,
            "done_by": action.done.as_ref().map(|(by, _)| by),
            "done_at": action.done.as_ref().map(|(_, at)| at),
            "withdrawn": action.withdrawn,
        }),
    }
}
