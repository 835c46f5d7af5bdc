//! The group file's `[meetings]` section: reminders before each meeting, the default length,
//! the quorum and `[[meetings.recurring]]` schedules, each checked where it is written. The
//! rules themselves (what "second Tuesday of every other month" means) are the core's
//! (`core::meetings::policy`), so the file and the bot cannot read a schedule differently.

use super::position::{ConfigProblem, SourceText};
use super::raw::{RawMeetingsSection, RawRecurringMeeting};
use crate::core::meetings::model::MeetingMode;
use crate::core::meetings::policy::{MeetingPolicy, RecurringMeeting, parse_minutes, parse_rule};
use toml::Spanned;

/// The longest lead time of a reminder: 90 days.
const LONGEST_REMINDER_MINUTES: u32 = 90 * 24 * 60;
/// The longest meeting: 7 days (a face-to-face week).
const LONGEST_MEETING_MINUTES: u32 = 7 * 24 * 60;

/// Reminder lead times as the group file writes them (`"7d"`, `"1h"`), in minutes, largest
/// first, each once; each one that cannot be read is a problem at its place in the file.
pub(super) fn lead_times(
    reminders: &[Spanned<String>],
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> Vec<u32> {
    let mut valid = Vec::new();
    for reminder in reminders {
        match parse_minutes(reminder.get_ref()) {
            Some(minutes) if minutes <= LONGEST_REMINDER_MINUTES => valid.push(minutes),
            _ => problems.push(source.problem_at(
                reminder.span(),
                format!(
                    "reminders holds {:?}: write a lead time of at most 90 days, such as \"7d\", \
                     \"1d\", \"1h\" or \"30m\"",
                    reminder.get_ref()
                ),
            )),
        }
    }
    valid.sort_unstable_by(|left, right| right.cmp(left));
    valid.dedup();
    valid
}

pub(super) fn meeting_policy(
    section: Option<&RawMeetingsSection>,
    group_zone_name: &str,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> MeetingPolicy {
    let defaults = MeetingPolicy::default();
    let Some(section) = section else {
        return defaults;
    };
    let reminders_minutes_before = match &section.reminders {
        None => defaults.reminders_minutes_before.clone(),
        Some(reminders) => lead_times(reminders, source, problems),
    };
    let default_minutes_long = section
        .default_duration
        .as_ref()
        .and_then(|duration| meeting_length(duration, "default_duration", source, problems))
        .unwrap_or(defaults.default_minutes_long);
    let quorum_organizations = section.quorum_organizations.as_ref().and_then(|quorum| {
        if *quorum.get_ref() == 0 {
            problems.push(source.problem_at(
                quorum.span(),
                "quorum_organizations must be at least 1 (leave it out for no quorum)",
            ));
            None
        } else {
            Some(*quorum.get_ref())
        }
    });
    let mut recurring: Vec<RecurringMeeting> = Vec::new();
    for schedule in &section.recurring {
        if let Some(meeting) = recurring_meeting(
            schedule.get_ref(),
            group_zone_name,
            default_minutes_long,
            source,
            problems,
        ) {
            if recurring.iter().any(|earlier| earlier.id == meeting.id) {
                problems.push(source.problem_at(
                    schedule.get_ref().id.span(),
                    format!(
                        "a recurring schedule with id {:?} is already given",
                        meeting.id
                    ),
                ));
                continue;
            }
            recurring.push(meeting);
        }
    }
    MeetingPolicy {
        reminders_minutes_before,
        default_minutes_long,
        quorum_organizations,
        recurring,
    }
}

fn meeting_length(
    duration: &Spanned<String>,
    key: &str,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> Option<u32> {
    match parse_minutes(duration.get_ref()) {
        Some(minutes) if minutes <= LONGEST_MEETING_MINUTES => Some(minutes),
        _ => {
            problems.push(source.problem_at(
                duration.span(),
                format!(
                    "{key} {:?} is not a meeting length; write it like \"60m\", \"90m\" or \
                     \"1h30m\" (at most 7 days)",
                    duration.get_ref()
                ),
            ));
            None
        }
    }
}

fn recurring_meeting(
    raw: &RawRecurringMeeting,
    group_zone_name: &str,
    default_minutes_long: u32,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> Option<RecurringMeeting> {
    let before = problems.len();
    let id = raw.id.get_ref().trim().to_string();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        problems.push(source.problem_at(
            raw.id.span(),
            "a recurring schedule's id is a short name of letters, digits, - and _ (such as \
             \"monthly\")",
        ));
    }
    let rule = match parse_rule(raw.rule.get_ref()) {
        Ok(rule) => Some(rule),
        Err(problem) => {
            problems.push(source.problem_at(raw.rule.span(), problem));
            None
        }
    };
    let zone_name = rule
        .as_ref()
        .and_then(|rule| rule.zone_name.clone())
        .unwrap_or_else(|| group_zone_name.to_string());
    let zone = match jiff::tz::TimeZone::get(&zone_name) {
        Ok(zone) => Some(zone),
        Err(_) => {
            problems.push(source.problem_at(
                raw.rule.span(),
                format!(
                    "unknown time zone {zone_name:?}; use an IANA name such as \"Europe/Brussels\""
                ),
            ));
            None
        }
    };
    let date = |value: &Spanned<String>, key: &str, problems: &mut Vec<ConfigProblem>| match value
        .get_ref()
        .trim()
        .parse::<jiff::civil::Date>()
    {
        Ok(date) => Some(date),
        Err(_) => {
            problems.push(source.problem_at(
                value.span(),
                format!(
                    "{key} {:?} is not a date; write it like \"2026-12-01\"",
                    value.get_ref()
                ),
            ));
            None
        }
    };
    let starting = date(&raw.starting, "starting", problems);
    let until = raw
        .until
        .as_ref()
        .and_then(|until| date(until, "until", problems));
    let minutes_long = raw
        .duration
        .as_ref()
        .and_then(|duration| meeting_length(duration, "duration", source, problems))
        .unwrap_or(default_minutes_long);
    let mode = raw.mode.as_ref().and_then(|mode| {
        let parsed = MeetingMode::from_name(mode.get_ref());
        if parsed.is_none() {
            problems.push(source.problem_at(
                mode.span(),
                format!(
                    "mode {:?} is not one of \"remote\", \"in-person\", \"hybrid\"",
                    mode.get_ref()
                ),
            ));
        }
        parsed
    });
    if problems.len() > before {
        return None;
    }
    Some(RecurringMeeting {
        id,
        title: raw.title.get_ref().clone(),
        rule: rule?,
        rule_text: raw.rule.get_ref().clone(),
        zone: zone?,
        zone_name,
        starting: starting?,
        until,
        minutes_long,
        mode,
        location: raw
            .location
            .as_ref()
            .map(|location| location.get_ref().clone()),
    })
}
