//! What happens when the durable clock fires for a request, and how a request's timers are
//! planned. A timer is only a reminder to look: what it does is decided against the state of
//! the moment it is handled, so a timer for a request that has since been answered or closed
//! does nothing, and one handled late (the bot was down) acts once and says it is late.

use super::cycle::{Trigger, reminder_cycle};
use super::model::{FeedbackRequest, Position, RequestKind};
use super::plan::{escalation_point, next_follow_up};
use super::render::{request_title, subject, when};
use crate::directory::Group;
use crate::effects::{Audience, Effect, Timer};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::{Change, GroupState};
use jiff::{SignedDuration, Timestamp};

/// A timer handled more than this long after it fell due says that it comes late.
const LATE_AFTER: SignedDuration = SignedDuration::from_mins(5);

pub fn follow_up_key(number: u32) -> String {
    format!("R-{number}:follow-up")
}

pub fn continuation_key(number: u32) -> String {
    format!("R-{number}:continuation-deadline")
}

/// The follow-up timer of a request as it stands after a change: moved to the next point at
/// which something is due, or cancelled when nothing will be.
pub fn replan(group: &Group, request: &FeedbackRequest, now: Timestamp) -> Effect {
    let key = follow_up_key(request.number);
    match next_follow_up(request, &group.feedback, &group.time_zone, now) {
        Some(at) => Effect::Schedule {
            key,
            at,
            timer: Timer::RequestFollowUp {
                number: request.number,
            },
        },
        None => Effect::Cancel { key },
    }
}

/// The request as it will be after `changes`: what plans are made on.
pub fn after_changes(request: &FeedbackRequest, changes: &[Change]) -> FeedbackRequest {
    let mut state = GroupState::default();
    state.requests.insert(request.number, request.clone());
    for change in changes {
        state.apply(change);
    }
    state
        .requests
        .remove(&request.number)
        .unwrap_or_else(|| request.clone())
}

fn late_note(group: &Group, due: Timestamp, now: Timestamp) -> Option<LineBuilder> {
    (now.duration_since(due) > LATE_AFTER).then(|| {
        LineBuilder::new().text(format!(
            "(This comes late: it was due at {}, while the bot was not running.)",
            when(group, due)
        ))
    })
}

fn with_note(mut document: ReplyDocument, note: &Option<LineBuilder>) -> ReplyDocument {
    if let Some(note) = note {
        document.push_line(note.clone());
    }
    document
}

pub fn on_timer(
    state: &GroupState,
    group: &Group,
    timer: &Timer,
    due: Timestamp,
    now: Timestamp,
    prefix: &str,
) -> (Vec<Change>, Vec<Effect>) {
    let number = match timer {
        Timer::RequestFollowUp { number } | Timer::ContinuationDeadline { number } => *number,
        // Meeting timers are decided by `meetings::timers`.
        _ => return (Vec::new(), Vec::new()),
    };
    let Some(request) = state.request(number).filter(|request| request.is_open()) else {
        return (Vec::new(), Vec::new());
    };
    let note = late_note(group, due, now);
    match timer {
        Timer::RequestFollowUp { .. } => follow_up(group, request, now, prefix, &note),
        Timer::ContinuationDeadline { .. } => continuation_result(group, request, now, &note),
        _ => (Vec::new(), Vec::new()),
    }
}

fn follow_up(
    group: &Group,
    request: &FeedbackRequest,
    now: Timestamp,
    prefix: &str,
    note: &Option<LineBuilder>,
) -> (Vec<Change>, Vec<Effect>) {
    let cycle = reminder_cycle(group, request, now, Trigger::Clock, prefix);
    let mut changes = cycle.changes;
    let mut effects: Vec<Effect> = cycle
        .effects
        .into_iter()
        .map(|effect| match effect {
            Effect::Announce {
                audience,
                subject,
                about,
                document,
            } => Effect::Announce {
                audience,
                subject,
                about,
                document: with_note(document, note),
            },
            other => other,
        })
        .collect();
    if cycle.reminded > 0 {
        effects.push(Effect::Announce {
            audience: Audience::Chairs,
            subject: subject(group, request, "reminders sent"),
            about: Some(request.label()),
            document: with_note(cycle.summary, note),
        });
    }
    let overdue: Vec<&String> = request
        .organizations
        .iter()
        .filter(|(_, status)| {
            escalation_point(request, status, &group.feedback, &group.time_zone)
                .is_some_and(|point| point <= now)
        })
        .map(|(name, _)| name)
        .collect();
    if !overdue.is_empty() {
        let mut document = ReplyDocument::new();
        document.push_line(LineBuilder::new().strong("Overdue: ").text(format!(
            "{} has had no response from {} for {} days or more after the deadline ({}).",
            request_title(request),
            overdue
                .iter()
                .map(|name| name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            group.feedback.escalate_after_days_overdue,
            when(group, request.respond_by)
        )));
        document.push_line(
            LineBuilder::new()
                .text("See ")
                .code(format!("{prefix}status {}", request.label()))
                .text("; ")
                .code(format!("{prefix}remind {} force", request.label()))
                .text(" starts a reminder cycle now."),
        );
        effects.push(Effect::Announce {
            audience: Audience::Chairs,
            subject: subject(group, request, "overdue"),
            about: Some(request.label()),
            document: with_note(document, note),
        });
        for organization in overdue {
            changes.push(Change::Escalated {
                number: request.number,
                organization: organization.clone(),
                at: now,
            });
        }
    }
    let after = after_changes(request, &changes);
    effects.push(replan(group, &after, now));
    (changes, effects)
}

/// At the deadline of an annual continuation request, silence counts as continuing; the group
/// continues when at least two organizations do (CCEG charter).
fn continuation_result(
    group: &Group,
    request: &FeedbackRequest,
    now: Timestamp,
    note: &Option<LineBuilder>,
) -> (Vec<Change>, Vec<Effect>) {
    if request.kind != RequestKind::Continuation {
        return (Vec::new(), Vec::new());
    }
    let mut continuing = Vec::new();
    let mut silent = Vec::new();
    let mut withdrawing = Vec::new();
    for (organization, status) in &request.organizations {
        match status.response.as_ref().map(|response| response.position) {
            Some(Position::Withdraw) => withdrawing.push(organization.as_str()),
            Some(_) => continuing.push(organization.as_str()),
            None => silent.push(organization.as_str()),
        }
    }
    let continuing_count = continuing.len() + silent.len();
    let outcome = format!(
        "{continuing_count} organization{} continue{}; {}",
        if continuing_count == 1 { "" } else { "s" },
        if continuing_count == 1 { "s" } else { "" },
        if continuing_count >= 2 {
            "the group continues (at least two organizations do)"
        } else {
            "fewer than two organizations continue, so the group does not continue"
        }
    );
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .strong(format!("Result of {}", request_title(request)))
            .text(format!(": {outcome}.")),
    );
    let list = |names: &[&str]| {
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    document.push_line(LineBuilder::new().text(format!(
        "Continue: {}. Did not answer, counted as continuing: {}. Withdraw: {}.",
        list(&continuing),
        list(&silent),
        list(&withdrawing)
    )));
    let document = with_note(document, note);
    let changes = vec![Change::RequestClosed {
        number: request.number,
        outcome: Some(outcome),
        forced: false,
        by: None,
        at: now,
    }];
    let effects = vec![
        Effect::Announce {
            audience: Audience::Room,
            subject: subject(group, request, "result"),
            about: Some(request.label()),
            document: document.clone(),
        },
        Effect::Announce {
            audience: Audience::List,
            subject: subject(group, request, "result"),
            about: Some(request.label()),
            document,
        },
        Effect::Cancel {
            key: follow_up_key(request.number),
        },
    ];
    (changes, effects)
}
