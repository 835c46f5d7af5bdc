//! The texts about calls and polls that several commands and timers share: how a call or poll is
//! announced, how to answer, and the tally by organization. Everything goes through
//! [`ReplyDocument`], so every piece of user text is escaped once when rendered as HTML.

use super::model::{ConsensusCall, Outcome, Poll, Stance};
use super::tally::{OrganizationPosition, Tally, tally};
use crate::directory::{Group, Person};
use crate::effects::{Audience, Effect};
use crate::feedback::render::{person_name, when};
use crate::reply::{LineBuilder, ReplyDocument};

/// A long text cut for a title or a subject, at a word where it can be.
pub fn shortened(text: &str, most: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= most {
        return text;
    }
    let cut: String = text.chars().take(most).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > most / 2 => cut[..space].to_string(),
        _ => cut,
    };
    format!("{cut}…")
}

/// `R-5 call for consensus "The draft position paper..."`.
pub fn call_title(call: &ConsensusCall) -> String {
    format!(
        "{} call for consensus \"{}\"",
        call.label(),
        shortened(&call.text, 80)
    )
}

/// `R-6 poll "Which date suits..."`.
pub fn poll_title(poll: &Poll) -> String {
    format!(
        "{} poll \"{}\"",
        poll.label(),
        shortened(&poll.question, 80)
    )
}

pub fn subject(group: &Group, label: &str, what: &str, text: &str) -> String {
    format!(
        "[{}] {label}: {what} ({})",
        group.short_name,
        shortened(text, 60)
    )
}

fn member_label(person: &Person) -> String {
    let role = if person.occupies_seat() {
        String::new()
    } else {
        person
            .roles
            .iter()
            .find(|role| role.name() != "member")
            .map(|role| format!(", {role}"))
            .unwrap_or_default()
    };
    match &person.organization {
        Some(organization) => format!("{} ({organization}{role})", person.name),
        None if role.is_empty() => person.name.clone(),
        None => format!("{} ({})", person.name, role.trim_start_matches(", ")),
    }
}

/// The lines telling members how to answer a call.
pub fn how_to_answer_call(document: &mut ReplyDocument, call: &ConsensusCall, prefix: &str) {
    let label = call.label();
    document.push_line(
        LineBuilder::new()
            .text("Answer with ")
            .code(format!("{prefix}support {label}"))
            .text(", ")
            .code(format!("{prefix}object {label} <reason>"))
            .text(" (a reason is required) or ")
            .code(format!("{prefix}abstain {label}"))
            .text(". By mail, answer this mail with the command, or the single word ")
            .code("support")
            .text(" or ")
            .code("abstain")
            .text(
                ". Silence is recorded as no objection. This is a call for consensus, not a vote.",
            ),
    );
}

/// The lines telling everyone how to answer a poll.
pub fn how_to_answer_poll(document: &mut ReplyDocument, poll: &Poll, prefix: &str) {
    let label = poll.label();
    document.push_line(
        LineBuilder::new()
            .text("Answer in the room's poll, with ")
            .code(format!("{prefix}vote {label} <option number>"))
            .text(", or by mail with the option's number as the first line of your answer to this mail. Your latest answer counts. A poll gauges support; it is not a vote."),
    );
}

/// The same announcement to the room and the list, about one record.
pub fn to_room_and_list(subject: &str, about: &str, document: &ReplyDocument) -> Vec<Effect> {
    [Audience::Room, Audience::List]
        .into_iter()
        .map(|audience| Effect::Announce {
            audience,
            subject: subject.to_string(),
            about: Some(about.to_string()),
            document: document.clone(),
        })
        .collect()
}

/// The announcement of a new call, for the room and the list.
pub fn call_announcement(group: &Group, call: &ConsensusCall, prefix: &str) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .strong(format!("{} call for consensus", call.label()))
            .text(format!(
                " by {}: {}",
                person_name(group, &call.opened.by),
                call.text
            )),
    );
    if let Some(closes) = call.closes {
        document.push_line(LineBuilder::new().text(format!("Closes {}.", when(group, closes))));
    }
    how_to_answer_call(&mut document, call, prefix);
    document
}

/// The poll's text for mail (and the fallback of the Matrix poll): the question and its
/// numbered options.
pub fn poll_announcement(group: &Group, poll: &Poll, prefix: &str) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(
        LineBuilder::new()
            .strong(format!("{} poll", poll.label()))
            .text(format!(
                " by {}: {}",
                person_name(group, &poll.opened.by),
                poll.question
            )),
    );
    document.push_list(
        poll.numbered_options()
            .map(|(number, option)| LineBuilder::new().text(format!("{number}. {option}")))
            .collect(),
    );
    let mut details = Vec::new();
    if let Some(closes) = poll.closes {
        details.push(format!("Closes {}.", when(group, closes)));
    }
    if poll.hidden {
        details.push("The tally stays hidden until the poll closes.".to_string());
    }
    if !details.is_empty() {
        document.push_line(LineBuilder::new().text(details.join(" ")));
    }
    how_to_answer_poll(&mut document, poll, prefix);
    document
}

fn stance_word(stance: Stance) -> &'static str {
    match stance {
        Stance::Support => "support",
        Stance::Object => "objection",
        Stance::Abstain => "abstention",
    }
}

/// The tally of a call: counts, each organization's position, people without a seat apart,
/// and the open objections with their reasons.
pub fn call_tally(group: &Group, call: &ConsensusCall) -> ReplyDocument {
    let tally = tally(group, |person| {
        call.answers.get(person).map(|answer| answer.stance)
    });
    let mut document = ReplyDocument::new();
    document.push_line(heading(
        group,
        call_title(call),
        call.is_open(),
        call.closes,
    ));
    let count = |stance| tally.counted.get(&stance).copied().unwrap_or(0);
    let silent = tally.silent_organizations();
    document.push_line(LineBuilder::new().text(format!(
        "Members: {} support, {} object, {} abstain; {} of {} organizations have not answered \
         (silence is no objection).",
        count(Stance::Support),
        count(Stance::Object),
        count(Stance::Abstain),
        silent.len(),
        group.organizations.len()
    )));
    organization_lines(&mut document, &tally, |stance| {
        stance_word(*stance).to_string()
    });
    if !silent.is_empty() {
        document.push_line(LineBuilder::new().text(format!("No answer: {}.", silent.join(", "))));
    }
    others_line(&mut document, &tally, |stance| {
        stance_word(*stance).to_string()
    });
    let objections: Vec<LineBuilder> = call
        .objections()
        .map(|(person, answer)| {
            let who = group
                .person_by_id(person)
                .map(member_label)
                .unwrap_or_else(|| person.clone());
            LineBuilder::new().text(format!(
                "{who}: {}",
                answer.reason.as_deref().unwrap_or("(no reason given)")
            ))
        })
        .collect();
    if objections.is_empty() {
        document.push_line(LineBuilder::new().text("No open objections."));
    } else {
        document.push_line(LineBuilder::new().text("Open objections:"));
        document.push_list(objections);
    }
    outcome_lines(&mut document, group, &call.outcome);
    document
}

/// The tally of a poll (or, while a hidden poll is open, only how many have answered).
pub fn poll_tally(group: &Group, poll: &Poll) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    document.push_line(heading(
        group,
        poll_title(poll),
        poll.is_open(),
        poll.closes,
    ));
    if !poll.tally_visible() {
        document.push_line(LineBuilder::new().text(format!(
            "{} people have answered. The tally is hidden until the poll closes.",
            poll.answers.len()
        )));
        return document;
    }
    let tally = tally(group, |person| {
        poll.answers.get(person).map(|answer| answer.option)
    });
    let others_count = |option: usize| {
        tally
            .others
            .iter()
            .filter(|(_, answer)| *answer == option)
            .count()
    };
    document.push_list(
        poll.numbered_options()
            .map(|(number, option)| {
                let members = tally.counted.get(&(number - 1)).copied().unwrap_or(0);
                let others = others_count(number - 1);
                let others = if others > 0 {
                    format!(" (and {others} without a seat)")
                } else {
                    String::new()
                };
                LineBuilder::new().text(format!(
                    "{number}. {option}: {members} member{}{others}",
                    if members == 1 { "" } else { "s" }
                ))
            })
            .collect(),
    );
    let option_name = |option: &usize| format!("{}. {}", option + 1, poll.options[*option]);
    organization_lines(&mut document, &tally, option_name);
    let silent = tally.silent_organizations();
    if !silent.is_empty() {
        document.push_line(LineBuilder::new().text(format!("No answer: {}.", silent.join(", "))));
    }
    others_line(&mut document, &tally, option_name);
    outcome_lines(&mut document, group, &poll.outcome);
    document
}

/// "R-5 call for consensus "...", open until 2026-12-20 22:59 UTC (...)." in bold title.
fn heading(
    group: &Group,
    title: String,
    open: bool,
    closes: Option<jiff::Timestamp>,
) -> LineBuilder {
    let state = match (open, closes) {
        (true, Some(closes)) => format!("open until {}", when(group, closes)),
        (true, None) => "open".to_string(),
        (false, _) => "closed".to_string(),
    };
    LineBuilder::new().strong(title).text(format!(", {state}."))
}

fn organization_lines<K: Copy + Ord>(
    document: &mut ReplyDocument,
    tally: &Tally<K>,
    name: impl Fn(&K) -> String,
) {
    let lines: Vec<LineBuilder> = tally
        .organizations
        .iter()
        .filter(|organization| !organization.answers.is_empty())
        .map(|organization| {
            let text = match &organization.position {
                OrganizationPosition::Agreed(answer) => {
                    let people = organization
                        .answers
                        .iter()
                        .map(|(person, _)| person.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("{}: {} ({people})", organization.short_name, name(answer))
                }
                _ => {
                    let people = organization
                        .answers
                        .iter()
                        .map(|(person, answer)| format!("{}: {}", person.name, name(answer)))
                        .collect::<Vec<_>>()
                        .join("; ");
                    format!("{}: divided ({people})", organization.short_name)
                }
            };
            LineBuilder::new().text(text)
        })
        .collect();
    if !lines.is_empty() {
        document.push_line(LineBuilder::new().text("By organization:"));
        document.push_list(lines);
    }
}

fn others_line<K: Copy + Ord>(
    document: &mut ReplyDocument,
    tally: &Tally<K>,
    name: impl Fn(&K) -> String,
) {
    if tally.others.is_empty() {
        return;
    }
    let people = tally
        .others
        .iter()
        .map(|(person, answer)| format!("{}: {}", member_label(person), name(answer)))
        .collect::<Vec<_>>()
        .join("; ");
    document.push_line(LineBuilder::new().text(format!(
        "Without a seat (never counted for an organization): {people}."
    )));
}

/// The designation, minority views and Chair's report of an outcome, where there are any.
pub fn outcome_lines(document: &mut ReplyDocument, group: &Group, outcome: &Outcome) {
    if let Some(designation) = &outcome.designation {
        let text = designation
            .text
            .as_deref()
            .map(|text| format!(": {text}"))
            .unwrap_or_default();
        document.push_line(
            LineBuilder::new()
                .text("Designation: ")
                .strong(designation.level.clone())
                .text(format!(
                    "{text} (by {}, adopted {})",
                    person_name(group, &designation.stamp.by),
                    when(group, designation.stamp.at)
                )),
        );
    }
    if !outcome.minority_views.is_empty() {
        document.push_line(LineBuilder::new().text("Minority views:"));
        document.push_list(
            outcome
                .minority_views
                .iter()
                .map(|view| {
                    let who = group
                        .person_by_id(&view.person)
                        .map(member_label)
                        .unwrap_or_else(|| view.person.clone());
                    LineBuilder::new().text(format!("{who}: {}", view.text))
                })
                .collect(),
        );
    }
    if let Some((text, stamp)) = &outcome.chair_report {
        document.push_line(LineBuilder::new().text(format!(
            "Chair's report (adopted by {}, {}):",
            person_name(group, &stamp.by),
            when(group, stamp.at)
        )));
        document.push_preformatted(text.clone());
    }
    if let Some((url, stamp)) = &outcome.published {
        let mut line = LineBuilder::new().text(format!(
            "Statement published {} (recorded by {})",
            when(group, stamp.at),
            person_name(group, &stamp.by)
        ));
        if let Some(url) = url {
            line = line.text(": ").link(url.clone());
        }
        document.push_line(line);
    }
}
