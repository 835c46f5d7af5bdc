//! The durable clock's part in surveys: reminders before the close to the members and
//! participants who have not answered (by mail, each alone: who has not answered is nobody
//! else's business), and the close itself.

use super::commands::{closing, respondents};
use crate::consensus::timers::ClosingTimers;
use crate::directory::Group;
use crate::effects::{Audience, Effect, Timer};
use crate::feedback::render::when;
use crate::reply::ReplyDocument;
use crate::state::{Change, GroupState};
use jiff::Timestamp;

fn survey_timers(number: u32, with: impl FnOnce(&ClosingTimers) -> Vec<Effect>) -> Vec<Effect> {
    with(&ClosingTimers {
        reminder_key: &|minutes| format!("S-{number}:remind:{minutes}m"),
        reminder: &|minutes| Timer::SurveyReminder {
            number,
            minutes_before: minutes,
        },
        close_key: format!("S-{number}:close"),
        close: Timer::SurveyClose { number },
    })
}

/// The reminders (the lead times of the group file's `[consensus]` section) and the close.
pub fn survey_plan(
    group: &Group,
    number: u32,
    closes: Option<Timestamp>,
    now: Timestamp,
) -> Vec<Effect> {
    survey_timers(number, |timers| timers.plan(group, closes, now))
}

pub fn survey_cancels(group: &Group, number: u32) -> Vec<Effect> {
    survey_timers(number, |timers| timers.cancels(group))
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
