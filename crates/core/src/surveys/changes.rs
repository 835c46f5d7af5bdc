//! How the survey changes move the group's state on. `SurveyBallot` is applied like the others
//! but is never written to the change log: storage keeps ballots apart, without time, order or
//! a link to the message they came in (see `storage::surveys`).

use super::model::Survey;
use crate::feedback::model::Stamp;
use crate::state::{Change, GroupState};

/// Whether a change is a ballot, which storage keeps out of the change log.
pub fn is_ballot(change: &Change) -> bool {
    matches!(change, Change::SurveyBallot { .. })
}

/// Applies a survey change; returns `false` for a change about something else.
pub fn apply(state: &mut GroupState, change: &Change) -> bool {
    match change {
        Change::SurveyOpened {
            number,
            form,
            closes,
            by,
            at,
        } => {
            state.last_survey_number = state.last_survey_number.max(*number);
            let opened = Stamp {
                by: by.clone(),
                at: *at,
            };
            state
                .surveys
                .insert(*number, Survey::new(*number, form.clone(), *closes, opened));
        }
        Change::SurveyAnswered { number, person } => {
            if let Some(survey) = state.surveys.get_mut(number) {
                survey.answered.insert(person.clone());
            }
        }
        Change::SurveyBallot { number, answers } => {
            if let Some(survey) = state.surveys.get_mut(number) {
                survey.ballots.push(answers.clone());
            }
        }
        Change::SurveyReminded {
            number,
            minutes_before,
            ..
        } => {
            if let Some(survey) = state.surveys.get_mut(number) {
                survey.reminded.push(*minutes_before);
            }
        }
        Change::SurveyClosed { number, at, .. } => {
            if let Some(survey) = state.surveys.get_mut(number) {
                survey.closed.get_or_insert(*at);
            }
        }
        _ => return false,
    }
    true
}
