//! What the group knows about its meetings: when each is (an instant, shown in UTC and the
//! group's zone), who attended and how, who sent apologies, what was discussed, agreed and
//! assigned, and the action items that outlive the meeting.
//!
//! Meetings are numbered `M-1`, `M-2`, ... and action items `A-1`, `A-2`, ... in sequences of
//! their own, so that `R-7` keeps naming a request, poll or consensus call.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a meeting is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MeetingMode {
    Remote,
    InPerson,
    Hybrid,
}

impl MeetingMode {
    pub fn name(self) -> &'static str {
        match self {
            MeetingMode::Remote => "remote",
            MeetingMode::InPerson => "in-person",
            MeetingMode::Hybrid => "hybrid",
        }
    }

    pub fn from_name(name: &str) -> Option<MeetingMode> {
        match name.trim().to_ascii_lowercase().as_str() {
            "remote" | "online" => Some(MeetingMode::Remote),
            "in-person" | "inperson" | "in_person" | "face-to-face" => Some(MeetingMode::InPerson),
            "hybrid" => Some(MeetingMode::Hybrid),
            _ => None,
        }
    }
}

/// How one person attends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttendanceMode {
    Remote,
    InPerson,
}

impl AttendanceMode {
    pub fn name(self) -> &'static str {
        match self {
            AttendanceMode::Remote => "remote",
            AttendanceMode::InPerson => "in person",
        }
    }

    pub fn from_name(name: &str) -> Option<AttendanceMode> {
        match name.trim().to_ascii_lowercase().as_str() {
            "remote" | "online" | "remotely" => Some(AttendanceMode::Remote),
            "in-person" | "inperson" | "in_person" | "in person" | "onsite" | "on-site" => {
                Some(AttendanceMode::InPerson)
            }
            _ => None,
        }
    }
}

/// Where a meeting stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingState {
    Scheduled,
    InProgress {
        started: Timestamp,
    },
    Ended {
        started: Timestamp,
        ended: Timestamp,
    },
    Cancelled {
        at: Timestamp,
    },
}

/// One person's presence at a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendance {
    pub mode: Option<AttendanceMode>,
    pub joined: Timestamp,
    pub left: Option<Timestamp>,
    /// Who recorded it: the person themselves, or the chair or rapporteur (`!present for`).
    pub recorded_by: String,
}

/// Apologies sent for a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regrets {
    pub reason: Option<String>,
    /// The name of an alternate the member sends in their place, as they wrote it.
    pub alternate: Option<String>,
    pub at: Timestamp,
}

/// What a line of the minutes records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MinutesKind {
    Topic,
    Info,
    Agreed,
    Action {
        number: u32,
        owner: String,
        due: Option<Timestamp>,
    },
    Link {
        url: String,
    },
}

impl MinutesKind {
    pub fn label(&self) -> &'static str {
        match self {
            MinutesKind::Topic => "Topic",
            MinutesKind::Info => "Info",
            MinutesKind::Agreed => "Agreed",
            MinutesKind::Action { .. } => "Action",
            MinutesKind::Link { .. } => "Link",
        }
    }
}

/// One line of the minutes, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesEntry {
    #[serde(flatten)]
    pub kind: MinutesKind,
    pub text: String,
    pub by: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinutesLine {
    pub entry: MinutesEntry,
    /// Taken back with `!undo`: kept in the history, left out of the minutes.
    pub undone: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub number: u32,
    pub title: String,
    pub start: Timestamp,
    pub minutes_long: u32,
    pub mode: Option<MeetingMode>,
    pub location: Option<String>,
    /// The recurring schedule of the group file that made it, if any.
    pub series: Option<String>,
    /// Raised by every change that calendar clients must see (a move, a cancellation): the
    /// iCalendar SEQUENCE of the invitation.
    pub sequence: u32,
    pub state: MeetingState,
    pub rapporteur: Option<String>,
    /// Person ID to attendance.
    pub attendance: BTreeMap<String, Attendance>,
    /// Person ID to apologies.
    pub regrets: BTreeMap<String, Regrets>,
    pub minutes: Vec<MinutesLine>,
    /// The reminders already sent, as (minutes before, the start they were for), so that a
    /// moved meeting is reminded of again and a restarted bot never reminds twice.
    pub reminded: Vec<(u32, Timestamp)>,
}

impl Meeting {
    pub fn label(&self) -> String {
        format!("M-{}", self.number)
    }

    pub fn end(&self) -> Timestamp {
        self.start
            .checked_add(jiff::SignedDuration::from_mins(i64::from(
                self.minutes_long,
            )))
            .unwrap_or(self.start)
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self.state, MeetingState::Cancelled { .. })
    }

    pub fn is_in_progress(&self) -> bool {
        matches!(self.state, MeetingState::InProgress { .. })
    }

    pub fn has_ended(&self) -> bool {
        matches!(self.state, MeetingState::Ended { .. })
    }

    /// Neither held nor cancelled yet.
    pub fn is_upcoming(&self) -> bool {
        matches!(self.state, MeetingState::Scheduled)
    }

    /// The lines of the minutes that stand (not undone).
    pub fn standing_minutes(&self) -> impl Iterator<Item = &MinutesEntry> {
        self.minutes
            .iter()
            .filter(|line| !line.undone)
            .map(|line| &line.entry)
    }

    /// Whether this person is recorded as present (and has not left since).
    pub fn is_present(&self, person: &str) -> bool {
        self.attendance
            .get(person)
            .is_some_and(|attendance| attendance.left.is_none())
    }
}

/// An action item: assigned in a meeting, open until its owner (or a chair) marks it done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionItem {
    pub number: u32,
    pub meeting: u32,
    pub owner: String,
    pub text: String,
    pub due: Option<Timestamp>,
    pub assigned_at: Timestamp,
    pub done: Option<(String, Timestamp)>,
    /// Taken back with `!undo` in the meeting that assigned it.
    pub withdrawn: bool,
    /// Reminders sent: `false` before the due date, `true` once overdue.
    pub reminded: Vec<bool>,
}

impl ActionItem {
    pub fn label(&self) -> String {
        format!("A-{}", self.number)
    }

    pub fn is_open(&self) -> bool {
        self.done.is_none() && !self.withdrawn
    }
}

/// Reads `M-3` (any case) as a meeting number.
pub fn parse_meeting_label(text: &str) -> Option<u32> {
    parse_label(text, 'M')
}

/// Reads `A-3` (any case) as an action item number.
pub fn parse_action_label(text: &str) -> Option<u32> {
    parse_label(text, 'A')
}

fn parse_label(text: &str, letter: char) -> Option<u32> {
    let text = text.trim();
    let mut characters = text.chars();
    let first = characters.next()?;
    if !first.eq_ignore_ascii_case(&letter) {
        return None;
    }
    let rest = characters.as_str().strip_prefix('-')?;
    if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok().filter(|number| *number > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read_in_any_case_and_nothing_else() {
        let cases = [
            ("M-3", Some(3)),
            ("m-12", Some(12)),
            (" M-1 ", Some(1)),
            ("M-0", None),
            ("M3", None),
            ("M-", None),
            ("M-x", None),
            ("R-3", None),
            ("M-99999999999", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_meeting_label(text), expected, "{text:?}");
        }
        assert_eq!(parse_action_label("a-4"), Some(4));
        assert_eq!(parse_action_label("M-4"), None);
    }
}
