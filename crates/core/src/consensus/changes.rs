//! How the consensus and poll changes of the change log move the group's state on, beside the
//! model they fill (the `Change` enum itself lives in `state.rs`).

use super::model::{CallAnswer, ConsensusCall, Designation, MinorityView, Poll, PollAnswer};
use crate::feedback::model::Stamp;
use crate::state::{Change, GroupState};

/// Applies a consensus or poll change; returns `false` for a change about something else.
pub fn apply(state: &mut GroupState, change: &Change) -> bool {
    match change {
        Change::ConsensusCalled {
            number,
            text,
            closes,
            by,
            at,
        } => {
            state.last_number = state.last_number.max(*number);
            let opened = Stamp {
                by: by.clone(),
                at: *at,
            };
            state.calls.insert(
                *number,
                ConsensusCall::new(*number, text.clone(), *closes, opened),
            );
        }
        Change::ConsensusAnswered {
            number,
            person,
            stance,
            reason,
            at,
        } => {
            if let Some(call) = state.calls.get_mut(number) {
                let answer = CallAnswer {
                    stance: *stance,
                    reason: reason.clone(),
                    at: *at,
                };
                if let Some(previous) = call.answers.insert(person.clone(), answer) {
                    call.replaced.push((person.clone(), previous));
                }
            }
        }
        Change::PollOpened {
            number,
            question,
            options,
            closes,
            hidden,
            by,
            at,
        } => {
            state.last_number = state.last_number.max(*number);
            let opened = Stamp {
                by: by.clone(),
                at: *at,
            };
            state.polls.insert(
                *number,
                Poll::new(
                    *number,
                    question.clone(),
                    options.clone(),
                    *closes,
                    *hidden,
                    opened,
                ),
            );
        }
        Change::PollAnswered {
            number,
            person,
            option,
            channel,
            at,
        } => {
            if let Some(poll) = state.polls.get_mut(number)
                && *option < poll.options.len()
            {
                let answer = PollAnswer {
                    option: *option,
                    channel: *channel,
                    at: *at,
                };
                if let Some(previous) = poll.answers.insert(person.clone(), answer) {
                    poll.replaced.push((person.clone(), previous));
                }
            }
        }
        Change::ConsultationClosed { number, at, .. } => {
            if let Some(call) = state.calls.get_mut(number) {
                call.closed.get_or_insert(*at);
            }
            if let Some(poll) = state.polls.get_mut(number) {
                poll.closed.get_or_insert(*at);
            }
        }
        Change::ConsultationReminded {
            number,
            minutes_before,
            ..
        } => {
            if let Some(call) = state.calls.get_mut(number) {
                call.reminded.push(*minutes_before);
            }
            if let Some(poll) = state.polls.get_mut(number) {
                poll.reminded.push(*minutes_before);
            }
        }
        Change::OutcomeDesignated {
            number,
            level,
            text,
            by,
            at,
        } => {
            if let Some(outcome) = outcome_mut(state, *number) {
                outcome.designation = Some(Designation {
                    level: level.clone(),
                    text: text.clone(),
                    stamp: Stamp {
                        by: by.clone(),
                        at: *at,
                    },
                });
            }
            // A designated call is decided: it takes no more answers.
            if let Some(call) = state.calls.get_mut(number) {
                call.closed.get_or_insert(*at);
            }
        }
        Change::MinorityViewFiled {
            number,
            person,
            text,
            at,
        } => {
            if let Some(outcome) = outcome_mut(state, *number) {
                outcome.minority_views.retain(|view| &view.person != person);
                outcome.minority_views.push(MinorityView {
                    person: person.clone(),
                    text: text.clone(),
                    at: *at,
                });
            }
        }
        Change::ChairReportAdopted {
            number,
            text,
            by,
            at,
        } => {
            if let Some(outcome) = outcome_mut(state, *number) {
                outcome.chair_report = Some((
                    text.clone(),
                    Stamp {
                        by: by.clone(),
                        at: *at,
                    },
                ));
            }
        }
        Change::OutcomePublished {
            number,
            url,
            by,
            at,
        } => {
            if let Some(outcome) = outcome_mut(state, *number) {
                outcome.published = Some((
                    url.clone(),
                    Stamp {
                        by: by.clone(),
                        at: *at,
                    },
                ));
            }
        }
        _ => return false,
    }
    true
}

fn outcome_mut(state: &mut GroupState, number: u32) -> Option<&mut super::model::Outcome> {
    if let Some(call) = state.calls.get_mut(&number) {
        return Some(&mut call.outcome);
    }
    state.polls.get_mut(&number).map(|poll| &mut poll.outcome)
}
