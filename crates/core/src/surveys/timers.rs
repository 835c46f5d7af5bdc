//! The durable clock's part in surveys: reminders before the close to the members and
//! participants who have not answered (by mail, each alone: who has not answered is nobody
//! else's business), and the close itself.

use super::commands::{closing, respondents};
use crate::directory::Group;
use crate::effects::{Audience, Effect, Timer};
use crate::feedback::render::when;
use crate::reply::ReplyDocument;
use crate::state::{Change, GroupState};
use jiff::{SignedDuration, Timestamp};

fn reminder_key(number: u32, minutes_before: u32) -> String {
    format!("S-{number}:remind:{minutes_before}m")
}

fn close_key(number: u32) -> String {
    format!("S-{number}:close")
}

/// The reminders (the lead times of the group file's `[consensus]` section) and the close.
pub fn survey_plan(
    group: &Group,
    number: u32,
    closes: Option<Timestamp>,
    now: Timestamp,
) -> Vec<Effect> {
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
                key: reminder_key(number, *minutes),
                at,
                timer: Timer::SurveyReminder {
                    number,
                    minutes_before: *minutes,
                },
            })
        })
        .collect();
    effects.push(Effect::Schedule {
        key: close_key(number),
        at: closes,
        timer: Timer::SurveyClose { number },
    });
    effects
}

pub fn survey_cancels(group: &Group, number: u32) -> Vec<Effect> {
    group
        .consensus
        .reminder_minutes_before
        .iter()
        .map(|minutes| Effect::Cancel {
            key: reminder_key(number, *minutes),
        })
        .chain(std::iter::once(Effect::Cancel {
            key: close_key(number),
        }))
        .collect()
}

pub fn on_timer(
    state: &GroupState,
    group: &Group,
    timer: &Timer,
    now: Timestamp,
) -> (Vec<Change>, Vec<Effect>) {
    match timer {
        Timer::SurveyClose { number } => match state.surveys.get(number) {
            Some(survey) if survey.is_open() => closing(group, survey, None, now),
            _ => (Vec::new(), Vec::new()),
        },
        Timer::SurveyReminder {
            number,
            minutes_before,
        } => {
            let Some(survey) = state.surveys.get(number).filter(|survey| survey.is_open()) else {
                return (Vec::new(), Vec::new());
            };
            if survey.reminded.contains(minutes_before) {
                return (Vec::new(), Vec::new());
            }
            let document = ReplyDocument::from_text(format!(
                "Reminder: {} \"{}\" closes {}, and you have not answered. Answer the \
                 questionnaire mail with one line per question, its number first; your answers \
                 are stored without your name.",
                survey.label(),
                survey.form.title,
                survey.closes.map(|at| when(group, at)).unwrap_or_default()
            ));
            let subject = format!(
                "[{}] {}: reminder ({})",
                group.short_name,
                survey.label(),
                survey.form.title
            );
            let effects = respondents(group)
                .filter(|person| !survey.answered.contains(&person.id) && !person.emails.is_empty())
                .map(|person| Effect::Announce {
                    audience: Audience::Person(person.id.clone()),
                    subject: subject.clone(),
                    about: Some(survey.label()),
                    document: document.clone(),
                })
                .collect();
            (
                vec![Change::SurveyReminded {
                    number: *number,
                    minutes_before: *minutes_before,
                    at: now,
                }],
                effects,
            )
        }
        _ => (Vec::new(), Vec::new()),
    }
}
