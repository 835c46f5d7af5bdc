//! The group file's `[[surveys]]`: each names a survey (`id`) and the TOML file with its
//! questions (`file`, relative to the group file). Each survey file is read and checked at
//! load, and its problems are reported at their own file, line and column, so a survey that
//! cannot be run is known before anyone types `!survey open`.

use super::position::{ConfigProblem, SourceText, read_failure};
use super::raw::RawSurveyEntry;
use crate::core::surveys::model::{DEFAULT_MINIMUM_ANSWERS, Question, QuestionKind, SurveyForm};
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// A survey file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurveyFile {
    title: String,
    minimum_answers: Option<Spanned<u32>>,
    #[serde(default)]
    questions: Vec<Spanned<RawQuestion>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    text: String,
    kind: Spanned<String>,
    options: Option<Vec<String>>,
}

pub(super) fn survey_forms(
    entries: &[Spanned<RawSurveyEntry>],
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> Vec<SurveyForm> {
    let folder = source.path.parent().unwrap_or(Path::new("."));
    let mut forms: Vec<SurveyForm> = Vec::new();
    for entry in entries {
        let entry = entry.get_ref();
        let id = entry.id.get_ref().trim().to_string();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            problems.push(source.problem_at(
                entry.id.span(),
                "a survey's id is a short name of letters, digits, - and _ (such as \"annual-2026\")",
            ));
            continue;
        }
        if forms.iter().any(|form| form.id.eq_ignore_ascii_case(&id)) {
            problems.push(source.problem_at(
                entry.id.span(),
                format!("a survey with id {id:?} is already given"),
            ));
            continue;
        }
        let path = folder.join(entry.file.get_ref());
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                problems.push(source.problem_at(
                    entry.file.span(),
                    format!(
                        "cannot read the survey file {}: {}",
                        path.display(),
                        read_failure(&error)
                    ),
                ));
                continue;
            }
        };
        let survey_source = SourceText {
            path: &path,
            text: &text,
        };
        let raw: RawSurveyFile = match toml::from_str(&text) {
            Ok(raw) => raw,
            Err(error) => {
                problems.push(survey_source.toml_problem(&error));
                continue;
            }
        };
        if let Some(form) = survey_form(id, raw, &survey_source, problems) {
            forms.push(form);
        }
    }
    forms
}

fn survey_form(
    id: String,
    raw: RawSurveyFile,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> Option<SurveyForm> {
    let before = problems.len();
    let minimum_answers = match &raw.minimum_answers {
        Some(minimum) if *minimum.get_ref() < 3 => {
            problems.push(source.problem_at(
                minimum.span(),
                "minimum_answers must be at least 3: with two answers, each respondent knows \
                 the other's",
            ));
            3
        }
        Some(minimum) => *minimum.get_ref(),
        None => DEFAULT_MINIMUM_ANSWERS,
    };
    if raw.questions.is_empty() {
        problems.push(source.whole_file_problem("a survey needs at least one [[questions]]"));
    }
    let mut questions = Vec::new();
    for question in &raw.questions {
        let span = question.span();
        let question = question.get_ref();
        let kind = match (question.kind.get_ref().as_str(), &question.options) {
            ("likert", None) => QuestionKind::Likert,
            ("text", None) => QuestionKind::Text,
            ("choice", Some(options)) if options.len() >= 2 && options.len() <= 26 => {
                QuestionKind::Choice {
                    options: options.clone(),
                }
            }
            ("choice", _) => {
                problems.push(source.problem_at(
                    span,
                    "a choice question needs options = [...], two to 26 of them",
                ));
                continue;
            }
            ("likert" | "text", Some(_)) => {
                problems.push(source.problem_at(span, "only a choice question has options"));
                continue;
            }
            (other, _) => {
                problems.push(source.problem_at(
                    question.kind.span(),
                    format!("kind {other:?} is not one of \"likert\", \"choice\", \"text\""),
                ));
                continue;
            }
        };
        questions.push(Question {
            text: question.text.trim().to_string(),
            kind,
        });
    }
    (problems.len() == before).then_some(SurveyForm {
        id,
        title: raw.title.trim().to_string(),
        minimum_answers,
        questions,
    })
}
