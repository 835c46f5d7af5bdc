//! Tables over a survey run through the engine: reading filled-in questionnaires, who is asked
//! and who may answer, one answer per person, the results only past the minimum, and the
//! ballot that names nobody.

use super::ballot::read_ballot;
use super::model::{BallotAnswer, Question, QuestionKind, SurveyForm};
use crate::catalog::Catalog;
use crate::directory::{Group, Person, Role, SenderAddress};
use crate::effects::{Audience, Effect, Timer};
use crate::engine::{Channel, Decision, Engine, Input, Message};
use crate::state::{Change, GroupState};
use jiff::Timestamp;

fn at(text: &str) -> Timestamp {
    text.parse().expect("RFC 3339")
}

fn form(minimum_answers: u32) -> SurveyForm {
    SurveyForm {
        id: "annual".into(),
        title: "Annual survey".into(),
        minimum_answers,
        questions: vec![
            Question {
                text: "The work met expectations.".into(),
                kind: QuestionKind::Likert,
            },
            Question {
                text: "How often should we meet?".into(),
                kind: QuestionKind::Choice {
                    options: vec!["Monthly".into(), "Quarterly".into()],
                },
            },
            Question {
                text: "What should change?".into(),
                kind: QuestionKind::Text,
            },
        ],
    }
}

fn group(minimum_answers: u32) -> Group {
    let mut group = crate::directory::test_support::small_group_with_gus_and_pat();
    group.surveys = vec![form(minimum_answers)];
    // Pat the participant answers by mail too; an observer is not asked.
    for person in &mut group.people {
        if person.id == "pat.participant" {
            person.emails = vec!["pat@example.org".into()];
        }
    }
    group.people.push(Person {
        id: "olga.observer".into(),
        name: "Olga Observer".into(),
        matrix_ids: vec![],
        emails: vec!["olga@example.org".into()],
        organization: None,
        roles: vec![Role::Observer],
    });
    group
}

#[test]
fn filled_in_questionnaires_are_read_question_by_question() {
    let form = form(5);
    let cases: &[(&str, Result<Vec<BallotAnswer>, &str>)] = &[
        (
            "1: 4\n2: b\n3: More time\nfor discussion.",
            Ok(vec![
                BallotAnswer::Scale(4),
                BallotAnswer::Choice(1),
                BallotAnswer::Text("More time\nfor discussion.".into()),
            ]),
        ),
        (
            "1) agree\n2. Monthly",
            Ok(vec![
                BallotAnswer::Scale(4),
                BallotAnswer::Choice(0),
                BallotAnswer::Skipped,
            ]),
        ),
        // A blank line ends a free-text answer: the greeting and name below it are not read.
        (
            "1: 4\n2: b\n3: Shorter calls.\n\nBest,\nBea",
            Ok(vec![
                BallotAnswer::Scale(4),
                BallotAnswer::Choice(1),
                BallotAnswer::Text("Shorter calls.".into()),
            ]),
        ),
        (
            "1: 6\n2: b",
            Err("question 1 takes 1 (strongly disagree) to 5"),
        ),
        (
            "1: 3\n2: weekly",
            Err("question 2 takes one of (a) Monthly, (b) Quarterly"),
        ),
        ("1: 3", Err("question 2 has no answer")),
        ("1: 3\n2: a\n7: extra", Err("there is no question 7")),
        ("1: 3\n1: 4\n2: a", Err("question 1 is answered twice")),
    ];
    for (text, expected) in cases {
        match (read_ballot(&form, text), expected) {
            (Ok(ballot), Ok(expected)) => assert_eq!(&ballot, expected, "{text}"),
            (Err(problems), Err(expected)) => assert!(
                problems.iter().any(|problem| problem.contains(expected)),
                "{text}: {problems:?}"
            ),
            (read, expected) => panic!("{text}: read {read:?}, expected {expected:?}"),
        }
    }
}

struct Run {
    group: Group,
    state: GroupState,
}

impl Run {
    fn decide(
        &mut self,
        sender: SenderAddress,
        body: &str,
        channel: Channel,
        now: &str,
    ) -> Decision {
        let engine = Engine::new(Catalog::builtin().expect("valid catalog"), "!");
        let message = Message::new(&sender, body, channel);
        let decision =
            crate::several::decide_lines(&engine, &self.state, &self.group, &message, at(now));
        for change in &decision.changes {
            self.state.apply(change);
        }
        decision
    }

    fn mail(&mut self, address: &str, body: &str, now: &str) -> (String, Decision) {
        let decision = self.decide(
            SenderAddress::Email(address.into()),
            body,
            Channel::Mail,
            now,
        );
        let reply = decision
            .reply()
            .map(|reply| reply.plain_text())
            .unwrap_or_default();
        (reply, decision)
    }
}

/// Signed right under the answer, with no blank line: the name is still not kept.
const ANSWER: &str = "!survey answer S-1\n1: 4\n2: a\n3: Shorter calls.\nBea";

#[test]
fn a_survey_asks_members_and_participants_and_keeps_answers_without_names() {
    let mut run = Run {
        group: group(3),
        state: GroupState::default(),
    };
    let opened = run.decide(
        SenderAddress::Matrix("@ana:example.org".into()),
        "!survey open annual closes 2026-12-31",
        Channel::Matrix,
        "2026-12-07T10:00:00Z",
    );
    // One questionnaire by mail to each member and participant with an address; the observer
    // and staff are not asked; Sam (staff, no address) is not a respondent either.
    let asked: Vec<&Audience> = opened
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Announce { audience, .. } => Some(audience),
            _ => None,
        })
        .collect();
    assert_eq!(
        asked,
        [
            &Audience::Person("ana.lima".into()),
            &Audience::Person("bea.alac".into()),
            &Audience::Person("gus.gnso".into()),
            &Audience::Person("pat.participant".into()),
        ]
    );
    assert!(opened.effects.iter().any(|effect| matches!(
        effect,
        Effect::Schedule {
            timer: Timer::SurveyClose { number: 1 },
            ..
        }
    )));

    let (reply, decision) = run.mail("bea@example.org", ANSWER, "2026-12-08T10:00:00Z");
    assert!(
        reply.starts_with(
            "Thank you, Bea Alac: your answers to S-1 are recorded without your name."
        ),
        "{reply}"
    );
    // The mark names the person and nothing of the answer; the ballot names nobody.
    match decision.changes.as_slice() {
        [
            Change::SurveyAnswered { number: 1, person },
            Change::SurveyBallot { number: 1, answers },
        ] => {
            assert_eq!(person, "bea.alac");
            let ballot = serde_json::to_string(answers).unwrap();
            for identity in ["bea", "Bea", "alac", "ALAC", "example.org"] {
                assert!(!ballot.contains(identity), "{ballot}");
            }
        }
        other => panic!("a mark and a ballot: {other:?}"),
    }
    let cases = [
        ("bea@example.org", ANSWER, "You have already answered S-1"),
        (
            "olga@example.org",
            ANSWER,
            "asks the members and participants",
        ),
        (
            "gus@example.org",
            "!survey answer S-1\n1: 9\n2: a",
            "question 1 takes 1",
        ),
        (
            "gus@example.org",
            "!survey answer S-7\n1: 3",
            "\"S-7\" names no survey",
        ),
    ];
    for (address, body, expected) in cases {
        let (reply, decision) = run.mail(address, body, "2026-12-08T11:00:00Z");
        assert!(reply.contains(expected), "{address} {body:?}: {reply}");
        assert!(
            decision.changes.is_empty(),
            "{address} {body:?} changed nothing"
        );
    }
    // In the room the answer would be seen by everyone.
    let in_room = run.decide(
        SenderAddress::Matrix("@gus:example.org".into()),
        ANSWER,
        Channel::Matrix,
        "2026-12-08T12:00:00Z",
    );
    let refusal = in_room.reply().unwrap().plain_text();
    assert!(
        refusal.contains("in a direct message with me") && refusal.contains("by mail"),
        "{refusal}"
    );
    assert!(in_room.changes.is_empty());

    // Two answers of a minimum of three: closing publishes nothing but the count.
    run.mail(
        "pat@example.org",
        "!survey answer S-1\n1: 2\n2: b\n3: More remote options.",
        "2026-12-09T10:00:00Z",
    );
    let closed = run.decide(
        SenderAddress::Matrix("@sam:example.org".into()),
        "!survey close S-1",
        Channel::Matrix,
        "2026-12-10T10:00:00Z",
    );
    let published: Vec<String> = closed
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Announce { document, .. } => Some(document.plain_text()),
            _ => None,
        })
        .collect();
    assert_eq!(published.len(), 2, "room and list");
    assert!(
        published[0].contains("closed with 2 answers")
            && published[0].contains("nothing is published")
    );
    assert!(!published[0].contains("Shorter calls"), "{}", published[0]);
}

#[test]
fn results_past_the_minimum_are_counts_and_free_text_only() {
    let mut run = Run {
        group: group(2),
        state: GroupState::default(),
    };
    run.decide(
        SenderAddress::Matrix("@ana:example.org".into()),
        "!survey open annual",
        Channel::Matrix,
        "2026-12-07T10:00:00Z",
    );
    run.mail("bea@example.org", ANSWER, "2026-12-08T10:00:00Z");
    run.mail(
        "gus@example.org",
        "!survey answer S-1\n1: strongly agree\n2: b",
        "2026-12-08T11:00:00Z",
    );
    let closed = run.decide(
        SenderAddress::Matrix("@ana:example.org".into()),
        "!survey close S-1",
        Channel::Matrix,
        "2026-12-10T10:00:00Z",
    );
    let results = closed
        .effects
        .iter()
        .find_map(|effect| match effect {
            Effect::Announce {
                audience: Audience::List,
                document,
                ..
            } => Some(document.plain_text()),
            _ => None,
        })
        .expect("results on the list");
    for expected in [
        "closed with 2 answers",
        "- 4 agree: 1\n- 5 strongly agree: 1",
        "- (a) Monthly: 1\n- (b) Quarterly: 1",
        "3. What should change?\n- Shorter calls.",
    ] {
        assert!(results.contains(expected), "{expected}:\n{results}");
    }
    for name in ["Bea", "Gus", "bea.alac"] {
        assert!(!results.contains(name), "{results}");
    }
    let late = run
        .mail("pat@example.org", ANSWER, "2026-12-11T10:00:00Z")
        .0;
    assert!(late.contains("is closed"), "{late}");
}

#[test]
fn the_clock_reminds_only_those_who_have_not_answered_and_closes_the_survey() {
    let mut run = Run {
        group: group(2),
        state: GroupState::default(),
    };
    run.decide(
        SenderAddress::Matrix("@ana:example.org".into()),
        "!survey open annual closes 2026-12-31",
        Channel::Matrix,
        "2026-12-07T10:00:00Z",
    );
    run.mail("bea@example.org", ANSWER, "2026-12-08T10:00:00Z");
    let engine = Engine::new(Catalog::builtin().expect("valid catalog"), "!");
    let timer = Timer::SurveyReminder {
        number: 1,
        minutes_before: 1440,
    };
    let reminder = engine.decide(
        &run.state,
        &run.group,
        &Input::Timer {
            key: "S-1:remind:1440m",
            due: at("2027-01-01T07:59:00Z"),
            timer: &timer,
        },
        at("2027-01-01T07:59:00Z"),
    );
    let reminded: Vec<&Audience> = reminder
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Announce { audience, .. } => Some(audience),
            _ => None,
        })
        .collect();
    assert_eq!(
        reminded,
        [
            &Audience::Person("ana.lima".into()),
            &Audience::Person("gus.gnso".into()),
            &Audience::Person("pat.participant".into()),
        ]
    );
}

impl Run {
    /// A Matrix message in a direct conversation with the bot alone.
    fn direct(&mut self, user_id: &str, body: &str, now: &str) -> Decision {
        let engine = Engine::new(Catalog::builtin().expect("valid catalog"), "!");
        let sender = SenderAddress::Matrix(user_id.into());
        let message = Message {
            private: true,
            ..Message::new(&sender, body, Channel::Matrix)
        };
        let decision =
            crate::several::decide_lines(&engine, &self.state, &self.group, &message, at(now));
        for change in &decision.changes {
            self.state.apply(change);
        }
        decision
    }
}

#[test]
fn a_direct_message_with_the_bot_takes_a_survey_answer_and_says_what_it_is_for() {
    let mut run = Run {
        group: group(3),
        state: GroupState::default(),
    };
    // Opened from a direct message, the room still hears of it (the reply reaches only the
    // chair).
    let opened = run.direct(
        "@ana:example.org",
        "!survey open annual",
        "2026-12-07T10:00:00Z",
    );
    assert!(opened.effects.iter().any(|effect| matches!(
        effect,
        Effect::Announce {
            audience: Audience::Room,
            ..
        }
    )));

    let shown = run.direct(
        "@gus:example.org",
        "!survey show S-1",
        "2026-12-08T09:00:00Z",
    );
    let questions = shown.reply().unwrap().plain_text();
    assert!(
        questions.contains("    !survey answer S-1\n    1: 4\n    2: b\n    3: your words"),
        "{questions}"
    );

    let answered = run.direct("@gus:example.org", ANSWER, "2026-12-08T10:00:00Z");
    let reply = answered.reply().unwrap().plain_text();
    assert!(reply.contains("recorded without your name"), "{reply}");
    assert!(matches!(
        answered.changes.as_slice(),
        [Change::SurveyAnswered { person, .. }, Change::SurveyBallot { .. }] if person == "gus.gnso"
    ));
    let again = run.direct("@gus:example.org", ANSWER, "2026-12-08T11:00:00Z");
    assert!(
        again
            .reply()
            .unwrap()
            .plain_text()
            .contains("You have already answered S-1")
    );

    // A line that is no command is answered here (in the room it would be chat), with the open
    // survey and how to answer it.
    let chat = run.direct(
        "@pat:example.org",
        "hello, how does this work?",
        "2026-12-08T12:00:00Z",
    );
    let hint = chat
        .reply()
        .expect("an answer to chat in a direct message")
        .plain_text();
    assert!(
        hint.contains("!help lists them") && hint.contains("!survey answer S-1"),
        "{hint}"
    );
    assert!(chat.changes.is_empty());
    let in_room = run.decide(
        SenderAddress::Matrix("@pat:example.org".into()),
        "hello, how does this work?",
        Channel::Matrix,
        "2026-12-08T12:00:00Z",
    );
    assert!(
        in_room.effects.is_empty(),
        "chat in the room is not answered"
    );
}

/// Regression tests of the review of the first version.
#[test]
fn questionnaires_as_people_fill_them_in() {
    let form = form(5);
    // A numbered list inside the free-text answer is part of it; a choice written as the
    // questionnaire shows it is read by its letter.
    let ballot = read_ballot(
        &form,
        "1: 4\n2: (b) Quarterly\n3: Two things:\n1. more time\n2. fewer slides",
    )
    .expect("readable");
    assert_eq!(
        ballot,
        [
            BallotAnswer::Scale(4),
            BallotAnswer::Choice(1),
            BallotAnswer::Text("Two things:\n1. more time\n2. fewer slides".into()),
        ]
    );
    // A refusal names the question, never what was written (it goes back by mail, and the
    // refused mail is not kept).
    let problems = read_ballot(&form, "1: eleven\n2: weekly").unwrap_err();
    assert!(
        problems
            .iter()
            .all(|problem| !problem.contains("eleven") && !problem.contains("weekly")),
        "{problems:?}"
    );
}
