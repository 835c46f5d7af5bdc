//! Reading a filled-in questionnaire: one line per question, its number first (`1: 4`,
//! `2) b`, `3. More time for discussion`). Likert questions take 1 to 5, choices a letter, a
//! number or the option's text, free text anything (or nothing); a free-text answer runs on
//! over the lines below it up to a blank line. What cannot be read is said
//! question by question, so the person can send it again.

use super::model::{BallotAnswer, LIKERT, QuestionKind, SurveyForm};

/// The ballot, or the problems found, each naming its question.
pub fn read_ballot(form: &SurveyForm, text: &str) -> Result<Vec<BallotAnswer>, Vec<String>> {
    let mut written: Vec<Option<String>> = vec![None; form.questions.len()];
    let mut problems = Vec::new();
    let mut current: Option<usize> = None;
    for line in text.lines().map(str::trim) {
        // A blank line ends a free-text answer: what follows it unnumbered (a greeting, a
        // name under the answers) is not part of the ballot, which must not name its writer.
        if line.is_empty() || line.starts_with('>') {
            current = None;
            continue;
        }
        let in_free_text =
            current.is_some_and(|index| matches!(form.questions[index].kind, QuestionKind::Text));
        match numbered(line) {
            // A numbered list inside a free-text answer ("1. more time") is part of it.
            Some((number, _))
                if in_free_text
                    && (1..=form.questions.len()).contains(&number)
                    && written[number - 1].is_some() =>
            {
                if let Some(answer) = current.and_then(|index| written[index].as_mut()) {
                    answer.push('\n');
                    answer.push_str(line);
                }
            }
            Some((number, rest)) if (1..=form.questions.len()).contains(&number) => {
                if written[number - 1].is_some() {
                    problems.push(format!("question {number} is answered twice"));
                }
                written[number - 1] = Some(rest.to_string());
                current = Some(number - 1);
            }
            Some((number, _)) => {
                problems.push(format!(
                    "there is no question {number}; the survey has {}",
                    form.questions.len()
                ));
                current = None;
            }
            // A free-text answer may run over several lines.
            None => match current {
                Some(index) if matches!(form.questions[index].kind, QuestionKind::Text) => {
                    if let Some(answer) = &mut written[index] {
                        answer.push('\n');
                        answer.push_str(line);
                    }
                }
                _ => {}
            },
        }
    }
    let mut ballot = Vec::with_capacity(form.questions.len());
    for (index, (question, written)) in form.questions.iter().zip(written).enumerate() {
        let number = index + 1;
        let written = written.map(|text| text.trim().to_string());
        let answer = match (&question.kind, written.as_deref()) {
            (QuestionKind::Text, None | Some("")) => BallotAnswer::Skipped,
            (QuestionKind::Text, Some(text)) => BallotAnswer::Text(text.to_string()),
            (_, None | Some("")) => {
                problems.push(format!("question {number} has no answer"));
                continue;
            }
            (QuestionKind::Likert, Some(text)) => match text.parse::<u8>() {
                Ok(scale @ 1..=5) => BallotAnswer::Scale(scale),
                _ => match LIKERT
                    .iter()
                    .position(|word| word.eq_ignore_ascii_case(text))
                {
                    Some(position) => BallotAnswer::Scale(position as u8 + 1),
                    None => {
                        problems.push(format!(
                            "question {number} takes 1 (strongly disagree) to 5 (strongly agree)"
                        ));
                        continue;
                    }
                },
            },
            (QuestionKind::Choice { options }, Some(text)) => match choice(options, text) {
                Some(option) => BallotAnswer::Choice(option),
                None => {
                    problems.push(format!(
                        "question {number} takes one of {}",
                        lettered(options)
                    ));
                    continue;
                }
            },
        };
        ballot.push(answer);
    }
    if problems.is_empty() {
        Ok(ballot)
    } else {
        Err(problems)
    }
}

/// `(a) Monthly, (b) Every two months`.
pub fn lettered(options: &[String]) -> String {
    options
        .iter()
        .enumerate()
        .map(|(index, option)| format!("({}) {option}", letter(index)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn letter(index: usize) -> char {
    char::from(b'a' + (index % 26) as u8)
}

fn choice(options: &[String], text: &str) -> Option<usize> {
    // "(b) Every two months", "b) Every two months": the letter as the questionnaire shows it.
    let text = text.trim();
    let lettered = text.strip_prefix('(').unwrap_or(text);
    if let Some((letter_text, rest)) = lettered.split_once(')')
        && letter_text.chars().count() == 1
        && !rest.trim().is_empty()
    {
        return choice(options, letter_text);
    }
    let bare = text
        .trim_matches(|c: char| c == '(' || c == ')' || c == '.')
        .trim();
    if bare.chars().count() == 1
        && let Some(character) = bare.chars().next()
        && character.is_ascii_alphabetic()
    {
        let index = (character.to_ascii_lowercase() as u8 - b'a') as usize;
        return (index < options.len()).then_some(index);
    }
    if let Ok(number) = bare.parse::<usize>() {
        return (1..=options.len()).contains(&number).then(|| number - 1);
    }
    options
        .iter()
        .position(|option| option.eq_ignore_ascii_case(bare))
}

/// `3: text`, `3) text`, `3. text`, `3 - text`: the number and the rest.
fn numbered(line: &str) -> Option<(usize, &str)> {
    let digits_end = line
        .char_indices()
        .find(|(_, character)| !character.is_ascii_digit())
        .map(|(offset, _)| offset)
        .unwrap_or(line.len());
    if digits_end == 0 || digits_end > 3 {
        return None;
    }
    let number = line[..digits_end].parse().ok()?;
    let rest = line[digits_end..].trim_start();
    let rest = rest
        .strip_prefix([':', ')', '.', '-'])
        .map(str::trim)
        .or_else(|| (digits_end == line.len()).then_some(""))?;
    Some((number, rest))
}
