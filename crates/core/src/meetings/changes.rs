//! How the meeting changes of the change log move the group's state on. `state.rs` holds the
//! `Change` enum for every kind of record; the meeting part of the fold lives here, beside the
//! model it fills.

use super::model::{
    ActionItem, Attendance, Meeting, MeetingState, MinutesKind, MinutesLine, Regrets,
};
use crate::state::{Change, GroupState};

/// Whether a change is about meetings or action items (so the calendar feed may differ).
pub fn is_meeting_change(change: &Change) -> bool {
    matches!(
        change,
        Change::MeetingScheduled { .. }
            | Change::MeetingMoved { .. }
            | Change::MeetingCancelled { .. }
            | Change::MeetingStarted { .. }
            | Change::MeetingEnded { .. }
    )
}

/// Applies a meeting change; returns `false` for a change that is not about meetings.
pub fn apply(state: &mut GroupState, change: &Change) -> bool {
    match change {
        Change::MeetingScheduled {
            number,
            title,
            start,
            minutes_long,
            mode,
            location,
            series,
            ..
        } => {
            state.last_meeting_number = state.last_meeting_number.max(*number);
            state.meetings.insert(
                *number,
                Meeting {
                    number: *number,
                    title: title.clone(),
                    start: *start,
                    minutes_long: *minutes_long,
                    mode: *mode,
                    location: location.clone(),
                    series: series.clone(),
                    sequence: 0,
                    state: MeetingState::Scheduled,
                    rapporteur: None,
                    attendance: Default::default(),
                    regrets: Default::default(),
                    minutes: Vec::new(),
                    reminded: Vec::new(),
                },
            );
        }
        Change::MeetingMoved { number, start, .. } => {
            if let Some(meeting) = state.meetings.get_mut(number) {
                meeting.start = *start;
                meeting.sequence += 1;
            }
        }
        Change::MeetingCancelled { number, at, .. } => {
            if let Some(meeting) = state.meetings.get_mut(number) {
                meeting.state = MeetingState::Cancelled { at: *at };
                meeting.sequence += 1;
            }
        }
        Change::MeetingStarted { number, at, .. } => {
            if let Some(meeting) = state.meetings.get_mut(number) {
                meeting.state = MeetingState::InProgress { started: *at };
            }
        }
        Change::MeetingEnded { number, at, .. } => {
            if let Some(meeting) = state.meetings.get_mut(number) {
                let started = match meeting.state {
                    MeetingState::InProgress { started } => started,
                    _ => *at,
                };
                meeting.state = MeetingState::Ended {
                    started,
                    ended: *at,
                };
            }
        }
        Change::RapporteurChosen { number, person, .. } => {
            if let Some(meeting) = state.meetings.get_mut(number) {
                meeting.rapporteur = Some(person.clone());
            }
        }
        Change::Attended {
            number,
            person,
            mode,
            by,
            at,
        } => {
            if let Some(meeting) = state.meetings.get_mut(number) {
                let joined = meeting
                    .attendance
                    .get(person)
                    .map(|earlier| earlier.joined)
                    .unwrap_or(*at);
                meeting.attendance.insert(
                    person.clone(),
                    Attendance {
                        mode: *mode,
                        joined,
                        left: None,
                        recorded_by: by.clone(),
                    },
                );
            }
        }
        Change::LeftMeeting { number, person, at } => {
            if let Some(attendance) = state
                .meetings
                .get_mut(number)
                .and_then(|meeting| meeting.attendance.get_mut(person))
            {
                attendance.left = Some(*at);
            }
        }
        Change::RegretsSent {
            number,
            person,
            reason,
            alternate,
            at,
            ..
        } => {
            if let Some(meeting) = state.meetings.get_mut(number) {
                meeting.regrets.insert(
                    person.clone(),
                    Regrets {
                        reason: reason.clone(),
                        alternate: alternate.clone(),
                        at: *at,
                    },
                );
            }
        }
        Change::MinutesRecorded { number, entry } => {
            if let Some(meeting) = state.meetings.get_mut(number) {
                if let MinutesKind::Action {
                    number: action,
                    owner,
                    due,
                } = &entry.kind
                {
                    state.last_action_number = state.last_action_number.max(*action);
                    state.actions.insert(
                        *action,
                        ActionItem {
                            number: *action,
                            meeting: *number,
                            owner: owner.clone(),
                            text: entry.text.clone(),
                            due: *due,
                            assigned_at: entry.at,
                            done: None,
                            withdrawn: false,
                            reminded: Vec::new(),
                        },
                    );
                }
                meeting.minutes.push(MinutesLine {
                    entry: entry.clone(),
                    undone: false,
                });
            }
        }
        Change::MinutesUndone { number, index, .. } => {
            if let Some(line) = state
                .meetings
                .get_mut(number)
                .and_then(|meeting| meeting.minutes.get_mut(*index))
            {
                line.undone = true;
                if let MinutesKind::Action { number: action, .. } = &line.entry.kind
                    && let Some(item) = state.actions.get_mut(action)
                {
                    item.withdrawn = true;
                }
            }
        }
        Change::ActionDone { action, by, at } => {
            if let Some(item) = state.actions.get_mut(action) {
                item.done = Some((by.clone(), *at));
            }
        }
        Change::MeetingReminded {
            number,
            minutes_before,
            start,
            ..
        } => {
            if let Some(meeting) = state.meetings.get_mut(number) {
                meeting.reminded.push((*minutes_before, *start));
            }
        }
        Change::ActionReminded {
            action, overdue, ..
        } => {
            if let Some(item) = state.actions.get_mut(action) {
                item.reminded.push(*overdue);
            }
        }
        _ => return false,
    }
    true
}
