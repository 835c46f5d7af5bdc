//! What the group knows about a feedback request: a proposal sent back to the appointing
//! organizations, each of which must acknowledge it and then respond by a deadline (WS2
//! recommendation 7.2.2), and whose final form may only rest on the feedback of every one.

use crate::state::Change;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who did something, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// A person ID from the group file.
    pub by: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// A proposal for review: each organization supports it, supports it with comments, does
    /// not support it (with reasons) or abstains.
    Feedback,
    /// The annual review of the group (CCEG charter): each organization says whether it
    /// continues; silence counts as continuing.
    Continuation,
}

/// An organization's answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    Support,
    SupportWithComments,
    NoSupport,
    Abstain,
    Continue,
    Withdraw,
}

impl Position {
    pub const FEEDBACK: [Position; 4] = [
        Position::Support,
        Position::SupportWithComments,
        Position::NoSupport,
        Position::Abstain,
    ];
    pub const CONTINUATION: [Position; 2] = [Position::Continue, Position::Withdraw];

    pub fn name(self) -> &'static str {
        match self {
            Position::Support => "support",
            Position::SupportWithComments => "support-with-comments",
            Position::NoSupport => "no-support",
            Position::Abstain => "abstain",
            Position::Continue => "continue",
            Position::Withdraw => "withdraw",
        }
    }

    pub fn from_name(text: &str) -> Option<Position> {
        let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
        Position::FEEDBACK
            .into_iter()
            .chain(Position::CONTINUATION)
            .find(|position| position.name() == wanted)
    }

    /// The positions a request of this kind accepts.
    pub fn accepted_for(kind: RequestKind) -> &'static [Position] {
        match kind {
            RequestKind::Feedback => &Position::FEEDBACK,
            RequestKind::Continuation => &Position::CONTINUATION,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub position: Position,
    pub text: Option<String>,
    pub stamp: Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionState {
    Requested,
    Granted(Stamp),
    Refused {
        stamp: Stamp,
        reason: Option<String>,
    },
}

/// An organization's request for more time, and the chair's decision on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub until: Timestamp,
    pub reason: Option<String>,
    pub requested: Stamp,
    pub state: ExtensionState,
}

/// Where one addressed organization stands on one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationStatus {
    pub acknowledged: Option<Stamp>,
    pub response: Option<Response>,
    /// Earlier responses that a later one replaced, oldest first.
    pub replaced_responses: Vec<Response>,
    pub extension: Option<Extension>,
    pub last_reminded: Option<Timestamp>,
    pub reminders: u32,
    pub escalated: Option<Timestamp>,
}

impl OrganizationStatus {
    /// The extension a chair granted, if any: it moves the response deadline and counts as the
    /// organization's "updated timeframe" answer.
    pub fn granted_until(&self) -> Option<Timestamp> {
        self.extension
            .as_ref()
            .filter(|extension| matches!(extension.state, ExtensionState::Granted(_)))
            .map(|extension| extension.until)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestState {
    Open,
    Closed {
        outcome: Option<String>,
        forced: bool,
        by: Option<String>,
        at: Timestamp,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackRequest {
    pub number: u32,
    pub title: String,
    pub kind: RequestKind,
    pub acknowledge_by: Timestamp,
    pub respond_by: Timestamp,
    pub document: Option<String>,
    pub opened: Stamp,
    pub state: RequestState,
    /// The addressed organizations by short name, each with its status, in the order the
    /// request named them (the group file's order).
    pub organizations: Addressed,
    /// Every change about this request, in order: the history behind the status.
    pub history: Vec<Change>,
}

/// The addressed organizations and their status, kept in the order the request named them, so
/// every listing follows the group file rather than the alphabet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addressed(Vec<(String, OrganizationStatus)>);

impl Addressed {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, short_name: &str) -> Option<&OrganizationStatus> {
        self.0
            .iter()
            .find(|(name, _)| name == short_name)
            .map(|(_, status)| status)
    }

    pub fn get_mut(&mut self, short_name: &str) -> Option<&mut OrganizationStatus> {
        self.0
            .iter_mut()
            .find(|(name, _)| name == short_name)
            .map(|(_, status)| status)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &OrganizationStatus)> {
        self.0.iter().map(|(name, status)| (name, status))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(name, _)| name)
    }

    pub fn values(&self) -> impl Iterator<Item = &OrganizationStatus> {
        self.0.iter().map(|(_, status)| status)
    }

    /// "GNSO, ALAC, GAC": the names, in order, for replies.
    pub fn names_text(&self) -> String {
        self.keys().cloned().collect::<Vec<_>>().join(", ")
    }

    /// How many have acknowledged, and how many have responded.
    pub fn answer_counts(&self) -> (usize, usize) {
        let acknowledged = self
            .values()
            .filter(|status| status.acknowledged.is_some())
            .count();
        let responded = self
            .values()
            .filter(|status| status.response.is_some())
            .count();
        (acknowledged, responded)
    }
}

impl FromIterator<(String, OrganizationStatus)> for Addressed {
    fn from_iter<I: IntoIterator<Item = (String, OrganizationStatus)>>(iter: I) -> Self {
        Addressed(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Addressed {
    type Item = (&'a String, &'a OrganizationStatus);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, OrganizationStatus)>,
        fn(&'a (String, OrganizationStatus)) -> (&'a String, &'a OrganizationStatus),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(name, status)| (name, status))
    }
}

impl std::ops::Index<&String> for Addressed {
    type Output = OrganizationStatus;

    /// Panics on a name that is not addressed: callers index only with names taken from the
    /// request itself.
    fn index(&self, short_name: &String) -> &OrganizationStatus {
        self.get(short_name)
            .unwrap_or_else(|| panic!("{short_name} is not addressed"))
    }
}

impl std::ops::Index<&str> for Addressed {
    type Output = OrganizationStatus;

    fn index(&self, short_name: &str) -> &OrganizationStatus {
        self.get(short_name)
            .unwrap_or_else(|| panic!("{short_name} is not addressed"))
    }
}

/// The answer an organization owes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owed {
    Acknowledgement { due: Timestamp },
    Response { due: Timestamp },
}

impl Owed {
    pub fn due(self) -> Timestamp {
        match self {
            Owed::Acknowledgement { due } | Owed::Response { due } => due,
        }
    }

    pub fn what(self) -> &'static str {
        match self {
            Owed::Acknowledgement { .. } => "acknowledgement",
            Owed::Response { .. } => "response",
        }
    }
}

impl FeedbackRequest {
    /// `R-3`.
    pub fn label(&self) -> String {
        request_label(self.number)
    }

    pub fn is_open(&self) -> bool {
        self.state == RequestState::Open
    }

    /// The status of an addressed organization, found without regard to case.
    pub fn organization(&self, short_name: &str) -> Option<(&String, &OrganizationStatus)> {
        self.organizations
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(short_name))
    }

    /// An organization's response deadline: the request's, or the extension a chair granted.
    pub fn respond_by_for(&self, status: &OrganizationStatus) -> Timestamp {
        status.granted_until().unwrap_or(self.respond_by)
    }

    /// What the organization owes next: nothing once it has responded; a response once it has
    /// acknowledged (a response also counts as the acknowledgement). For a continuation
    /// request silence is an answer, so nothing is owed after acknowledging.
    pub fn owed_by(&self, status: &OrganizationStatus) -> Option<Owed> {
        if status.response.is_some() || !self.is_open() {
            return None;
        }
        if status.acknowledged.is_none() {
            return Some(Owed::Acknowledgement {
                due: self.acknowledge_by,
            });
        }
        Some(Owed::Response {
            due: self.respond_by_for(status),
        })
    }

    /// The organizations that have not responded, in name order.
    pub fn not_responded(&self) -> Vec<&str> {
        self.organizations
            .iter()
            .filter(|(_, status)| status.response.is_none())
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

pub fn request_label(number: u32) -> String {
    format!("R-{number}")
}

/// Reads `R-3` (any case, with or without the hyphen, or `#3`) as a request number.
pub fn parse_request_label(text: &str) -> Option<u32> {
    let text = text.trim();
    let digits = text
        .strip_prefix(['R', 'r'])
        .map(|rest| rest.strip_prefix('-').unwrap_or(rest))
        .or_else(|| text.strip_prefix('#'))?;
    if digits.is_empty() || !digits.chars().all(|character| character.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|number| *number > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_labels_are_read_without_regard_to_case() {
        let cases = [
            ("R-3", Some(3)),
            ("r-3", Some(3)),
            ("R3", Some(3)),
            ("#12", Some(12)),
            ("R-0", None),
            ("R-", None),
            ("R-3x", None),
            ("3", None),
            ("Q-3", None),
            ("R-99999999999", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_request_label(text), expected, "{text}");
        }
    }

    #[test]
    fn position_names_round_trip() {
        for position in Position::FEEDBACK.into_iter().chain(Position::CONTINUATION) {
            assert_eq!(Position::from_name(position.name()), Some(position));
        }
        assert_eq!(
            Position::from_name("Support_With_Comments"),
            Some(Position::SupportWithComments)
        );
        assert_eq!(Position::from_name("yes"), None);
    }
}
