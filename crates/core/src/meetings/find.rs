//! What the meeting commands share: finding the meeting a command names (by date or ID), the
//! meeting in progress and the next one, finding a person by a name as people type it, who may
//! keep the minutes, and the one-line descriptions every reply uses.

use super::model::{Meeting, parse_meeting_label};
use crate::directory::{Group, Person, Role};
use crate::engine::CommandContext;
use crate::feedback::render::when;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::GroupState;
use jiff::Timestamp;
use jiff::civil::Date;

/// `M-3 "Monthly call" on 2026-12-08 13:00 UTC (14:00 CET, Europe/Brussels)`.
pub fn meeting_title(group: &Group, meeting: &Meeting) -> String {
    format!(
        "{} \"{}\" on {}",
        meeting.label(),
        meeting.title,
        when(group, meeting.start)
    )
}

/// The date of a meeting in the group's zone, which is how people name it.
pub fn local_date(group: &Group, instant: Timestamp) -> Date {
    instant.to_zoned_datetime(group.time_zone.clone()).date()
}

/// The mail subject of messages about a meeting: `[CCEG-IG] Minutes: Monthly call, 2026-12-08 (M-1)`.
pub fn meeting_subject(group: &Group, meeting: &Meeting, what: &str) -> String {
    format!(
        "[{}] {what}: {}, {} ({})",
        group.short_name,
        meeting.title,
        local_date(group, meeting.start),
        meeting.label()
    )
}

/// The meeting in progress, if any (only one runs at a time).
pub fn meeting_in_progress(state: &GroupState) -> Option<&Meeting> {
    state
        .meetings
        .values()
        .find(|meeting| meeting.is_in_progress())
}

/// The next meeting that has not been held or cancelled and has not ended by the clock.
pub fn next_meeting(state: &GroupState, now: Timestamp) -> Option<&Meeting> {
    state
        .meetings
        .values()
        .filter(|meeting| meeting.is_upcoming() && meeting.end() > now)
        .min_by_key(|meeting| (meeting.start, meeting.number))
}

/// The meeting a command without a date is about: the one in progress, else the next one.
pub fn current_or_next(state: &GroupState, now: Timestamp) -> Option<&Meeting> {
    meeting_in_progress(state).or_else(|| next_meeting(state, now))
}

/// "No meeting of CCEG-IG is in progress. The next is M-2 ...; ..." for commands that only
/// make sense during a meeting.
pub fn no_meeting_in_progress(context: &CommandContext) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().text(format!(
        "No meeting of {} is in progress.",
        context.group.short_name
    )));
    document.push_line(next_meeting_line(context));
    document
}

/// Which meeting is next, and how it starts, or how to schedule one.
pub fn next_meeting_line(context: &CommandContext) -> LineBuilder {
    match next_meeting(context.state, context.now) {
        Some(meeting) => LineBuilder::new()
            .text(format!(
                "The next is {}; a chair starts it with ",
                meeting_title(context.group, meeting)
            ))
            .code(context.with_prefix("!meeting start"))
            .text("."),
        None => LineBuilder::new()
            .text("No meeting is scheduled; chairs and staff schedule one with ")
            .code(context.with_prefix("!meeting schedule \"<title>\" <when>"))
            .text("."),
    }
}

/// The scheduled meetings, for replies that could not find the one named.
pub fn scheduled_list(context: &CommandContext) -> String {
    let upcoming: Vec<String> = context
        .state
        .meetings
        .values()
        .filter(|meeting| meeting.is_upcoming() || meeting.is_in_progress())
        .filter(|meeting| meeting.end() > context.now || meeting.is_in_progress())
        .map(|meeting| {
            format!(
                "{} ({}, {})",
                local_date(context.group, meeting.start),
                meeting.label(),
                meeting.title
            )
        })
        .collect();
    if upcoming.is_empty() {
        format!("{} has no meetings scheduled.", context.group.short_name)
    } else {
        format!("Scheduled: {}.", upcoming.join(", "))
    }
}

/// The meeting a command names by ID (`M-3`) or by date (`2026-12-08`, in the group's zone).
/// Cancelled meetings are found by ID only.
pub fn find_meeting<'a>(
    context: &'a CommandContext,
    text: &str,
) -> Result<&'a Meeting, ReplyDocument> {
    if let Some(number) = parse_meeting_label(text) {
        return context.state.meetings.get(&number).ok_or_else(|| {
            ReplyDocument::from_text(format!(
                "There is no meeting {} in {}. {}",
                text.trim().to_uppercase(),
                context.group.short_name,
                scheduled_list(context)
            ))
        });
    }
    let Ok(date) = text.trim().parse::<Date>() else {
        return Err(ReplyDocument::from_text(format!(
            "\"{}\" names no meeting; name one by its date (2026-12-08) or its ID (M-3). {}",
            text.trim(),
            scheduled_list(context)
        )));
    };
    let on_that_day: Vec<&Meeting> = context
        .state
        .meetings
        .values()
        .filter(|meeting| !meeting.is_cancelled())
        .filter(|meeting| local_date(context.group, meeting.start) == date)
        .collect();
    match on_that_day.as_slice() {
        [only] => Ok(only),
        [] => Err(ReplyDocument::from_text(format!(
            "{} has no meeting on {date}. {}",
            context.group.short_name,
            scheduled_list(context)
        ))),
        several => Err(ReplyDocument::from_text(format!(
            "{} has {} meetings on {date}: {}. Name one by its ID.",
            context.group.short_name,
            several.len(),
            several
                .iter()
                .map(|meeting| format!("{} \"{}\"", meeting.label(), meeting.title))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Whether the text names a meeting (an ID or a date), so that optional meeting arguments can
/// be told from the words after them.
pub fn looks_like_meeting(text: &str) -> bool {
    parse_meeting_label(text).is_some() || text.trim().parse::<Date>().is_ok()
}

/// A person as a chair types them: a Matrix ID, an address, the group-file ID, the full name,
/// or a part of the name that only one person has. Otherwise the reply names the closest.
pub fn find_person_named<'a>(group: &'a Group, query: &str) -> Result<&'a Person, ReplyDocument> {
    let query = query.trim();
    if let Some(person) = group
        .find_person(query)
        .or_else(|| group.person_by_id(query))
    {
        return Ok(person);
    }
    let lower = query.to_lowercase();
    let partial: Vec<&Person> = if lower.chars().count() >= 3 {
        group
            .people
            .iter()
            .filter(|person| {
                person
                    .name
                    .to_lowercase()
                    .split_whitespace()
                    .any(|word| word == lower)
            })
            .collect()
    } else {
        Vec::new()
    };
    if let [only] = partial.as_slice() {
        return Ok(only);
    }
    let mut scored: Vec<(f64, &Person)> = group
        .people
        .iter()
        .map(|person| {
            (
                strsim::jaro_winkler(&lower, &person.name.to_lowercase()),
                person,
            )
        })
        .collect();
    scored.sort_by(|left, right| right.0.total_cmp(&left.0));
    let closest: Vec<String> = if partial.len() > 1 {
        partial.iter().map(|person| person.name.clone()).collect()
    } else {
        scored
            .iter()
            .take(3)
            .map(|(_, person)| person.name.clone())
            .collect()
    };
    Err(ReplyDocument::from_text(format!(
        "{} lists nobody as \"{query}\". The closest names: {}. Write the full name in quotes, \
         or the Matrix ID or address.",
        group.short_name,
        closest.join(", ")
    )))
}

/// Whether this person keeps the minutes of the meeting: a chair, co-chair, staff member or
/// rapporteur of the group, or the person chosen as this meeting's rapporteur.
pub fn keeps_minutes(person: &Person, meeting: &Meeting) -> bool {
    [Role::Chair, Role::CoChair, Role::Staff, Role::Rapporteur]
        .into_iter()
        .any(|role| person.has_role(role))
        || meeting.rapporteur.as_deref() == Some(person.id.as_str())
}

/// "Ana Lima (GNSO)", "Yuki Sato (participant, ALAC)", "Bruno Carvalho (staff)".
pub fn person_with_seat(person: &Person) -> String {
    let standing = if person.occupies_seat() {
        None
    } else if person.has_role(Role::Participant) {
        Some("participant")
    } else if person.has_role(Role::Observer) {
        Some("observer")
    } else if person.has_role(Role::Staff) {
        Some("staff")
    } else {
        None
    };
    match (standing, &person.organization) {
        (None, Some(organization)) => format!("{} ({organization})", person.name),
        (Some(standing), Some(organization)) => {
            format!("{} ({standing}, {organization})", person.name)
        }
        (Some(standing), None) => format!("{} ({standing})", person.name),
        (None, None) => person.name.clone(),
    }
}
