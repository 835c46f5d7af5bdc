//! The questionnaire as mailed, and the results as published: counts per answer and the
//! free-text answers, nothing else.

use super::ballot::{letter, lettered};
use super::model::{BallotAnswer, LIKERT, QuestionKind, Survey};
use crate::directory::Group;
use crate::feedback::render::when;
use crate::reply::{LineBuilder, ReplyDocument};

/// How the reader of a questionnaire answers it.
#[derive(Debug, Clone, Copy)]
pub enum AnswerBy<'a> {
    /// By answering the mail that carries it.
    MailReply,
    /// By the command, in a direct message with the bot (or by mail); holds the command prefix.
    Command(&'a str),
}

pub fn questionnaire(group: &Group, survey: &Survey, answer_by: AnswerBy) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .strong(format!("{} {}", survey.label(), survey.form.title))
            .text(format!(" ({})", group.short_name)),
    );
    let how = match answer_by {
        AnswerBy::MailReply => "Answer this mail with one line per question".to_string(),
        AnswerBy::Command(prefix) => format!(
            "Answer in a direct message with me (or by mail): {prefix}survey answer {} on the \
             first line, then one line per question",
            survey.label()
        ),
    };
    document.push_line(LineBuilder::new().text(format!(
        "Your answers are stored without your name: the record keeps only that you answered. \
         {how}, its number first; a blank line ends an answer, so a greeting or signature below \
         your answers is not recorded:"
    )));
    document.push_list(
        survey
            .form
            .questions
            .iter()
            .enumerate()
            .map(|(index, question)| {
                let how = match &question.kind {
                    QuestionKind::Likert => "1 strongly disagree to 5 strongly agree".to_string(),
                    QuestionKind::Choice { options } => lettered(options),
                    QuestionKind::Text => "free text, may be left out".to_string(),
                };
                LineBuilder::new().text(format!("{}. {} ({how})", index + 1, question.text))
            })
            .collect(),
    );
    let example: Vec<String> = survey
        .form
        .questions
        .iter()
        .enumerate()
        .map(|(index, question)| match &question.kind {
            QuestionKind::Likert => format!("{}: 4", index + 1),
            QuestionKind::Choice { .. } => format!("{}: b", index + 1),
            QuestionKind::Text => format!("{}: your words", index + 1),
        })
        .collect();
    let example = match answer_by {
        AnswerBy::MailReply => example.join("\n"),
        AnswerBy::Command(prefix) => format!(
            "{prefix}survey answer {}\n{}",
            survey.label(),
            example.join("\n")
        ),
    };
    document.push_line(LineBuilder::new().text("For example:"));
    document.push_preformatted(example);
    if let Some(closes) = survey.closes {
        document.push_line(LineBuilder::new().text(format!("Closes {}.", when(group, closes))));
    }
    document
}

pub fn results(group: &Group, survey: &Survey) -> ReplyDocument {
    let answers = survey.ballots.len();
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .strong(format!("{} {}", survey.label(), survey.form.title))
            .text(format!(
                " ({}) closed with {answers} answer{}.",
                group.short_name,
                if answers == 1 { "" } else { "s" }
            )),
    );
    if (answers as u32) < survey.form.minimum_answers {
        document.push_line(LineBuilder::new().text(format!(
            "Results are published only when at least {} people answered, so that no answer can \
             be told apart: nothing is published.",
            survey.form.minimum_answers
        )));
        return document;
    }
    for (index, question) in survey.form.questions.iter().enumerate() {
        let given = survey.ballots.iter().filter_map(|ballot| ballot.get(index));
        document.push_line(LineBuilder::new().text(format!("{}. {}", index + 1, question.text)));
        match &question.kind {
            QuestionKind::Likert => {
                let mut counts = [0usize; 5];
                for answer in given {
                    if let BallotAnswer::Scale(scale @ 1..=5) = answer {
                        counts[usize::from(*scale) - 1] += 1;
                    }
                }
                document.push_list(
                    LIKERT
                        .iter()
                        .enumerate()
                        .map(|(level, word)| {
                            LineBuilder::new().text(format!(
                                "{} {word}: {}",
                                level + 1,
                                counts[level]
                            ))
                        })
                        .collect(),
                );
            }
            QuestionKind::Choice { options } => {
                let mut counts = vec![0usize; options.len()];
                for answer in given {
                    if let BallotAnswer::Choice(option) = answer
                        && *option < counts.len()
                    {
                        counts[*option] += 1;
                    }
                }
                document.push_list(
                    options
                        .iter()
                        .enumerate()
                        .map(|(option, text)| {
                            LineBuilder::new().text(format!(
                                "({}) {text}: {}",
                                letter(option),
                                counts[option]
                            ))
                        })
                        .collect(),
                );
            }
            QuestionKind::Text => {
                // Sorted, each question on its own: the order of the ballots (which, until a
                // restart, is the order they came in) must not line an answer up with the
                // marks of who answered when, nor with the same ballot's other answers.
                let mut texts: Vec<&String> = given
                    .filter_map(|answer| match answer {
                        BallotAnswer::Text(text) => Some(text),
                        _ => None,
                    })
                    .collect();
                texts.sort_by_key(|text| text.to_lowercase());
                let texts: Vec<LineBuilder> = texts
                    .into_iter()
                    .map(|text| LineBuilder::new().text(text.clone()))
                    .collect();
                if texts.is_empty() {
                    document.push_line(LineBuilder::new().text("(no answers)"));
                } else {
                    document.push_list(texts);
                }
            }
        }
    }
    document
}
