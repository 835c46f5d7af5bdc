//! The durable clock's part in calls and polls: reminders before the close to the members who
//! have not answered, and the close itself (with the poll's end in the room and the result on
//! the list). Each timer is keyed by the record and its purpose, so scheduling again moves it
//! rather than doubling it, and a timer that finds its call already closed does nothing.

use super::model::{ConsensusCall, Poll};
use super::render::{call_tally, poll_tally, poll_title, subject};
use super::tally::members_not_answered;
use crate::directory::Group;
use crate::effects::{Audience, Effect, Timer};
use crate::feedback::render::when;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::{Change, GroupState};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;

/// The timers of something that closes at a set time (a call, a poll, a survey): what to key
/// them by and what each tells the core.
pub struct ClosingTimers<'a> {
    /// The reminder's key for a lead time, such as `R-5:consensus-remind:1440m`.
    pub reminder_key: &'a dyn Fn(u32) -> String,
    pub reminder: &'a dyn Fn(u32) -> Timer,
    pub close_key: String,
    pub close: Timer,
}

impl ClosingTimers<'_> {
    /// One reminder per lead time of the group file that is still to come, and the close.
    pub fn plan(&self, group: &Group, closes: Option<Timestamp>, now: Timestamp) -> Vec<Effect> {
        let Some(closes) = closes else {
            return Vec::new();
        };
        let mut effects: Vec<Effect> = group
            .consensus
            .reminder_minutes_before
            .iter()
            .filter_map(|minutes| {
                let at = closes - SignedDuration::from_mins(i64::from(*minutes));
                (at > now).then(|| Effect::Schedule {
                    key: (self.reminder_key)(*minutes),
                    at,
                    timer: (self.reminder)(*minutes),
                })
            })
            .collect();
        effects.push(Effect::Schedule {
            key: self.close_key.clone(),
            at: closes,
            timer: self.close.clone(),
        });
        effects
    }

    /// Forgets them, when it closed or was decided early.
    pub fn cancels(&self, group: &Group) -> Vec<Effect> {
        group
            .consensus
            .reminder_minutes_before
            .iter()
            .map(|minutes| Effect::Cancel {
                key: (self.reminder_key)(*minutes),
            })
            .chain(std::iter::once(Effect::Cancel {
                key: self.close_key.clone(),
            }))
            .collect()
    }
}

fn consultation_timers(
    number: u32,
    with: impl FnOnce(&ClosingTimers) -> Vec<Effect>,
) -> Vec<Effect> {
    with(&ClosingTimers {
        reminder_key: &|minutes| format!("R-{number}:consensus-remind:{minutes}m"),
        reminder: &|minutes| Timer::ConsultationReminder {
            number,
            minutes_before: minutes,
        },
        close_key: format!("R-{number}:close"),
        close: Timer::ConsultationClose { number },
    })
}

/// The timers of a call or poll that closes at `closes`.
pub fn consultation_plan(
    group: &Group,
    number: u32,
    closes: Option<Timestamp>,
    now: Timestamp,
) -> Vec<Effect> {
    consultation_timers(number, |timers| timers.plan(group, closes, now))
}

/// Forgets the timers of a call or poll that closed or was decided early.
pub fn consultation_cancels(group: &Group, number: u32) -> Vec<Effect> {
    consultation_timers(number, |timers| timers.cancels(group))
}

pub fn on_timer(
    state: &GroupState,
    group: &Group,
    timer: &Timer,
    now: Timestamp,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    match timer {
        Timer::ConsultationReminder {
            number,
            minutes_before,
        } => remind(state, group, *number, *minutes_before, now, prefix),
        Timer::ConsultationClose { number } => {
            if let Some(call) = state.calls.get(number).filter(|call| call.is_open()) {
                return call_closing(group, state, call, now, prefix);
            }
            match state.polls.get(number).filter(|poll| poll.is_open()) {
                Some(poll) => poll_closing(group, state, poll, None, now, prefix),
                None => (Vec::new(), Vec::new()),
            }
        }
        _ => (Vec::new(), Vec::new()),
    }
}

/// What a reminder needs of an open call or poll.
struct OpenConsultation<'a> {
    label: String,
    title: String,
    closes: Option<Timestamp>,
    /// The people who have answered, by person ID.
    answered: BTreeSet<&'a str>,
    reminded: &'a [u32],
}

impl<'a> OpenConsultation<'a> {
    fn of(state: &'a GroupState, number: u32) -> Option<OpenConsultation<'a>> {
        if let Some(call) = state.calls.get(&number).filter(|call| call.is_open()) {
            return Some(OpenConsultation {
                label: call.label(),
                title: super::render::call_title(call),
                closes: call.closes,
                answered: call.answers.keys().map(String::as_str).collect(),
                reminded: &call.reminded,
            });
        }
        let poll = state.polls.get(&number).filter(|poll| poll.is_open())?;
        Some(OpenConsultation {
            label: poll.label(),
            title: poll_title(poll),
            closes: poll.closes,
            answered: poll.answers.keys().map(String::as_str).collect(),
            reminded: &poll.reminded,
        })
    }
}

fn remind(
    state: &GroupState,
    group: &Group,
    number: u32,
    minutes_before: u32,
    now: Timestamp,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    let Some(open) = OpenConsultation::of(state, number) else {
        return (Vec::new(), Vec::new());
    };
    let OpenConsultation {
        label,
        title,
        closes,
        answered,
        reminded,
    } = open;
    // Each lead time reminds once, even when the timer is delivered again after a crash.
    if reminded.contains(&minutes_before) {
        return (Vec::new(), Vec::new());
    }
    let owed: Vec<String> = members_not_answered(group, |person| answered.contains(person))
        .into_iter()
        .map(|person| person.id.clone())
        .collect();
    let changes = vec![Change::ConsultationReminded {
        number,
        minutes_before,
        people: owed.clone(),
        at: now,
    }];
    if owed.is_empty() {
        return (changes, Vec::new());
    }
    let is_call = state.calls.contains_key(&number);
    let how = if is_call {
        format!(
            "{prefix}support {label}, {prefix}object {label} <reason> or {prefix}abstain {label}"
        )
    } else {
        format!("{prefix}vote {label} <option number>, or the room's poll")
    };
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().text(format!(
        "Reminder: {title} closes {}, and you have not answered.",
        closes.map(|at| when(group, at)).unwrap_or_default()
    )));
    document.push_line(
        LineBuilder::new()
            .text("Answer with ")
            .code(how)
            .text(if is_call {
                ". Silence is recorded as no objection."
            } else {
                ". A poll gauges support; it is not a vote."
            }),
    );
    let effects = vec![Effect::Announce {
        audience: Audience::People(owed),
        subject: subject(group, &label, "reminder", &title),
        about: Some(label),
        document,
    }];
    (changes, effects)
}

fn call_closing(
    group: &Group,
    state: &GroupState,
    call: &ConsensusCall,
    now: Timestamp,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    let changes = vec![Change::ConsultationClosed {
        number: call.number,
        by: None,
        at: now,
    }];
    let mut after = state.clone();
    for change in &changes {
        after.apply(change);
    }
    let closed = &after.calls[&call.number];
    let mut document = call_tally(group, closed);
    document.push_line(
        LineBuilder::new()
            .text("The call has closed. The chairs designate the outcome with ")
            .code(format!("{prefix}designate {} <level> [text]", call.label()))
            .text(format!(" ({}).", group.consensus_designations.join(", "))),
    );
    let mail_subject = subject(group, &call.label(), "closed", &call.text);
    let effects = super::render::to_room_and_list(&mail_subject, &call.label(), &document);
    (changes, effects)
}

/// Closing a poll, by a person (`by`) or by its closing date: the native poll ends in the room
/// with its top answer, and the full tally by organization goes to the room and the list.
pub fn poll_closing(
    group: &Group,
    state: &GroupState,
    poll: &Poll,
    by: Option<&str>,
    now: Timestamp,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    let changes = vec![Change::ConsultationClosed {
        number: poll.number,
        by: by.map(str::to_string),
        at: now,
    }];
    let mut after = state.clone();
    for change in &changes {
        after.apply(change);
    }
    let closed = &after.polls[&poll.number];
    let mut effects = consultation_cancels(group, poll.number);
    effects.push(Effect::EndPoll {
        number: poll.number,
        text: poll_end_text(group, closed),
    });
    let mut document = poll_tally(group, closed);
    document.push_line(
        LineBuilder::new()
            .text("The poll has closed; it gauged support and is not a vote. The chairs designate the outcome with ")
            .code(format!("{prefix}designate {} <level> [text]", poll.label()))
            .text("."),
    );
    let mail_subject = subject(group, &poll.label(), "result", &poll.question);
    effects.extend(super::render::to_room_and_list(
        &mail_subject,
        &poll.label(),
        &document,
    ));
    (changes, effects)
}

/// The text of the room's `m.poll.end`: the members' top answer and every option's count, in
/// the same split as the tally on the room and the list (appointed members counted, anyone
/// else apart), since the clients' own count sees only the room's responses.
pub fn poll_end_text(group: &Group, poll: &Poll) -> String {
    let tally = super::tally::tally(group, |person| {
        poll.answers.get(person).map(|answer| answer.option)
    });
    let members = |option: usize| tally.counted.get(&option).copied().unwrap_or(0);
    let others = |option: usize| {
        tally
            .others
            .iter()
            .filter(|(_, answer)| *answer == option)
            .count()
    };
    let counts = poll
        .numbered_options()
        .map(|(number, option)| {
            let apart = others(number - 1);
            if apart > 0 {
                format!("{option} {} (+{apart} without a seat)", members(number - 1))
            } else {
                format!("{option} {}", members(number - 1))
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let most = (0..poll.options.len()).map(members).max().unwrap_or(0);
    let answered = tally.seat_holders_who_answered();
    if most == 0 {
        return format!(
            "The poll {} has closed with no answer from an appointed member. Counts: {counts}.",
            poll.label()
        );
    }
    let top: Vec<&str> = poll
        .numbered_options()
        .filter(|(number, _)| members(number - 1) == most)
        .map(|(_, option)| option.as_str())
        .collect();
    format!(
        "The poll {} has closed. Members' top answer{}: {} ({most} of {answered} members who \
         answered). Counts from every channel: {counts}.",
        poll.label(),
        if top.len() == 1 { "" } else { "s" },
        top.join(", "),
    )
}
