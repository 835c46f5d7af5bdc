//! The adopted outcomes as the public record lists them: each designated call or poll with its
//! text, designation, date of adoption, publication deadline, minority views and Chair's
//! report. Derived from the state, so the record adapter can write it after any change.

use super::model::{Outcome, PUBLICATION_LIMIT_DAYS};
use super::outcome::publish_by;
use crate::state::{Change, GroupState};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinorityViewEntry {
    pub person: String,
    pub text: String,
    pub filed_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChairReportEntry {
    pub text: String,
    pub adopted_by: String,
    pub adopted_at: Timestamp,
}

/// One adopted outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeEntry {
    pub id: String,
    /// `call` (a call for consensus) or `poll`.
    pub kind: &'static str,
    pub text: String,
    /// `None` for a call without consensus, whose record is its Chair's report.
    pub designation: Option<String>,
    pub designation_text: Option<String>,
    pub designated_by: Option<String>,
    /// The designation's time, or the Chair's report's where there is no designation.
    pub adopted_at: Timestamp,
    /// Adoption plus the publication limit (CCEG: 7 days).
    pub publish_by: Timestamp,
    pub publication_limit_days: i64,
    pub minority_views: Vec<MinorityViewEntry>,
    pub chair_report: Option<ChairReportEntry>,
    /// When staff recorded the group's statement published (`!published`), and where.
    pub published_at: Option<Timestamp>,
    pub published_url: Option<String>,
}

fn entry(id: String, kind: &'static str, text: &str, outcome: &Outcome) -> Option<OutcomeEntry> {
    let designation = outcome.designation.as_ref();
    let adopted_at = designation
        .map(|designation| designation.stamp.at)
        .or_else(|| outcome.chair_report.as_ref().map(|(_, stamp)| stamp.at))?;
    Some(OutcomeEntry {
        id,
        kind,
        text: text.to_string(),
        designation: designation.map(|designation| designation.level.clone()),
        designation_text: designation.and_then(|designation| designation.text.clone()),
        designated_by: designation.map(|designation| designation.stamp.by.clone()),
        adopted_at,
        publish_by: publish_by(adopted_at),
        publication_limit_days: PUBLICATION_LIMIT_DAYS,
        minority_views: outcome
            .minority_views
            .iter()
            .map(|view| MinorityViewEntry {
                person: view.person.clone(),
                text: view.text.clone(),
                filed_at: view.at,
            })
            .collect(),
        chair_report: outcome
            .chair_report
            .as_ref()
            .map(|(text, stamp)| ChairReportEntry {
                text: text.clone(),
                adopted_by: stamp.by.clone(),
                adopted_at: stamp.at,
            }),
        published_at: outcome.published.as_ref().map(|(_, stamp)| stamp.at),
        published_url: outcome.published.as_ref().and_then(|(url, _)| url.clone()),
    })
}

/// The adopted outcomes of a group, by record number.
pub fn adopted_outcomes(state: &GroupState) -> Vec<OutcomeEntry> {
    let mut entries: Vec<(u32, OutcomeEntry)> = state
        .calls
        .values()
        .filter_map(|call| {
            entry(call.label(), "call", &call.text, &call.outcome).map(|entry| (call.number, entry))
        })
        .chain(state.polls.values().filter_map(|poll| {
            entry(poll.label(), "poll", &poll.question, &poll.outcome)
                .map(|entry| (poll.number, entry))
        }))
        .collect();
    entries.sort_by_key(|(number, _)| *number);
    entries.into_iter().map(|(_, entry)| entry).collect()
}

/// Whether a change may alter the adopted outcomes.
pub fn is_outcome_change(change: &Change) -> bool {
    matches!(
        change,
        Change::OutcomeDesignated { .. }
            | Change::MinorityViewFiled { .. }
            | Change::ChairReportAdopted { .. }
            | Change::OutcomePublished { .. }
    )
}
