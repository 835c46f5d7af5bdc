//! What the durable clock does for meetings: reminders before each meeting to the room and the
//! list, reminders to an action item's owner before it is due and once it is overdue, and the
//! next meeting of a recurring schedule. A timer is only a prompt to look: each decides against
//! the state of the moment it is handled, so a reminder for a meeting moved, cancelled or
//! already reminded of does nothing, and a restart never sends one twice.

use super::find::{local_date, meeting_title};
use super::model::{ActionItem, Meeting};
use super::policy::describe_minutes;
use super::render::meeting_details;
use super::schedule::{reminder_time, scheduled_outcome};
use crate::directory::Group;
use crate::effects::{Audience, Effect, Timer};
use crate::feedback::render::when;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::{Change, GroupState};
use jiff::{SignedDuration, Timestamp};

pub fn reminder_key(number: u32, minutes_before: u32) -> String {
    format!("M-{number}:remind:{minutes_before}m")
}

pub fn action_key(number: u32, overdue: bool) -> String {
    format!(
        "A-{number}:{}",
        if overdue { "overdue" } else { "due-soon" }
    )
}

pub fn series_key(series: &str) -> String {
    format!("series:{series}")
}

/// How long before its due date an action item's owner is reminded.
const ACTION_REMINDER_LEAD: SignedDuration = SignedDuration::from_hours(24);

/// The reminder timers of a meeting as it now stands: each reminder still to come is
/// scheduled (moving the timer of the same key), every other one cancelled.
pub fn reminder_plan(group: &Group, meeting: &Meeting, now: Timestamp) -> Vec<Effect> {
    group
        .meetings
        .reminders_minutes_before
        .iter()
        .map(|minutes| {
            let key = reminder_key(meeting.number, *minutes);
            match reminder_time(meeting, *minutes) {
                Some(at) if meeting.is_upcoming() && at > now => Effect::Schedule {
                    key,
                    at,
                    timer: Timer::MeetingReminder {
                        number: meeting.number,
                        minutes_before: *minutes,
                    },
                },
                _ => Effect::Cancel { key },
            }
        })
        .collect()
}

/// The timers of a new action item: one before it is due, one when it becomes overdue.
pub fn action_plan(item: &ActionItem, now: Timestamp) -> Vec<Effect> {
    let Some(due) = item.due else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    if let Ok(before) = due.checked_sub(ACTION_REMINDER_LEAD)
        && before > now
    {
        effects.push(Effect::Schedule {
            key: action_key(item.number, false),
            at: before,
            timer: Timer::ActionFollowUp {
                number: item.number,
                overdue: false,
            },
        });
    }
    if due > now {
        effects.push(Effect::Schedule {
            key: action_key(item.number, true),
            at: due,
            timer: Timer::ActionFollowUp {
                number: item.number,
                overdue: true,
            },
        });
    }
    effects
}

/// The timers of an action item that is done or withdrawn.
pub fn action_timer_cancels(number: u32) -> Vec<Effect> {
    [false, true]
        .into_iter()
        .map(|overdue| Effect::Cancel {
            key: action_key(number, overdue),
        })
        .collect()
}

pub fn on_timer(
    state: &GroupState,
    group: &Group,
    timer: &Timer,
    due: Timestamp,
    now: Timestamp,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    match timer {
        Timer::MeetingReminder {
            number,
            minutes_before,
        } => meeting_reminder(state, group, *number, *minutes_before, due, now, prefix),
        Timer::ActionFollowUp { number, overdue } => {
            action_follow_up(state, group, *number, *overdue, now, prefix)
        }
        Timer::MeetingSeries { series } => next_of_series(state, group, series, now, prefix),
        Timer::MeetingAutoEnd { number } => auto_end(state, group, *number, now, prefix),
        _ => (Vec::new(), Vec::new()),
    }
}

fn meeting_reminder(
    state: &GroupState,
    group: &Group,
    number: u32,
    minutes_before: u32,
    due: Timestamp,
    now: Timestamp,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    let Some(meeting) = state.meetings.get(&number) else {
        return (Vec::new(), Vec::new());
    };
    let already = meeting.reminded.contains(&(minutes_before, meeting.start));
    // A timer of a meeting moved since (its due time no longer fits) or one that comes after
    // the start (the bot was down) has nothing useful left to say.
    let fits = reminder_time(meeting, minutes_before) == Some(due);
    if !meeting.is_upcoming() || already || !fits || now >= meeting.start {
        return (Vec::new(), Vec::new());
    }
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().text(format!(
        "Reminder: meeting {} in {}, {}.",
        meeting_title(group, meeting),
        describe_minutes(minutes_before),
        meeting_details(meeting)
    )));
    document.push_line(
        LineBuilder::new()
            .text("Cannot attend? Send apologies with ")
            .code(format!(
                "{prefix}regrets {} [reason]",
                local_date(group, meeting.start)
            ))
            .text("."),
    );
    let subject = super::find::meeting_subject(group, meeting, "Reminder");
    let effects = [Audience::Room, Audience::List]
        .into_iter()
        .map(|audience| Effect::Announce {
            audience,
            subject: subject.clone(),
            about: Some(meeting.label()),
            document: document.clone(),
        })
        .collect();
    (
        vec![Change::MeetingReminded {
            number,
            minutes_before,
            start: meeting.start,
            at: now,
        }],
        effects,
    )
}

fn action_follow_up(
    state: &GroupState,
    group: &Group,
    number: u32,
    overdue: bool,
    now: Timestamp,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    let Some(item) = state.actions.get(&number) else {
        return (Vec::new(), Vec::new());
    };
    let Some(due) = item.due else {
        return (Vec::new(), Vec::new());
    };
    if !item.is_open() || item.reminded.contains(&overdue) {
        return (Vec::new(), Vec::new());
    }
    let mut document = ReplyDocument::new();
    let state_text = if overdue {
        format!("was due on {} and is still open", when(group, due))
    } else {
        format!("is due on {}", when(group, due))
    };
    document.push_line(LineBuilder::new().text(format!(
        "Reminder: your action item {} \"{}\" (from meeting M-{}) {state_text}.",
        item.label(),
        item.text,
        item.meeting
    )));
    document.push_line(
        LineBuilder::new()
            .text("When it is done, say ")
            .code(format!("{prefix}done {}", item.label()))
            .text("."),
    );
    (
        vec![Change::ActionReminded {
            action: number,
            overdue,
            at: now,
        }],
        vec![Effect::Announce {
            audience: Audience::Person(item.owner.clone()),
            subject: format!(
                "[{}] Action item {} {}",
                group.short_name,
                item.label(),
                if overdue { "overdue" } else { "due soon" }
            ),
            about: Some(item.label()),
            document,
        }],
    )
}

/// A meeting still in progress hours after its end: the clock ends it, so its minutes reach
/// the list and the next meeting can start.
fn auto_end(
    state: &GroupState,
    group: &Group,
    number: u32,
    now: Timestamp,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    let Some(meeting) = state
        .meetings
        .get(&number)
        .filter(|meeting| meeting.is_in_progress())
    else {
        return (Vec::new(), Vec::new());
    };
    let note = format!(
        "Ended by the bot: nobody said {prefix}meeting end within {} of the meeting's end.",
        describe_minutes(super::schedule::AUTO_END_AFTER.as_mins() as u32)
    );
    let outcome = super::schedule::ending(group, state, meeting, "", now, false, Some(note));
    (outcome.changes, outcome.effects)
}

/// The next meeting of a recurring schedule: scheduled (with its invitation and reminders) if
/// it is not in the record yet, and the schedule's timer set for its start, when the one after
/// it is due to be scheduled.
fn next_of_series(
    state: &GroupState,
    group: &Group,
    series: &str,
    now: Timestamp,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    let Some(schedule) = group
        .meetings
        .recurring
        .iter()
        .find(|schedule| schedule.id == series)
    else {
        return (Vec::new(), Vec::new());
    };
    let Some((date, start)) = schedule.next_after(now) else {
        return (Vec::new(), Vec::new());
    };
    let key = schedule.occurrence_key(date);
    let again = Effect::Schedule {
        key: series_key(series),
        at: start,
        timer: Timer::MeetingSeries {
            series: series.to_string(),
        },
    };
    let known = state
        .meetings
        .values()
        .any(|meeting| meeting.series.as_deref() == Some(key.as_str()));
    if known {
        return (Vec::new(), vec![again]);
    }
    let change = Change::MeetingScheduled {
        number: state.last_meeting_number + 1,
        title: schedule.title.clone(),
        start,
        minutes_long: schedule.minutes_long,
        mode: schedule.mode,
        location: schedule.location.clone(),
        series: Some(key),
        by: None,
        at: now,
    };
    let outcome = scheduled_outcome(group, state, change, now, prefix, false);
    let mut effects = outcome.effects;
    effects.push(again);
    (outcome.changes, effects)
}
