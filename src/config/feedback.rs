//! The group file's `[feedback]` section: the default timeframes of feedback requests and the
//! schedule of reminders, checked against each other.

use super::position::{ConfigProblem, SourceText};
use super::raw::RawFeedbackSection;
use crate::core::directory::{Answering, DeadlineDayEnd, FeedbackPolicy};
use toml::Spanned;

/// The longest timeframe or interval accepted in days. Ten years is far beyond any real request;
/// the limit keeps a mistyped number (3000 for 30) from moving due dates past any calendar the
/// record could show, and keeps date arithmetic far from its limits.
const LONGEST_DAYS: u32 = 3650;

/// The longest minimum interval between reminders accepted, in hours: one year.
const LONGEST_HOURS: u32 = 8760;

const DEADLINE_DAY_ENDS: [(&str, DeadlineDayEnd); 2] = [
    ("group-zone", DeadlineDayEnd::GroupZone),
    ("anywhere-on-earth", DeadlineDayEnd::AnywhereOnEarth),
];

const ANSWERING_POLICIES: [(&str, Answering); 2] = [
    ("any-member", Answering::AnyMember),
    ("designated", Answering::Designated),
];

/// The feedback policy a group file describes: the defaults of [`FeedbackPolicy`] for every key
/// it leaves out (and for a missing section), with a problem recorded for every invalid value.
pub(super) fn feedback_policy(
    section: Option<&RawFeedbackSection>,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> FeedbackPolicy {
    let defaults = FeedbackPolicy::default();
    let Some(section) = section else {
        return defaults;
    };
    // Each number is its value in the file, its default when absent, or None when out of range
    // (the problem is recorded then).
    let mut number =
        |value: &Option<Spanned<u32>>, key: &str, smallest: u32, largest: u32, default: u32| {
            bounded_number(value, key, smallest, largest, default, source, problems)
        };
    let acknowledge_within_days = number(
        &section.acknowledge_within_days,
        "acknowledge_within_days",
        1,
        LONGEST_DAYS,
        defaults.acknowledge_within_days,
    );
    let respond_within_days = number(
        &section.respond_within_days,
        "respond_within_days",
        1,
        LONGEST_DAYS,
        defaults.respond_within_days,
    );
    let overdue_reminder_every_days = number(
        &section.overdue_reminder_every_days,
        "overdue_reminder_every_days",
        0,
        LONGEST_DAYS,
        defaults.overdue_reminder_every_days,
    );
    let minimum_reminder_interval_hours = number(
        &section.minimum_reminder_interval_hours,
        "minimum_reminder_interval_hours",
        0,
        LONGEST_HOURS,
        defaults.minimum_reminder_interval_hours,
    );
    let escalate_after_days_overdue = number(
        &section.escalate_after_days_overdue,
        "escalate_after_days_overdue",
        0,
        LONGEST_DAYS,
        defaults.escalate_after_days_overdue,
    );
    // An out-of-range value is reported already; comparing it with the other would only add a
    // second problem about the same mistake.
    if let (Some(acknowledge), Some(respond)) = (acknowledge_within_days, respond_within_days) {
        check_acknowledging_comes_first(section, acknowledge, respond, source, problems);
    }

    let reminder_days_before = match &section.reminder_days_before {
        None => defaults.reminder_days_before,
        Some(days) => {
            let mut valid = Vec::new();
            for day in days {
                let value = *day.get_ref();
                if value == 0 || value > LONGEST_DAYS {
                    problems.push(source.problem_at(
                        day.span(),
                        format!(
                            "reminder_days_before holds {value}: a reminder goes out 1 to \
                             {LONGEST_DAYS} days before the due date (the due date itself is \
                             covered by overdue_reminder_every_days)"
                        ),
                    ));
                } else {
                    valid.push(value);
                }
            }
            // The order in the file does not matter to anyone reading it; the policy keeps the
            // earliest reminder (the most days before) first, once.
            valid.sort_unstable_by(|left, right| right.cmp(left));
            valid.dedup();
            valid
        }
    };

    let deadline_day_end = choice(
        &section.deadlines_end,
        "deadlines_end",
        &DEADLINE_DAY_ENDS,
        defaults.deadline_day_end,
        source,
        problems,
    );
    let answering = choice(
        &section.answering,
        "answering",
        &ANSWERING_POLICIES,
        defaults.answering,
        source,
        problems,
    );

    FeedbackPolicy {
        acknowledge_within_days: acknowledge_within_days
            .unwrap_or(defaults.acknowledge_within_days),
        respond_within_days: respond_within_days.unwrap_or(defaults.respond_within_days),
        reminder_days_before,
        overdue_reminder_every_days: overdue_reminder_every_days
            .unwrap_or(defaults.overdue_reminder_every_days),
        minimum_reminder_interval_hours: minimum_reminder_interval_hours
            .unwrap_or(defaults.minimum_reminder_interval_hours),
        escalate_after_days_overdue: escalate_after_days_overdue
            .unwrap_or(defaults.escalate_after_days_overdue),
        deadline_day_end,
        answering,
    }
}

/// The value of a numeric key, its default when it is absent, or None when it is out of range
/// (the problem is recorded then).
fn bounded_number(
    value: &Option<Spanned<u32>>,
    key: &str,
    smallest: u32,
    largest: u32,
    default: u32,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> Option<u32> {
    let Some(spanned) = value else {
        return Some(default);
    };
    let number = *spanned.get_ref();
    if number < smallest {
        problems
            .push(source.problem_at(spanned.span(), format!("{key} must be at least {smallest}")));
        return None;
    }
    if number > largest {
        problems
            .push(source.problem_at(spanned.span(), format!("{key} must be at most {largest}")));
        return None;
    }
    Some(number)
}

/// An organization acknowledges a request before it answers it, so the time to acknowledge may
/// not be longer than the time to respond. The problem is put at the key the file gives, the
/// response time when it gives both, since that is the one a shortened deadline changed.
fn check_acknowledging_comes_first(
    section: &RawFeedbackSection,
    acknowledge_within_days: u32,
    respond_within_days: u32,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) {
    if respond_within_days >= acknowledge_within_days {
        return;
    }
    let default_note = |given: bool| if given { "" } else { ", the default" };
    let problem = match (
        &section.respond_within_days,
        &section.acknowledge_within_days,
    ) {
        (Some(respond), acknowledge) => source.problem_at(
            respond.span(),
            format!(
                "respond_within_days ({respond_within_days}) is shorter than \
                 acknowledge_within_days ({acknowledge_within_days}{}); a request is \
                 acknowledged before it is answered",
                default_note(acknowledge.is_some())
            ),
        ),
        (None, Some(acknowledge)) => source.problem_at(
            acknowledge.span(),
            format!(
                "acknowledge_within_days ({acknowledge_within_days}) is longer than \
                 respond_within_days ({respond_within_days}, the default); a request is \
                 acknowledged before it is answered"
            ),
        ),
        // Both defaults: FeedbackPolicy::default() acknowledges well before it responds.
        (None, None) => return,
    };
    problems.push(problem);
}

/// One of a few named values, such as `answering = "designated"`; the default when the key is
/// absent or names none of them (the problem lists the accepted names then).
fn choice<T: Copy>(
    value: &Option<Spanned<String>>,
    key: &str,
    accepted: &[(&str, T)],
    default: T,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> T {
    let Some(spanned) = value else {
        return default;
    };
    if let Some((_, chosen)) = accepted.iter().find(|(name, _)| *name == spanned.get_ref()) {
        return *chosen;
    }
    let names: Vec<String> = accepted
        .iter()
        .map(|(name, _)| format!("{name:?}"))
        .collect();
    problems.push(source.problem_at(
        spanned.span(),
        format!(
            "{key} {:?} is not one of {}",
            spanned.get_ref(),
            names.join(", ")
        ),
    ));
    default
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The policy and the problem messages of a `[feedback]` section given as TOML text.
    fn policy_of(text: &str) -> (FeedbackPolicy, Vec<String>) {
        let section: RawFeedbackSection = toml::from_str(text).expect("valid TOML");
        let source = SourceText {
            path: Path::new("group.toml"),
            text,
        };
        let mut problems = Vec::new();
        let policy = feedback_policy(Some(&section), &source, &mut problems);
        let messages = problems
            .iter()
            .map(|problem| format!("{}:{} {}", problem.line, problem.column, problem.message))
            .collect();
        (policy, messages)
    }

    #[test]
    fn a_missing_section_or_key_takes_the_default() {
        let source = SourceText {
            path: Path::new("group.toml"),
            text: "",
        };
        let mut problems = Vec::new();
        assert_eq!(
            feedback_policy(None, &source, &mut problems),
            FeedbackPolicy::default()
        );
        assert_eq!(policy_of(""), (FeedbackPolicy::default(), vec![]));
    }

    #[test]
    fn given_values_are_kept_and_reminders_put_earliest_first() {
        let (policy, problems) = policy_of(
            "acknowledge_within_days = 3\nrespond_within_days = 21\n\
             reminder_days_before = [1, 5, 1, 2]\noverdue_reminder_every_days = 0\n\
             minimum_reminder_interval_hours = 0\nescalate_after_days_overdue = 0\n\
             deadlines_end = \"anywhere-on-earth\"\nanswering = \"designated\"\n",
        );
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(
            policy,
            FeedbackPolicy {
                acknowledge_within_days: 3,
                respond_within_days: 21,
                reminder_days_before: vec![5, 2, 1],
                overdue_reminder_every_days: 0,
                minimum_reminder_interval_hours: 0,
                escalate_after_days_overdue: 0,
                deadline_day_end: DeadlineDayEnd::AnywhereOnEarth,
                answering: Answering::Designated,
            }
        );
        let (policy, _) = policy_of("reminder_days_before = []\n");
        assert!(policy.reminder_days_before.is_empty());
    }

    #[test]
    fn a_response_time_shorter_than_the_default_acknowledgement_time_is_a_problem() {
        let (_, problems) = policy_of("respond_within_days = 3\n");
        assert_eq!(
            problems,
            [
                "1:23 respond_within_days (3) is shorter than acknowledge_within_days (7, the \
                 default); a request is acknowledged before it is answered"
            ]
        );
    }

    #[test]
    fn an_out_of_range_value_is_not_compared_again() {
        let (policy, problems) =
            policy_of("acknowledge_within_days = 0\nrespond_within_days = 3\n");
        assert_eq!(
            problems,
            ["1:27 acknowledge_within_days must be at least 1"]
        );
        assert_eq!(policy.respond_within_days, 3);
        assert_eq!(policy.acknowledge_within_days, 7);
    }
}
