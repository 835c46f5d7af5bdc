//! What the record knows about calls for consensus and polls. Both take their `R-<n>` number from
//! the group's one sequence (shared with feedback requests), so `R-5` names one thing. A call
//! gathers support, objections with their reasons and abstentions; a poll gathers one chosen
//! option per person. Neither is a vote: the chair designates the outcome, and the outcome
//! keeps its minority views and Chair's report beside it.

use crate::feedback::model::Stamp;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A member's answer to a call for consensus. Silence is no objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    Support,
    Object,
    Abstain,
}

impl Stance {
    pub const ALL: [Stance; 3] = [Stance::Support, Stance::Object, Stance::Abstain];

    pub fn name(self) -> &'static str {
        match self {
            Stance::Support => "support",
            Stance::Object => "object",
            Stance::Abstain => "abstain",
        }
    }

    /// How a tally names the people who took this stance.
    pub fn heading(self) -> &'static str {
        match self {
            Stance::Support => "Support",
            Stance::Object => "Objections",
            Stance::Abstain => "Abstentions",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAnswer {
    pub stance: Stance,
    /// Required with an objection; optional comment otherwise.
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// Where a poll answer came from: the tally counts a person's latest answer whatever its
/// channel, and the record says how it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerChannel {
    /// `!vote` in the room.
    Command,
    /// A response to the native Matrix poll, in any client.
    MatrixPoll,
    /// A reaction on the poll message.
    Reaction,
    /// `!vote` or an option number by mail.
    Mail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollAnswer {
    /// Index into the poll's options.
    pub option: usize,
    pub channel: AnswerChannel,
    pub at: Timestamp,
}

/// The chair's designation of a position (CCEG: Full Consensus or Consensus; other charters
/// have more levels). It adopts the outcome: the date starts the 7-day publication limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Designation {
    pub level: String,
    pub text: Option<String>,
    pub stamp: Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinorityView {
    pub person: String,
    pub text: String,
    pub at: Timestamp,
}

/// What became of a call or poll: the designation, the minority views filed against it and the
/// Chair's report adopted for it. Each is kept as written; a later one replaces an earlier one
/// of the same person (minority views) or the earlier report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub designation: Option<Designation>,
    pub minority_views: Vec<MinorityView>,
    pub chair_report: Option<(String, Stamp)>,
    /// When staff recorded the statement published, and where (`!published`).
    pub published: Option<(Option<String>, Stamp)>,
}

/// Days after adoption by which an outcome must be published (CCEG: statements are released
/// within 7 days of adoption).
pub const PUBLICATION_LIMIT_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsensusCall {
    pub number: u32,
    pub text: String,
    pub closes: Option<Timestamp>,
    pub opened: Stamp,
    /// Each person's latest answer, by person ID.
    pub answers: BTreeMap<String, CallAnswer>,
    /// Answers that a later one of the same person replaced, oldest first.
    pub replaced: Vec<(String, CallAnswer)>,
    /// `None` while open; a closed call still takes its designation.
    pub closed: Option<Timestamp>,
    /// Minutes before the close at which the people who had not answered were reminded.
    pub reminded: Vec<u32>,
    pub outcome: Outcome,
}

impl ConsensusCall {
    /// A call as opened: no answers, no outcome yet.
    pub fn new(number: u32, text: String, closes: Option<Timestamp>, opened: Stamp) -> Self {
        ConsensusCall {
            number,
            text,
            closes,
            opened,
            answers: BTreeMap::new(),
            replaced: Vec::new(),
            closed: None,
            reminded: Vec::new(),
            outcome: Outcome::default(),
        }
    }

    pub fn label(&self) -> String {
        crate::feedback::model::request_label(self.number)
    }

    pub fn is_open(&self) -> bool {
        self.closed.is_none() && self.outcome.designation.is_none()
    }

    /// Open objections: the people whose latest answer objects, with their reasons.
    pub fn objections(&self) -> impl Iterator<Item = (&String, &CallAnswer)> {
        self.answers
            .iter()
            .filter(|(_, answer)| answer.stance == Stance::Object)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    pub number: u32,
    pub question: String,
    pub options: Vec<String>,
    pub closes: Option<Timestamp>,
    /// The tally stays secret until the poll closes.
    pub hidden: bool,
    pub opened: Stamp,
    /// Each person's latest answer, by person ID.
    pub answers: BTreeMap<String, PollAnswer>,
    pub replaced: Vec<(String, PollAnswer)>,
    pub closed: Option<Timestamp>,
    pub reminded: Vec<u32>,
    pub outcome: Outcome,
}

impl Poll {
    /// A poll as opened: no answers, no outcome yet.
    pub fn new(
        number: u32,
        question: String,
        options: Vec<String>,
        closes: Option<Timestamp>,
        hidden: bool,
        opened: Stamp,
    ) -> Self {
        Poll {
            number,
            question,
            options,
            closes,
            hidden,
            opened,
            answers: BTreeMap::new(),
            replaced: Vec::new(),
            closed: None,
            reminded: Vec::new(),
            outcome: Outcome::default(),
        }
    }

    pub fn label(&self) -> String {
        crate::feedback::model::request_label(self.number)
    }

    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    /// Whether the tally may be shown now.
    pub fn tally_visible(&self) -> bool {
        !self.hidden || !self.is_open()
    }

    /// The options with their numbers as people type them (from 1).
    pub fn numbered_options(&self) -> impl Iterator<Item = (usize, &String)> {
        self.options
            .iter()
            .enumerate()
            .map(|(index, option)| (index + 1, option))
    }
}

/// The most options a poll may have: Matrix clients show at most 20 answers (MSC3381).
pub const MAX_POLL_OPTIONS: usize = 20;
