//! What the record knows about a survey. A survey's questions come from a file the group file
//! names; its answers are stored without the identity of who gave them: the record keeps a
//! "has answered" mark per person (to refuse a second answer and to remind the others) and,
//! apart from it, the ballots, which name nobody and are stored with neither time nor order
//! (see `storage::surveys`), so neither can be linked to a mark.

use crate::feedback::model::Stamp;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuestionKind {
    /// 1 (strongly disagree) to 5 (strongly agree).
    Likert,
    Choice {
        options: Vec<String>,
    },
    /// Free text; may be left empty.
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub text: String,
    #[serde(flatten)]
    pub kind: QuestionKind,
}

/// A survey as its file describes it, copied into the record when it is opened, so that a later
/// edit of the file changes no survey under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyForm {
    /// The name the group file gives it, used in `!survey open <id>`.
    pub id: String,
    pub title: String,
    /// Results are published only when at least this many people answered.
    pub minimum_answers: u32,
    pub questions: Vec<Question>,
}

/// The default of `minimum_answers`: fewer answers than this could be told apart.
pub const DEFAULT_MINIMUM_ANSWERS: u32 = 5;

/// The Likert scale's words, 1 to 5.
pub const LIKERT: [&str; 5] = [
    "strongly disagree",
    "disagree",
    "neither agree nor disagree",
    "agree",
    "strongly agree",
];

/// One answer of a ballot, in the order of the questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", content = "value", rename_all = "snake_case")]
pub enum BallotAnswer {
    /// 1 to 5.
    Scale(u8),
    /// Index into the question's options.
    Choice(usize),
    Text(String),
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    pub number: u32,
    pub form: SurveyForm,
    pub opened: Stamp,
    pub closes: Option<Timestamp>,
    /// Who has answered: the identity the record keeps, and nothing of what they answered.
    pub answered: BTreeSet<String>,
    /// The answers, each a ballot naming nobody, in an order that says nothing of who or when.
    pub ballots: Vec<Vec<BallotAnswer>>,
    pub closed: Option<Timestamp>,
    /// Minutes before the close at which the people who had not answered were reminded.
    pub reminded: Vec<u32>,
}

impl Survey {
    /// A survey as opened: nobody has answered yet.
    pub fn new(number: u32, form: SurveyForm, closes: Option<Timestamp>, opened: Stamp) -> Self {
        Survey {
            number,
            form,
            opened,
            closes,
            answered: BTreeSet::new(),
            ballots: Vec::new(),
            closed: None,
            reminded: Vec::new(),
        }
    }

    pub fn label(&self) -> String {
        survey_label(self.number)
    }

    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }
}

pub fn survey_label(number: u32) -> String {
    format!("S-{number}")
}

/// Reads `S-3` (any case, with or without the hyphen) as a survey number.
pub fn parse_survey_label(text: &str) -> Option<u32> {
    let text = text.trim();
    let digits = text.strip_prefix(['S', 's'])?;
    let digits = digits.strip_prefix('-').unwrap_or(digits);
    if digits.is_empty() || !digits.chars().all(|character| character.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|number| *number > 0)
}
