//! `!meeting`: scheduling (schedule, move, cancel, list) and running (start, end) a meeting.
//! Scheduling mails an iCalendar invitation to the list and plans the reminders through the
//! durable clock; ending it publishes the minutes.

use super::calendar::invitation;
use super::find::{
    find_meeting, local_date, meeting_in_progress, meeting_title, no_meeting_in_progress,
};
use super::model::{Meeting, MeetingMode};
use super::policy::describe_minutes;
use super::render::{meeting_details, minutes_document, summary_document};
use super::timers::reminder_plan;
use crate::commands::ArgumentProblem;
use crate::dates::{DeadlineRules, EndOfDay, parse_deadline};
use crate::directory::DeadlineDayEnd;
use crate::effects::{Audience, CalendarPart, Effect};
use crate::engine::{CommandContext, Outcome};
use crate::feedback::render::when;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::{Change, GroupState};
use crate::tokenize::Token;
use jiff::{SignedDuration, Timestamp};

pub const FORM_SCHEDULE: usize = 0;
pub const FORM_LIST: usize = 1;
pub const FORM_MOVE: usize = 2;
pub const FORM_CANCEL: usize = 3;
pub const FORM_START: usize = 4;
pub const FORM_END: usize = 5;

/// A scheduled meeting within this long of now is the one `!meeting start` starts.
const START_WINDOW: SignedDuration = SignedDuration::from_hours(12);

pub fn choose_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    let Some(verb) = arguments.first() else {
        return Err(ArgumentProblem::new(
            "say what to do: schedule, list, move, cancel, start or end",
        ));
    };
    let verb_text = verb.text.to_ascii_lowercase();
    let (form, least, needs) = match verb_text.as_str() {
        "schedule" => (FORM_SCHEDULE, 3, "the title (in quotes) and the time"),
        "list" => (FORM_LIST, 1, ""),
        "move" => (
            FORM_MOVE,
            3,
            "the meeting (its date or ID) and the new time",
        ),
        "cancel" => (FORM_CANCEL, 2, "the meeting (its date or ID)"),
        "start" => (FORM_START, 1, ""),
        "end" => (FORM_END, 1, ""),
        other => {
            return Err(ArgumentProblem::new(format!(
                "\"{other}\" is not something a meeting can do; use schedule, list, move, \
                 cancel, start or end"
            )));
        }
    };
    if arguments.len() < least {
        return Err(ArgumentProblem::new(format!("{needs} is missing")));
    }
    let most = match form {
        FORM_LIST | FORM_END => 1,
        FORM_CANCEL | FORM_START => 2,
        _ => usize::MAX,
    };
    if arguments.len() > most {
        return Err(ArgumentProblem::new(format!(
            "\"{}\" is not understood after {verb_text}",
            arguments[most].text
        )));
    }
    Ok(form)
}

pub fn meeting(context: &CommandContext, form: usize, arguments: &[Token]) -> Outcome {
    let result = match form {
        FORM_SCHEDULE => schedule(context, &arguments[1..]),
        FORM_LIST => Ok(list(context).into()),
        FORM_MOVE => move_meeting(context, &arguments[1], &arguments[2..]),
        FORM_CANCEL => cancel(context, &arguments[1]),
        FORM_START => start(context, arguments.get(1)),
        _ => end(context),
    };
    result.unwrap_or_else(Outcome::from)
}

/// Reads the time of a meeting: a date with a time of day, in the group's zone unless another
/// is named; refused when it is in the past or when the clocks skip or repeat it.
pub fn read_start(context: &CommandContext, text: &str) -> Result<Timestamp, ReplyDocument> {
    let rules = DeadlineRules {
        zone: &context.group.time_zone,
        end_of_day: match context.group.feedback.deadline_day_end {
            DeadlineDayEnd::GroupZone => EndOfDay::GroupZone,
            DeadlineDayEnd::AnywhereOnEarth => EndOfDay::AnywhereOnEarth,
        },
    };
    let lower = text.to_ascii_lowercase();
    let has_time_of_day = lower.contains(':') || lower.contains("hour") || lower.ends_with('h');
    if !has_time_of_day {
        return Err(ReplyDocument::from_text(format!(
            "\"{text}\" has no time of day; a meeting needs one, such as 2026-12-08 14:00 \
             (in {}), 2026-12-08 13:00 UTC or 2026-12-08T13:00Z.",
            context.group.time_zone_name
        )));
    }
    let start = parse_deadline(text, context.now, &rules).map_err(|problem| {
        ReplyDocument::from_text(format!(
            "I could not read the time: {problem}. Write it like 2026-12-08 14:00 (in {}), \
             2026-12-08 13:00 UTC or 2026-12-08T13:00Z.",
            context.group.time_zone_name
        ))
    })?;
    if start <= context.now {
        return Err(ReplyDocument::from_text(format!(
            "{} is in the past (it is now {}); a meeting is scheduled for a time to come.",
            when(context.group, start),
            when(context.group, context.now)
        )));
    }
    Ok(start)
}

struct ScheduleTerms {
    when: String,
    minutes_long: Option<u32>,
    mode: Option<MeetingMode>,
    location: Option<String>,
}

fn read_terms(arguments: &[Token]) -> Result<ScheduleTerms, ReplyDocument> {
    let is_keyword = |token: &Token| {
        !token.was_quoted
            && (matches!(token.text.to_ascii_lowercase().as_str(), "for" | "at")
                || MeetingMode::from_name(&token.text).is_some())
    };
    let when_end = arguments
        .iter()
        .position(is_keyword)
        .unwrap_or(arguments.len());
    let when: Vec<&str> = arguments[..when_end]
        .iter()
        .map(|token| token.text.as_str())
        .collect();
    if when.is_empty() {
        return Err(ReplyDocument::from_text(
            "The time is missing; write it like 2026-12-08 14:00.",
        ));
    }
    let mut terms = ScheduleTerms {
        when: when.join(" "),
        minutes_long: None,
        mode: None,
        location: None,
    };
    let mut index = when_end;
    while index < arguments.len() {
        let token = &arguments[index];
        let word = token.text.to_ascii_lowercase();
        if let Some(mode) = MeetingMode::from_name(&word).filter(|_| !token.was_quoted) {
            terms.mode = Some(mode);
            index += 1;
        } else if word == "for" && !token.was_quoted {
            let length_end = arguments[index + 1..]
                .iter()
                .position(is_keyword)
                .map(|offset| index + 1 + offset)
                .unwrap_or(arguments.len());
            let text: Vec<&str> = arguments[index + 1..length_end]
                .iter()
                .map(|token| token.text.as_str())
                .collect();
            let minutes = super::policy::parse_minutes(&text.join(" "))
                .filter(|minutes| *minutes <= 7 * 24 * 60)
                .ok_or_else(|| {
                    ReplyDocument::from_text(format!(
                        "\"{}\" is not a meeting length; write it like for 90m, for 1h30m or \
                         for 2 hours.",
                        text.join(" ")
                    ))
                })?;
            terms.minutes_long = Some(minutes);
            index = length_end;
        } else if word == "at" && !token.was_quoted {
            let location = arguments.get(index + 1).ok_or_else(|| {
                ReplyDocument::from_text("The place after \"at\" is missing; put it in quotes.")
            })?;
            terms.location = Some(location.text.clone());
            index += 2;
        } else {
            return Err(ReplyDocument::from_text(format!(
                "\"{}\" is not understood here; after the time come for <length>, \
                 remote|in-person|hybrid and at \"<place>\". Put a place with spaces in quotes.",
                token.text
            )));
        }
    }
    Ok(terms)
}

fn schedule(context: &CommandContext, arguments: &[Token]) -> Result<Outcome, ReplyDocument> {
    let person = context.person.expect("the form admits only known people");
    let title = arguments[0].text.trim().to_string();
    if title.is_empty() {
        return Err(ReplyDocument::from_text("The title is empty."));
    }
    let terms = read_terms(&arguments[1..])?;
    let start = read_start(context, &terms.when)?;
    let number = context.state.last_meeting_number + 1;
    let change = Change::MeetingScheduled {
        number,
        title,
        start,
        minutes_long: terms
            .minutes_long
            .unwrap_or(context.group.meetings.default_minutes_long),
        mode: terms.mode,
        location: terms.location,
        series: None,
        by: Some(person.id.clone()),
        at: context.now,
    };
    Ok(scheduled_outcome(
        context.group,
        context.state,
        change,
        context.now,
        context.prefix,
        context.reply_reaches_the_room(),
    ))
}

/// The outcome of a new meeting, by a command or by a recurring schedule: the invitation, the
/// room's notice (unless the command came from the room, where the reply says it) and the
/// reminders.
pub fn scheduled_outcome(
    group: &crate::directory::Group,
    state: &GroupState,
    change: Change,
    now: Timestamp,
    prefix: &str,
    reply_reaches_the_room: bool,
) -> Outcome {
    let Change::MeetingScheduled { number, .. } = &change else {
        return Outcome::default();
    };
    let meeting = meeting_after(state, *number, std::slice::from_ref(&change));
    let date = local_date(group, meeting.start);
    let mut reply = ReplyDocument::new();
    reply.push_line(LineBuilder::new().text(format!(
        "Scheduled {}, {}.",
        meeting_title(group, &meeting),
        meeting_details(&meeting)
    )));
    reply.push_line(LineBuilder::new().text(reminders_text(group, &meeting, now)));
    let regrets_hint = LineBuilder::new()
        .text("Cannot attend? Send apologies with ")
        .code(format!("{prefix}regrets {date} [reason]"))
        .text(".");
    reply.push_line(regrets_hint.clone());
    let mut room = ReplyDocument::new();
    room.push_line(LineBuilder::new().text(format!(
        "Meeting scheduled: {}, {}.",
        meeting_title(group, &meeting),
        meeting_details(&meeting)
    )));
    room.push_line(regrets_hint);
    let mut effects = Vec::new();
    if !reply_reaches_the_room {
        effects.push(Effect::Announce {
            audience: Audience::Room,
            subject: String::new(),
            about: Some(meeting.label()),
            document: room.clone(),
        });
    }
    effects.push(invitation_effect(group, &meeting, "Invitation", now, room));
    effects.extend(reminder_plan(group, &meeting, now));
    Outcome {
        reply,
        changes: vec![change],
        effects,
    }
}

fn reminders_text(group: &crate::directory::Group, meeting: &Meeting, now: Timestamp) -> String {
    let planned: Vec<String> = group
        .meetings
        .reminders_minutes_before
        .iter()
        .filter(|minutes| reminder_time(meeting, **minutes).is_some_and(|at| at > now))
        .map(|minutes| describe_minutes(*minutes))
        .collect();
    let list = if group.list_address.is_some() {
        "The invitation goes to the list"
    } else {
        "The group has no list for the invitation"
    };
    if planned.is_empty() {
        format!("{list}; it is too close for reminders.")
    } else {
        format!("{list}; reminders {} before.", join_and(&planned))
    }
}

pub fn reminder_time(meeting: &Meeting, minutes_before: u32) -> Option<Timestamp> {
    meeting
        .start
        .checked_sub(SignedDuration::from_mins(i64::from(minutes_before)))
        .ok()
}

pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The calendar mail for a meeting as it now stands.
fn invitation_effect(
    group: &crate::directory::Group,
    meeting: &Meeting,
    what: &str,
    now: Timestamp,
    document: ReplyDocument,
) -> Effect {
    let (method, text) = invitation(group, meeting, now);
    Effect::Invite {
        subject: super::find::meeting_subject(group, meeting, what),
        about: Some(meeting.label()),
        document,
        calendar: CalendarPart {
            method: method.name().to_string(),
            text,
        },
    }
}

/// The meeting as it will be after `changes`.
pub fn meeting_after(state: &GroupState, number: u32, changes: &[Change]) -> Meeting {
    let mut after = GroupState::default();
    if let Some(meeting) = state.meetings.get(&number) {
        after.meetings.insert(number, meeting.clone());
    }
    for change in changes {
        after.apply(change);
    }
    after
        .meetings
        .remove(&number)
        .expect("the meeting exists or the changes schedule it")
}

fn list(context: &CommandContext) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    let upcoming: Vec<&Meeting> = context
        .state
        .meetings
        .values()
        .filter(|meeting| {
            meeting.is_in_progress() || (meeting.is_upcoming() && meeting.end() > context.now)
        })
        .collect();
    if upcoming.is_empty() {
        document.push_line(LineBuilder::new().text(format!(
            "{} has no meetings scheduled.",
            context.group.short_name
        )));
    } else {
        document.push_line(
            LineBuilder::new().text(format!("Meetings of {}:", context.group.short_name)),
        );
        document.push_list(
            upcoming
                .iter()
                .map(|meeting| {
                    let mut line = format!(
                        "{}, {}",
                        meeting_title(context.group, meeting),
                        meeting_details(meeting)
                    );
                    if meeting.is_in_progress() {
                        line.push_str(", in progress");
                    }
                    if !meeting.regrets.is_empty() {
                        let names: Vec<String> = meeting
                            .regrets
                            .keys()
                            .map(|person| {
                                crate::feedback::render::person_name(context.group, person)
                            })
                            .collect();
                        line.push_str(&format!("; regrets from {}", names.join(", ")));
                    }
                    LineBuilder::new().text(line)
                })
                .collect(),
        );
    }
    if let Some(last) = context
        .state
        .meetings
        .values()
        .filter(|meeting| meeting.has_ended())
        .max_by_key(|meeting| meeting.start)
    {
        document.push_line(LineBuilder::new().text(format!(
            "Last held: {}.",
            meeting_title(context.group, last)
        )));
    }
    document
}

fn changeable<'a>(
    context: &'a CommandContext,
    token: &Token,
) -> Result<&'a Meeting, ReplyDocument> {
    let meeting = find_meeting(context, &token.text)?;
    let refusal = if meeting.is_cancelled() {
        Some("was cancelled")
    } else if meeting.is_in_progress() {
        Some("is in progress")
    } else if meeting.has_ended() {
        Some("has been held")
    } else {
        None
    };
    match refusal {
        Some(reason) => Err(ReplyDocument::from_text(format!(
            "{} {reason}; it can no longer be moved or cancelled.",
            meeting_title(context.group, meeting)
        ))),
        None => Ok(meeting),
    }
}

fn move_meeting(
    context: &CommandContext,
    token: &Token,
    when_tokens: &[Token],
) -> Result<Outcome, ReplyDocument> {
    let person = context.person.expect("the form admits only known people");
    let meeting = changeable(context, token)?;
    let text: Vec<&str> = when_tokens
        .iter()
        .map(|token| token.text.as_str())
        .collect();
    let start = read_start(context, &text.join(" "))?;
    if start == meeting.start {
        return Err(ReplyDocument::from_text(format!(
            "{} is already at that time.",
            meeting_title(context.group, meeting)
        )));
    }
    let change = Change::MeetingMoved {
        number: meeting.number,
        start,
        by: person.id.clone(),
        at: context.now,
    };
    let moved = meeting_after(context.state, meeting.number, std::slice::from_ref(&change));
    let mut reply = ReplyDocument::new();
    reply.push_line(LineBuilder::new().text(format!(
        "Moved {} \"{}\" from {} to {}.",
        meeting.label(),
        meeting.title,
        when(context.group, meeting.start),
        when(context.group, start)
    )));
    reply.push_line(LineBuilder::new().text(format!(
        "The updated invitation goes to the list; {}",
        reminders_text(context.group, &moved, context.now)
            .split_once("; ")
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default()
    )));
    let room = ReplyDocument::from_text(format!(
        "Meeting {} \"{}\" moved from {} to {}.",
        meeting.label(),
        meeting.title,
        when(context.group, meeting.start),
        when(context.group, start)
    ));
    Ok(Outcome {
        reply,
        changes: vec![change],
        effects: tell_everyone(context, &moved, "Moved", room),
    })
}

/// What a changed meeting (moved or cancelled) tells everyone: the room (unless the command
/// came from it), the list by an updated invitation, and the clock, whose reminders follow the
/// meeting as it now stands.
fn tell_everyone(
    context: &CommandContext,
    meeting: &Meeting,
    what: &str,
    room: ReplyDocument,
) -> Vec<Effect> {
    let mut effects = Vec::new();
    // In the room the reply says it already.
    if !context.reply_reaches_the_room() {
        effects.push(Effect::Announce {
            audience: Audience::Room,
            subject: String::new(),
            about: Some(meeting.label()),
            document: room.clone(),
        });
    }
    effects.push(invitation_effect(
        context.group,
        meeting,
        what,
        context.now,
        room,
    ));
    effects.extend(reminder_plan(context.group, meeting, context.now));
    effects
}

fn cancel(context: &CommandContext, token: &Token) -> Result<Outcome, ReplyDocument> {
    let person = context.person.expect("the form admits only known people");
    let meeting = changeable(context, token)?;
    let change = Change::MeetingCancelled {
        number: meeting.number,
        by: person.id.clone(),
        at: context.now,
    };
    let cancelled = meeting_after(context.state, meeting.number, std::slice::from_ref(&change));
    let text = format!(
        "Cancelled {}. The cancellation goes to the list.",
        meeting_title(context.group, meeting)
    );
    let room = ReplyDocument::from_text(format!(
        "Meeting {} is cancelled.",
        meeting_title(context.group, meeting)
    ));
    Ok(Outcome {
        reply: ReplyDocument::from_text(text),
        changes: vec![change],
        effects: tell_everyone(context, &cancelled, "Cancelled", room),
    })
}

fn start(context: &CommandContext, named: Option<&Token>) -> Result<Outcome, ReplyDocument> {
    let person = context.person.expect("the form admits only known people");
    if let Some(running) = meeting_in_progress(context.state) {
        return Err(ReplyDocument::from_text(format!(
            "{} is in progress already; end it with {} first.",
            meeting_title(context.group, running),
            context.with_prefix("!meeting end")
        )));
    }
    let mut changes = Vec::new();
    let meeting = match named {
        Some(token) => {
            let meeting = find_meeting(context, &token.text)?;
            if !meeting.is_upcoming() {
                return Err(ReplyDocument::from_text(format!(
                    "{} {}; only a scheduled meeting can start.",
                    meeting_title(context.group, meeting),
                    if meeting.is_cancelled() {
                        "was cancelled"
                    } else {
                        "has been held"
                    }
                )));
            }
            meeting.clone()
        }
        None => match context
            .state
            .meetings
            .values()
            .filter(|meeting| meeting.is_upcoming())
            .filter(|meeting| meeting.start.duration_since(context.now).abs() <= START_WINDOW)
            .min_by_key(|meeting| meeting.start.duration_since(context.now).abs())
        {
            Some(meeting) => meeting.clone(),
            None => {
                // A meeting nobody scheduled (an extra call): recorded like any other, starting
                // now, so its attendance and minutes have a place in the record.
                let number = context.state.last_meeting_number + 1;
                let change = Change::MeetingScheduled {
                    number,
                    title: format!("{} meeting", context.group.short_name),
                    start: context.now,
                    minutes_long: context.group.meetings.default_minutes_long,
                    mode: None,
                    location: None,
                    series: None,
                    by: Some(person.id.clone()),
                    at: context.now,
                };
                changes.push(change);
                meeting_after(context.state, number, &changes)
            }
        },
    };
    changes.push(Change::MeetingStarted {
        number: meeting.number,
        by: person.id.clone(),
        at: context.now,
    });
    let mut reply = ReplyDocument::new();
    reply.push_line(LineBuilder::new().text(format!(
        "Meeting {} \"{}\" started at {}.",
        meeting.label(),
        meeting.title,
        when(context.group, context.now)
    )));
    if let Some(rapporteur) = &meeting.rapporteur {
        reply.push_line(LineBuilder::new().text(format!(
            "Rapporteur: {}.",
            crate::feedback::render::person_name(context.group, rapporteur)
        )));
    }
    reply.push_line(
        LineBuilder::new()
            .text("Say ")
            .code(context.with_prefix("!present"))
            .text(" (or present+) to be recorded; the minutes take ")
            .code(context.with_prefix("!topic"))
            .text(", ")
            .code(context.with_prefix("!info"))
            .text(", ")
            .code(context.with_prefix("!agreed"))
            .text(", ")
            .code(context.with_prefix("!action"))
            .text(" and ")
            .code(context.with_prefix("!link"))
            .text("."),
    );
    let length = SignedDuration::from_mins(i64::from(meeting.minutes_long));
    let latest_end = meeting
        .end()
        .max(context.now.checked_add(length).unwrap_or(context.now));
    let auto_end = Effect::Schedule {
        key: auto_end_key(meeting.number),
        at: latest_end.checked_add(AUTO_END_AFTER).unwrap_or(latest_end),
        timer: crate::effects::Timer::MeetingAutoEnd {
            number: meeting.number,
        },
    };
    Ok(Outcome {
        reply,
        changes,
        effects: vec![auto_end],
    })
}

fn end(context: &CommandContext) -> Result<Outcome, ReplyDocument> {
    let person = context.person.expect("the form admits only known people");
    let Some(meeting) = meeting_in_progress(context.state) else {
        return Err(no_meeting_in_progress(context));
    };
    Ok(ending(
        context.group,
        context.state,
        meeting,
        &person.id,
        context.now,
        context.reply_reaches_the_room(),
        None,
    ))
}

/// A meeting ends: the minutes to the list, the summary as the reply (or, when it was not ended
/// from the room, to the room), and its automatic end cancelled. `note` says why the clock
/// ended it, when it did.
pub fn ending(
    group: &crate::directory::Group,
    state: &GroupState,
    meeting: &Meeting,
    by: &str,
    now: Timestamp,
    reply_reaches_the_room: bool,
    note: Option<String>,
) -> Outcome {
    let change = Change::MeetingEnded {
        number: meeting.number,
        by: by.to_string(),
        at: now,
    };
    let ended = meeting_after(state, meeting.number, std::slice::from_ref(&change));
    let mut summary = summary_document(group, &ended, state);
    let mut minutes = minutes_document(group, &ended, state);
    if let Some(note) = note {
        summary.push_line(LineBuilder::new().text(note.clone()));
        minutes.push_line(LineBuilder::new().text(note));
    }
    if let Some(line) =
        crate::record::permalink_line(group, &format!("meetings/m-{}", meeting.number))
    {
        summary.push_line(line.clone());
        minutes.push_line(line);
    }
    let mut effects = vec![
        Effect::Announce {
            audience: Audience::List,
            subject: super::find::meeting_subject(group, &ended, "Minutes"),
            about: Some(ended.label()),
            document: minutes,
        },
        Effect::Cancel {
            key: auto_end_key(meeting.number),
        },
    ];
    // In the room the reply is the summary; a meeting ended otherwise still tells the room.
    if !reply_reaches_the_room {
        effects.push(Effect::Announce {
            audience: Audience::Room,
            subject: String::new(),
            about: Some(ended.label()),
            document: summary.clone(),
        });
    }
    Outcome {
        reply: summary,
        changes: vec![change],
        effects,
    }
}

/// How long after its scheduled end (or its start plus its length, when it started late) a
/// meeting nobody ended is ended by the clock: long enough for any overrun, short enough that
/// the minutes are not lost to a forgotten `!meeting end`.
pub const AUTO_END_AFTER: SignedDuration = SignedDuration::from_hours(3);

pub fn auto_end_key(number: u32) -> String {
    format!("M-{number}:auto-end")
}
