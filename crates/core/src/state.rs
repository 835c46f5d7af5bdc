//! The group's state as the core decides over it, and the changes that move it on.
//!
//! The state is never written directly: the core returns [`Change`]s, storage appends them to
//! the group's change log in the same transaction that marks the input handled, and the state is
//! the fold of that log ([`GroupState::apply`]). So the history of every request (answers that
//! were later replaced, extensions, reminders) is kept by construction, a restart rebuilds exactly
//! the state the last commit left, and the inputs of one batch see the changes of the inputs
//! before them by applying them to a working copy.

use crate::consensus::model::{AnswerChannel, ConsensusCall, Poll, Stance};
use crate::feedback::model::{
    Extension, ExtensionState, FeedbackRequest, OrganizationStatus, Position, RequestKind,
    RequestState, Stamp,
};
use crate::meetings::model::{ActionItem, AttendanceMode, Meeting, MeetingMode, MinutesEntry};
use crate::surveys::model::{BallotAnswer, Survey, SurveyForm};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One group's record-keeping state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupState {
    /// The last number given to a request (and later to polls and consensus calls, which share
    /// the sequence so that `R-7` names one thing).
    pub last_number: u32,
    pub requests: BTreeMap<u32, FeedbackRequest>,
    /// The last meeting number given (`M-<n>`), a sequence of its own.
    pub last_meeting_number: u32,
    pub meetings: BTreeMap<u32, Meeting>,
    /// The last action item number given (`A-<n>`), a sequence of its own.
    pub last_action_number: u32,
    pub actions: BTreeMap<u32, ActionItem>,
    /// Calls for consensus and polls, numbered from the requests' sequence (`last_number`).
    pub calls: BTreeMap<u32, ConsensusCall>,
    pub polls: BTreeMap<u32, Poll>,
    /// The last survey number given (`S-<n>`), a sequence of its own.
    pub last_survey_number: u32,
    pub surveys: BTreeMap<u32, Survey>,
}

/// A change to a group's state, as stored in its change log. Person fields hold stable person
/// IDs from the group file; organization fields hold short names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    RequestOpened {
        number: u32,
        title: String,
        kind: RequestKind,
        organizations: Vec<String>,
        acknowledge_by: Timestamp,
        respond_by: Timestamp,
        document: Option<String>,
        opened_by: String,
        at: Timestamp,
    },
    Acknowledged {
        number: u32,
        organization: String,
        by: String,
        at: Timestamp,
    },
    Responded {
        number: u32,
        organization: String,
        position: Position,
        text: Option<String>,
        by: String,
        at: Timestamp,
    },
    ExtensionRequested {
        number: u32,
        organization: String,
        until: Timestamp,
        reason: Option<String>,
        by: String,
        at: Timestamp,
    },
    ExtensionGranted {
        number: u32,
        organization: String,
        until: Timestamp,
        by: String,
        at: Timestamp,
    },
    ExtensionRefused {
        number: u32,
        organization: String,
        reason: Option<String>,
        by: String,
        at: Timestamp,
    },
    Reminded {
        number: u32,
        organization: String,
        at: Timestamp,
    },
    Escalated {
        number: u32,
        organization: String,
        at: Timestamp,
    },
    RequestClosed {
        number: u32,
        outcome: Option<String>,
        forced: bool,
        /// Who closed it; `None` when the deadline closed it (a continuation request).
        by: Option<String>,
        at: Timestamp,
    },
    /// A meeting was scheduled, by a person or (`by: None`) by a recurring schedule of the
    /// group file.
    MeetingScheduled {
        number: u32,
        title: String,
        start: Timestamp,
        minutes_long: u32,
        mode: Option<MeetingMode>,
        location: Option<String>,
        series: Option<String>,
        by: Option<String>,
        at: Timestamp,
    },
    MeetingMoved {
        number: u32,
        start: Timestamp,
        by: String,
        at: Timestamp,
    },
    MeetingCancelled {
        number: u32,
        by: String,
        at: Timestamp,
    },
    MeetingStarted {
        number: u32,
        by: String,
        at: Timestamp,
    },
    MeetingEnded {
        number: u32,
        /// Empty when the clock ended it (nobody did, hours after its end).
        by: String,
        at: Timestamp,
    },
    RapporteurChosen {
        number: u32,
        person: String,
        by: String,
        at: Timestamp,
    },
    Attended {
        number: u32,
        person: String,
        mode: Option<AttendanceMode>,
        by: String,
        at: Timestamp,
    },
    LeftMeeting {
        number: u32,
        person: String,
        at: Timestamp,
    },
    RegretsSent {
        number: u32,
        person: String,
        reason: Option<String>,
        alternate: Option<String>,
        by: String,
        at: Timestamp,
    },
    MinutesRecorded {
        number: u32,
        entry: MinutesEntry,
    },
    /// `!undo`: the line at this index of the meeting's minutes is taken back.
    MinutesUndone {
        number: u32,
        index: usize,
        by: String,
        at: Timestamp,
    },
    ActionDone {
        action: u32,
        by: String,
        at: Timestamp,
    },
    MeetingReminded {
        number: u32,
        minutes_before: u32,
        /// The start the reminder announced: a moved meeting is reminded of again.
        start: Timestamp,
        at: Timestamp,
    },
    ActionReminded {
        action: u32,
        overdue: bool,
        at: Timestamp,
    },
    ConsensusCalled {
        number: u32,
        text: String,
        closes: Option<Timestamp>,
        by: String,
        at: Timestamp,
    },
    ConsensusAnswered {
        number: u32,
        person: String,
        stance: Stance,
        reason: Option<String>,
        at: Timestamp,
    },
    PollOpened {
        number: u32,
        question: String,
        options: Vec<String>,
        closes: Option<Timestamp>,
        hidden: bool,
        by: String,
        at: Timestamp,
    },
    PollAnswered {
        number: u32,
        person: String,
        /// Index into the poll's options.
        option: usize,
        channel: AnswerChannel,
        at: Timestamp,
    },
    /// A call or poll closed: by a person, or (`by: None`) at its closing date.
    ConsultationClosed {
        number: u32,
        by: Option<String>,
        at: Timestamp,
    },
    ConsultationReminded {
        number: u32,
        minutes_before: u32,
        /// The members reminded (those who had not answered).
        people: Vec<String>,
        at: Timestamp,
    },
    /// The chair's designation, which adopts the outcome (its date starts the publication limit).
    OutcomeDesignated {
        number: u32,
        level: String,
        text: Option<String>,
        by: String,
        at: Timestamp,
    },
    MinorityViewFiled {
        number: u32,
        person: String,
        text: String,
        at: Timestamp,
    },
    ChairReportAdopted {
        number: u32,
        text: String,
        by: String,
        at: Timestamp,
    },
    /// The group's statement on an adopted outcome was published (at the link, if given).
    OutcomePublished {
        number: u32,
        url: Option<String>,
        by: String,
        at: Timestamp,
    },
    SurveyOpened {
        number: u32,
        form: SurveyForm,
        closes: Option<Timestamp>,
        by: String,
        at: Timestamp,
    },
    /// The "has answered" mark: who answered, and nothing of what.
    SurveyAnswered {
        number: u32,
        person: String,
    },
    /// An answer, naming nobody. Never written to the change log (see `surveys::changes`).
    SurveyBallot {
        number: u32,
        answers: Vec<BallotAnswer>,
    },
    SurveyReminded {
        number: u32,
        minutes_before: u32,
        at: Timestamp,
    },
    SurveyClosed {
        number: u32,
        by: Option<String>,
        at: Timestamp,
    },
}

impl GroupState {
    /// The state after `changes`, in order.
    pub fn from_changes<'a>(changes: impl IntoIterator<Item = &'a Change>) -> GroupState {
        let mut state = GroupState::default();
        for change in changes {
            state.apply(change);
        }
        state
    }

    pub fn request(&self, number: u32) -> Option<&FeedbackRequest> {
        self.requests.get(&number)
    }

    /// Moves the state on by one change. Changes that name something unknown (which only a
    /// hand-edited log could contain) are ignored rather than trusted.
    pub fn apply(&mut self, change: &Change) {
        if crate::meetings::changes::apply(self, change)
            || crate::consensus::changes::apply(self, change)
            || crate::surveys::changes::apply(self, change)
        {
            return;
        }
        match change {
            Change::RequestOpened {
                number,
                title,
                kind,
                organizations,
                acknowledge_by,
                respond_by,
                document,
                opened_by,
                at,
            } => {
                self.last_number = self.last_number.max(*number);
                self.requests.insert(
                    *number,
                    FeedbackRequest {
                        number: *number,
                        title: title.clone(),
                        kind: *kind,
                        acknowledge_by: *acknowledge_by,
                        respond_by: *respond_by,
                        document: document.clone(),
                        opened: Stamp {
                            by: opened_by.clone(),
                            at: *at,
                        },
                        state: RequestState::Open,
                        organizations: organizations
                            .iter()
                            .map(|organization| {
                                (organization.clone(), OrganizationStatus::default())
                            })
                            .collect(),
                        history: Vec::new(),
                    },
                );
            }
            Change::Acknowledged {
                number,
                organization,
                by,
                at,
            } => {
                if let Some(status) = self.status_mut(*number, organization) {
                    status.acknowledged = Some(Stamp {
                        by: by.clone(),
                        at: *at,
                    });
                }
            }
            Change::Responded {
                number,
                organization,
                position,
                text,
                by,
                at,
            } => {
                if let Some(status) = self.status_mut(*number, organization) {
                    if let Some(previous) = status.response.take() {
                        status.replaced_responses.push(previous);
                    }
                    status.response = Some(crate::feedback::model::Response {
                        position: *position,
                        text: text.clone(),
                        stamp: Stamp {
                            by: by.clone(),
                            at: *at,
                        },
                    });
                }
            }
            Change::ExtensionRequested {
                number,
                organization,
                until,
                reason,
                by,
                at,
            } => {
                if let Some(status) = self.status_mut(*number, organization) {
                    status.extension = Some(Extension {
                        until: *until,
                        reason: reason.clone(),
                        requested: Stamp {
                            by: by.clone(),
                            at: *at,
                        },
                        state: ExtensionState::Requested,
                    });
                }
            }
            Change::ExtensionGranted {
                number,
                organization,
                until,
                by,
                at,
            } => {
                if let Some(status) = self.status_mut(*number, organization) {
                    let stamp = Stamp {
                        by: by.clone(),
                        at: *at,
                    };
                    match &mut status.extension {
                        Some(extension) => {
                            extension.until = *until;
                            extension.state = ExtensionState::Granted(stamp);
                        }
                        None => {
                            status.extension = Some(Extension {
                                until: *until,
                                reason: None,
                                requested: stamp.clone(),
                                state: ExtensionState::Granted(stamp),
                            })
                        }
                    }
                }
            }
            Change::ExtensionRefused {
                number,
                organization,
                reason,
                by,
                at,
            } => {
                if let Some(status) = self.status_mut(*number, organization)
                    && let Some(extension) = &mut status.extension
                {
                    extension.state = ExtensionState::Refused {
                        stamp: Stamp {
                            by: by.clone(),
                            at: *at,
                        },
                        reason: reason.clone(),
                    };
                }
            }
            Change::Reminded {
                number,
                organization,
                at,
            } => {
                if let Some(status) = self.status_mut(*number, organization) {
                    status.last_reminded = Some(*at);
                    status.reminders += 1;
                }
            }
            Change::Escalated {
                number,
                organization,
                at,
            } => {
                if let Some(status) = self.status_mut(*number, organization) {
                    status.escalated = Some(*at);
                }
            }
            Change::RequestClosed {
                number,
                outcome,
                forced,
                by,
                at,
            } => {
                if let Some(request) = self.requests.get_mut(number) {
                    request.state = RequestState::Closed {
                        outcome: outcome.clone(),
                        forced: *forced,
                        by: by.clone(),
                        at: *at,
                    };
                }
            }
            // Meeting changes were applied above.
            _ => {}
        }
        if let Some(number) = change.request_number()
            && let Some(request) = self.requests.get_mut(&number)
        {
            request.history.push(change.clone());
        }
    }

    fn status_mut(&mut self, number: u32, organization: &str) -> Option<&mut OrganizationStatus> {
        self.requests
            .get_mut(&number)?
            .organizations
            .get_mut(organization)
    }
}

impl Change {
    /// The request a change is about.
    pub fn request_number(&self) -> Option<u32> {
        match self {
            Change::RequestOpened { number, .. }
            | Change::Acknowledged { number, .. }
            | Change::Responded { number, .. }
            | Change::ExtensionRequested { number, .. }
            | Change::ExtensionGranted { number, .. }
            | Change::ExtensionRefused { number, .. }
            | Change::Reminded { number, .. }
            | Change::Escalated { number, .. }
            | Change::RequestClosed { number, .. } => Some(*number),
            _ => None,
        }
    }
}
